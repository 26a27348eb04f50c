"""``pocketcloud doctor``, and the same checks before ``up`` and ``serve`` start.

Every finding is one line; a failure names what is missing, why it matters and the
command that fixes it. The exit code is 1 when something blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pocketcloud.config import Paths, load_settings, state_dir
from pocketcloud.doctor.checks import TOOLS, Finding, blocking, diagnose, install_fix
from pocketcloud.doctor.gather import elsewhere, gather

console = Console(soft_wrap=True, highlight=False)
_COLOUR = {True: "green", False: "red"}


def findings(root: Path) -> list[Finding]:
    """Every check on this machine and the cloud in ``root`` (reads the machine)."""
    return diagnose(gather(root, load_settings(Paths(root))))


def install_hint(tool: str) -> str:
    """What makes ``tool`` found: its package's apt-get line or the PATH that has it."""
    packages = {t.name: t.package for t in TOOLS} | {"debootstrap": "debootstrap"}
    if tool in packages:
        return install_fix(packages[tool], elsewhere(tool))
    return "`pocketcloud doctor` checks every prerequisite"


def show(finding: Finding, out: Console) -> None:
    """Print one finding as one line: green when fine, yellow a warning, red a failure."""
    colour = "yellow" if not finding.ok and not finding.blocks else _COLOUR[finding.ok]
    out.print(f"[{colour}]{escape(finding.line())}[/]")


def preflight(root: Path, out: Console) -> None:
    """Before ``up``/``serve``: print every failure; typer.Exit(1) if one blocks a server.

    Findings a server can run without (rsync, a state directory mode it fixes itself)
    are printed as warnings and do not stop it.
    """
    found = findings(root)
    for finding in found:
        if not finding.ok:
            show(finding if finding.serve else _as_warning(finding), out)
    if blocking(found, serving=True):
        out.print("[red]pocketcloud did not start; `pocketcloud doctor` checks again[/]")
        raise typer.Exit(1)


def _as_warning(finding: Finding) -> Finding:
    """The same finding, shown as a warning (it does not stop a server)."""
    return Finding(finding.check, False, finding.what, finding.why, finding.fix, blocks=False)


def register(app: typer.Typer) -> None:
    """Add ``doctor`` to the CLI."""

    @app.command()
    def doctor(
        state: Annotated[
            Path | None,
            typer.Option("--state-dir", help="State directory (default $POCKETCLOUD_HOME)"),
        ] = None,
    ) -> None:
        """Check every prerequisite of the cloud; each failure is one line with its fix."""
        root = state_dir(state)
        found = findings(root)
        for finding in found:
            show(finding, console)
        failed = blocking(found)
        if failed:
            console.print(f"[red]{len(failed)} problem(s) block pocketcloud on this machine[/]")
            raise typer.Exit(1)
        console.print("[green]this machine is ready for pocketcloud[/]")
