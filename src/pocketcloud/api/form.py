"""``application/x-www-form-urlencoded`` text to pairs: ``urllib.parse.parse_qsl``'s answer.

Every query-protocol call (EC2, IAM, STS) is a form of a dozen or more fields, decoded
once per request. ``parse_qsl`` runs each name and value through ``unquote`` and a
``+`` replacement; most fields hold neither ``%`` nor ``+``, and this decoder leaves
those as they are. Same pairs, same order, same errors as
``parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=N)``.
"""

from __future__ import annotations

from urllib.parse import unquote


def form_pairs(text: str, max_fields: int) -> list[tuple[str, str]]:
    """The (name, value) pairs of ``text``, blanks kept.

    Raises ``ValueError`` past ``max_fields`` fields and ``UnicodeDecodeError`` when a
    percent-escape is not UTF-8.
    """
    if not text:
        return []
    if text.count("&") + 1 > max_fields:
        raise ValueError("Max number of fields exceeded")
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> str:
    if "%" in text:
        return unquote(text.replace("+", " "), errors="strict")
    if "+" in text:
        return text.replace("+", " ")
    return text
