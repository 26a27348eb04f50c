"""Loads the tests' one plugin, tests/plugin: shared fixtures, helpers and marker hooks."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.plugin")

pytest_plugins = ["tests.plugin"]
