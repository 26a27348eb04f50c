"""The texts of ``explain <topic>`` in Korean and English, and the language to use (pure).

The seed is a Korean study note, so every explanation exists in both languages; the
templates live in :mod:`.texts_en` and :mod:`.texts_ko` under the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from pocketcloud.explain.topics import texts_en, texts_ko

LANGS: dict[str, Mapping[str, str]] = {"en": texts_en.MESSAGES, "ko": texts_ko.MESSAGES}
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG")


def default_lang(env: Mapping[str, str]) -> str:
    """``ko`` when the locale that governs messages is Korean, else ``en``: the first set
    of LC_ALL, LC_MESSAGES, LANG (POSIX precedence) starting with "ko"."""
    for name in LOCALE_VARS:
        value = env.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def message(lang: str, key: str, /, **values: object) -> str:
    """The template ``key`` in ``lang`` filled with ``values`` (KeyError if unknown)."""
    return LANGS[lang][key].format(**values)
