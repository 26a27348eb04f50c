"""Nothing is local to tests/deploy. These names moved to tests/plugin; they are re-exported
for the modules that still import them from here (tests/explain)."""

from __future__ import annotations

from tests.plugin.clouds import cloud
from tests.plugin.hosting import User, deploy, get, project, user, wait_for

__all__ = ["User", "cloud", "deploy", "get", "project", "user", "wait_for"]
