"""The tests' one pytest plugin (loaded by tests/conftest.py): shared fixtures and helpers,
and the hooks behind the markers registered in pyproject.toml.

- clouds.py     ``Server``, ``make_server``; fixtures ``server``, ``cloud``, ``ec2``, ``iam``,
                ``sts``
- instances.py  ``Machine``, ``launch``, ``perm``, ``ssh_group``, ``listing``, the probe's
                listeners; fixtures ``debian_image``, ``image_id``, ``key``
- hosting.py    ``User``, ``deploy``, ``get``, ``wait_for``; fixtures ``user``, ``project``
- vpcs.py, shapes.py, probe.py   helpers: fresh VPCs and filters, botocore output shapes,
                the network probe script (also run inside instances)

Markers: ``live`` (the running system: a test cloud, instances, the host's kernel or image
cache; everything else is pure), ``needs_root`` (skipped unless run as root) and
``shared_cloud`` (the module's ``cloud`` is the session's ``server``). A test that uses
``server`` or ``cloud`` is ``live`` whether or not its module says so.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

pytest_plugins = ["tests.plugin.clouds", "tests.plugin.instances", "tests.plugin.hosting"]

#: a test using one of these fixtures talks to a running cloud
CLOUD_FIXTURES = frozenset({"server", "cloud"})


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``live`` every test that uses a cloud, marked by its module or not."""
    for item in items:
        if CLOUD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a ``needs_root`` test unless this process runs as root."""
    if item.get_closest_marker("needs_root") is not None and os.geteuid() != 0:
        pytest.skip("needs root")


#: how much of the test cloud's server log a failed test's report carries
LOG_TAIL_LINES = 80


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[Any, Any, None]:
    """A live test that fails shows the end of its cloud's server log (the reconciler's
    errors are there, and the log is gone once the cloud is removed)."""
    del call
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for name in sorted(CLOUD_FIXTURES & set(funcargs)):
        log = getattr(funcargs[name], "log", None)
        if log is not None and log.is_file():
            tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            report.sections.append((f"{name}'s server log (last lines)", "\n".join(tail)))
