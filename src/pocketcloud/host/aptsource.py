"""Which Debian mirror this machine uses, read from its own apt configuration.

Images are bootstrapped from the mirror the host already trusts, so no registry host is
ever written into pocketcloud. The parsing functions are pure (they take file texts);
only ``read_sources``, ``debian_mirror`` and ``suite`` read files under ``/etc``.

Two formats are understood:

- deb822 (``/etc/apt/sources.list.d/*.sources``): stanzas of ``Types``, ``URIs``,
  ``Suites``, ``Components`` and optionally ``Enabled: no``, separated by blank lines;
- one-line (``/etc/apt/sources.list`` and ``*.list``):
  ``deb [option=value ...] URI SUITE [COMPONENT ...]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

APT_DIR = Path("/etc/apt")
OS_RELEASE = Path("/etc/os-release")
#: URI schemes debootstrap can fetch from (``cdrom:``, ``mirror+file:`` ... cannot be used)
USABLE_SCHEMES = ("http://", "https://", "ftp://", "file:")


class AptSourceError(LookupError):
    """The host's apt configuration names no usable main Debian archive."""


@dataclass(frozen=True)
class AptSource:
    """One apt source entry (a deb822 stanza or a one-line entry)."""

    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    enabled: bool = True


def parse_deb822(text: str) -> list[AptSource]:
    """The entries of a deb822 ``.sources`` file, in file order (pure)."""
    return [_stanza_source(fields) for fields in _stanzas(text) if fields]


def _stanzas(text: str) -> Iterable[dict[str, str]]:
    """Each stanza's fields (keys lower-cased, continuation lines joined)."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            yield fields
            fields, key = {}, ""
        elif line[0] in " \t" and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
    yield fields


def _stanza_source(fields: dict[str, str]) -> AptSource:
    """An ``AptSource`` from one deb822 stanza's fields."""
    return AptSource(
        types=tuple(fields.get("types", "").split()),
        uris=tuple(fields.get("uris", "").split()),
        suites=tuple(fields.get("suites", "").split()),
        components=tuple(fields.get("components", "").split()),
        enabled=fields.get("enabled", "yes").strip().lower() not in {"no", "false", "0"},
    )


def parse_one_line(text: str) -> list[AptSource]:
    """The entries of a one-line ``sources.list`` file, in file order (pure)."""
    sources = []
    for raw in text.splitlines():
        kind, _, rest = raw.partition("#")[0].strip().replace("\t", " ").partition(" ")
        rest = rest.strip()
        if rest.startswith("["):
            rest = rest.partition("]")[2]
        words = rest.split()
        if len(words) >= 2:
            uri, suite_name, *components = words
            sources.append(AptSource((kind,), (uri,), (suite_name,), tuple(components)))
    return sources


def main_archive_uri(sources: Sequence[AptSource], codename: str) -> str | None:
    """The URI of the first enabled ``deb`` entry for ``codename`` with ``main`` (pure).

    Security and updates archives are skipped because their suites are
    ``<codename>-security`` and ``<codename>-updates``, never the plain codename.
    """
    for source in sources:
        if not source.enabled or "deb" not in source.types:
            continue
        if codename not in source.suites or "main" not in source.components:
            continue
        for uri in source.uris:
            if uri.startswith(USABLE_SCHEMES):
                return uri.rstrip("/")
    return None


def parse_codename(os_release: str) -> str | None:
    """``VERSION_CODENAME`` from the text of ``/etc/os-release`` (pure)."""
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "VERSION_CODENAME":
            return value.strip().strip("\"'") or None
    return None


def read_sources(apt_dir: Path = APT_DIR) -> list[AptSource]:
    """Every entry of the apt configuration under ``apt_dir``, in apt's order (reads files).

    ``sources.list`` comes first, then ``sources.list.d`` in file-name order; files with
    other suffixes (``.disabled``, ``.save``) are ignored, as apt ignores them.
    """
    sources: list[AptSource] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        sources += parse_one_line(main_list.read_text(errors="replace"))
    parts = apt_dir / "sources.list.d"
    for path in sorted(parts.iterdir()) if parts.is_dir() else []:
        if path.suffix == ".list":
            sources += parse_one_line(path.read_text(errors="replace"))
        elif path.suffix == ".sources":
            sources += parse_deb822(path.read_text(errors="replace"))
    return sources


def suite(os_release: Path = OS_RELEASE) -> str:
    """The host's Debian codename, e.g. ``bookworm`` (reads ``/etc/os-release``)."""
    try:
        codename = parse_codename(os_release.read_text(errors="replace"))
    except OSError as exc:
        raise AptSourceError(f"cannot read {os_release}: {exc}") from exc
    if not codename:
        raise AptSourceError(f"{os_release} names no VERSION_CODENAME")
    return codename


def debian_mirror(apt_dir: Path = APT_DIR, codename: str | None = None) -> str:
    """The main Debian archive URI the host's apt uses (reads files under ``/etc``).

    ``codename`` defaults to the host's own (``suite()``); AptSourceError if none matches.
    """
    wanted = codename or suite()
    uri = main_archive_uri(read_sources(apt_dir), wanted)
    if uri is None:
        raise AptSourceError(f"no enabled 'deb' source for suite {wanted!r} in {apt_dir}")
    return uri
