"""The package's import graph keeps the layout's arrows (docs/architecture.md): no cycles,
lazy imports included, and each subsystem imports only what sits inward of it."""

from __future__ import annotations

import ast
import sys

import pytest

from tests.architecture.imports import cycles, graph, modules

#: subsystem → the pocketcloud subsystems it must never import
FORBIDDEN = {
    # hosting is a client of the cloud, as any AWS user: boto3, OpenSSH, rsync
    "deploy": {"api", "services", "store", "host", "reconcile", "cli", "explain", "doctor"},
    # what runs inside an instance is the standard library and itself
    "guest": {"api", "services", "store", "host", "reconcile", "cli", "deploy", "iam", "config"},
    # the policy language is pure
    "iam": {"api", "services", "store", "host", "reconcile", "cli", "deploy", "explain"},
    "store": {"api", "services", "host", "reconcile", "cli", "deploy", "explain", "iam"},
    "host": {"api", "services", "store", "reconcile", "cli", "deploy", "explain", "iam"},
    "services": {"api", "cli", "reconcile", "deploy", "explain", "doctor"},
    "reconcile": {"api", "cli", "deploy", "explain", "doctor"},
    # understanding reads the cloud (the store's read-only reader, read-only host
    # commands) and never calls its operations
    "explain": {"api", "services", "reconcile", "cli", "doctor"},
    "doctor": {"api", "services", "store", "reconcile", "cli", "deploy", "explain"},
    "api": {"cli", "reconcile"},
}


def _subsystem(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


class TestImportGraph:
    def test_the_graph_is_read(self) -> None:
        """The reader finds the package and its edges (a broken reader would pass the rest)."""
        edges = graph()
        assert "pocketcloud.api.app" in edges
        assert "pocketcloud.api.registry" in edges["pocketcloud.api.app"]
        assert cycles({"a": frozenset({"b"}), "b": frozenset({"a"}), "c": frozenset()}) == [
            ["a", "b"]
        ]

    def test_no_import_cycles(self) -> None:
        """No two modules import each other, directly or around a loop, lazily or not."""
        assert cycles(graph()) == []

    @pytest.mark.parametrize("subsystem", sorted(FORBIDDEN))
    def test_imports_point_inward(self, subsystem: str) -> None:
        """A subsystem imports nothing that sits outward of it."""
        wrong = sorted(
            f"{module} -> {target}"
            for module, targets in graph().items()
            if _subsystem(module) == subsystem
            for target in targets
            if _subsystem(target) in FORBIDDEN[subsystem]
        )
        assert wrong == []

    def test_the_guest_needs_only_the_standard_library(self) -> None:
        """guest/ is copied into instances and run by their python3: it imports the standard
        library and itself, nothing else."""
        outside = []
        for module, path in modules().items():
            if _subsystem(module) != "guest":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    allowed = name.startswith("pocketcloud.guest") or name == "__future__"
                    if not allowed and name.split(".")[0] not in sys.stdlib_module_names:
                        outside.append(f"{module} -> {name}")
        assert outside == []
