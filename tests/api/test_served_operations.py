"""Every operation the server answers is covered by the codec round-trip tests."""

from __future__ import annotations

import pytest

from pocketcloud.api.app import REGISTRIES
from tests.api.test_codec_roundtrip import OPERATIONS


@pytest.mark.parametrize("service", sorted(REGISTRIES))
def test_served_operations_are_round_tripped(service: str) -> None:
    """botocore's serializer/parser round trips run for each served operation of ``service``."""
    served = set(REGISTRIES[service].handlers)
    assert served, f"{service} serves nothing"
    assert served <= set(OPERATIONS[service]), served - set(OPERATIONS[service])
