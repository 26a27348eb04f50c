"""Loads the tests' one plugin, tests/plugin: shared fixtures, helpers and marker hooks."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.plugin")

# re-exported for modules that still import them from here (tests/explain, tests/console,
# tests/cli/test_doctor.py); new code imports tests.plugin.clouds
from tests.plugin.clouds import BIN, PROFILE, Server, free_port, make_server  # noqa: E402

pytest_plugins = ["tests.plugin"]
__all__ = ["BIN", "PROFILE", "Server", "free_port", "make_server"]
