"""What ``explain reach`` answers: a verdict and the evidence of each layer (pure values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: the layers a connection crosses, in order ("none": nothing blocks)
LAYERS = ("instance", "route", "security-group", "egress", "listener", "answer")
#: a layer's finding: (ok, evidence, summary when it blocks, fix)
Finding = tuple[bool | None, list[str], str, str | None]


@dataclass(frozen=True)
class Layer:
    """One layer's finding: passed (True), blocks (False) or not reached/unknown (None)."""

    name: str
    ok: bool | None
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The layer as plain data."""
        return {"name": self.name, "ok": self.ok, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class Verdict:
    """The first layer that blocks (``layer``), or "none", with one line and the fix."""

    layer: str
    ok: bool
    summary: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The verdict as plain data."""
        return {"layer": self.layer, "ok": self.ok, "summary": self.summary, "fix": self.fix}


@dataclass(frozen=True)
class Report:
    """The whole answer: the verdict, then the evidence per layer."""

    verdict: Verdict
    layers: list[Layer]
    target: str = ""
    port: int = 0
    source: str = "host"

    def to_json(self) -> dict[str, Any]:
        """The report as plain data (what ``--json`` prints)."""
        return {
            "target": self.target,
            "port": self.port,
            "source": self.source,
            "verdict": self.verdict.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
        }

    def text(self) -> str:
        """The verdict line, its fix, then each layer's evidence (what the CLI prints)."""
        mark = {True: "ok", False: "BLOCKED", None: "-"}
        head = f"{'OK' if self.verdict.ok else 'BLOCKED'} [{self.verdict.layer}] "
        lines = [head + self.verdict.summary]
        if self.verdict.fix:
            lines.append(f"  fix: {self.verdict.fix}")
        for layer in self.layers:
            lines.append(f"{layer.name}: {mark[layer.ok]}")
            lines += [f"  {line}" for line in layer.evidence]
        return "\n".join(lines)
