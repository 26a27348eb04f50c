"""Form decoding gives exactly what ``urllib.parse.parse_qsl`` gives, faster."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pocketcloud.api.form import form_pairs

#: the characters that mean something in a form, and some that need percent-escapes
FORM_TEXT = st.lists(
    st.sampled_from([*"ab=&+%;.~-_ 2F0E9é", "%2F", "%20", "%E2%82%AC", "%FF"]), max_size=30
).map("".join)


def _reference(text: str, max_fields: int = 100) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=max_fields)


@given(FORM_TEXT)
def test_same_pairs_or_same_error_as_parse_qsl(text: str) -> None:
    """For any text, the pairs are parse_qsl's, or both raise the same kind of error."""
    try:
        expected: object = _reference(text)
    except (UnicodeDecodeError, ValueError) as error:
        expected = type(error)
    try:
        got: object = form_pairs(text, 100)
    except (UnicodeDecodeError, ValueError) as error:
        got = type(error)
    assert got == expected


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        (
            "Action=DescribeVpcs&Version=2016-11-15",
            [("Action", "DescribeVpcs"), ("Version", "2016-11-15")],
        ),
        ("a=x+y%2Bz", [("a", "x y+z")]),
        ("flag&&b=", [("flag", ""), ("b", "")]),
        ("c=%E2%82%AC", [("c", "€")]),
    ],
)
def test_known_forms(text: str, pairs: list[tuple[str, str]]) -> None:
    """Blank values are kept, ``+`` is a space, escapes are UTF-8."""
    assert form_pairs(text, 100) == pairs


def test_too_many_fields_is_refused() -> None:
    """More fields than allowed is a ValueError, as parse_qsl's max_num_fields."""
    with pytest.raises(ValueError, match="Max number of fields"):
        form_pairs("a=1&b=2&c=3", 2)


def test_bad_utf8_is_refused() -> None:
    """An escape that is not UTF-8 raises UnicodeDecodeError (the API answers
    MalformedQueryString)."""
    with pytest.raises(UnicodeDecodeError):
        form_pairs("a=%FF", 10)
