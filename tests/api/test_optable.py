"""docs/operations.md is generated from the code; every documented filter is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketcloud.api import optable
from pocketcloud.api.app import REGISTRIES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"


def test_document_matches_the_code() -> None:
    """The committed table is what the generator prints now (regenerate it with
    ``python -m pocketcloud.api.optable > docs/operations.md``)."""
    assert DOC.read_text() == optable.render()


def test_readme_lists_the_operations() -> None:
    """README's list of supported operations, between its markers, is the generated one."""
    text = (ROOT / "README.md").read_text()
    inside = text.split("<!-- operations -->\n", 1)[1].split("<!-- /operations -->", 1)[0]
    assert inside == optable.summary()


@pytest.mark.parametrize("operation", sorted(REGISTRIES["ec2"].handlers))
def test_documented_filters_accepted(operation: str) -> None:
    """Each EC2 operation accepts every filter AWS documents for it."""
    if not optable.documented_filters(operation):
        return
    supported = REGISTRIES["ec2"].filters.get(operation, ())
    assert optable.missing_filters(operation, supported) == []


def test_filter_names_parsed_from_the_model() -> None:
    """The model's Filters documentation yields the top-level names, not nested values."""
    names = optable.documented_filters("DescribeImages")
    assert "owner-alias" in names
    assert "scan-result.highest-finding-severity-label" in names
    assert "critical" not in names
