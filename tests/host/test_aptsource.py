"""Finding the host's main Debian archive in its apt configuration (pure parsing).

Every host name here is made up; no real registry is named in the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pocketcloud.host.aptsource import (
    AptSource,
    AptSourceError,
    debian_mirror,
    main_archive_uri,
    parse_codename,
    parse_deb822,
    parse_one_line,
    read_sources,
    suite,
)

DEB822 = """\
# The main archive, with its updates
Types: deb
# a comment between fields
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main

# a stanza switched off
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no
"""

ONE_LINE = """\
# deb http://commented.example/debian bookworm main
deb-src http://src.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://one.example/debian bookworm main
deb http://one.example/debian bookworm-updates main  # trailing comment
deb\thttp://tabs.example/debian\tbookworm\tmain
"""


class TestParseDeb822:
    """deb822 ``.sources`` files."""

    def test_stanzas_in_order(self) -> None:
        """Each stanza is one entry, in file order, with its multi-value fields split."""
        sources = parse_deb822(DEB822)
        assert [s.uris for s in sources] == [
            ("http://mirror.example/debian",),
            ("http://security.example/debian-security",),
            ("http://disabled.example/debian",),
        ]
        assert sources[0].suites == ("bookworm", "bookworm-updates")
        assert sources[0].components == ("main", "contrib")
        assert sources[1].types == ("deb", "deb-src")

    def test_comments_are_skipped(self) -> None:
        """Comment lines, even between the fields of a stanza, neither end it nor add fields."""
        first = parse_deb822(DEB822)[0]
        assert first.types == ("deb",)
        assert first.enabled

    def test_enabled_no(self) -> None:
        """``Enabled: no`` marks the stanza disabled."""
        assert [s.enabled for s in parse_deb822(DEB822)] == [True, True, False]

    def test_field_names_ignore_case_and_values_continue(self) -> None:
        """Field names are case-insensitive; indented lines continue the previous value."""
        text = "types: deb\nURIS: http://a.example/debian\n  http://b.example/debian\n"
        text += "SUITES: bookworm\ncomponents: main\n"
        (source,) = parse_deb822(text)
        assert source.uris == ("http://a.example/debian", "http://b.example/debian")
        assert source.suites == ("bookworm",)

    def test_blank_lines_only(self) -> None:
        """Several blank lines or an all-comment file give no entries."""
        assert parse_deb822("\n\n# nothing\n\n") == []


class TestParseOneLine:
    """One-line ``sources.list`` files."""

    def test_entries(self) -> None:
        """Commented lines are skipped; options in brackets and trailing comments dropped."""
        sources = parse_one_line(ONE_LINE)
        assert [(s.types, s.uris, s.suites) for s in sources] == [
            (("deb-src",), ("http://src.example/debian",), ("bookworm",)),
            (("deb",), ("http://one.example/debian",), ("bookworm",)),
            (("deb",), ("http://one.example/debian",), ("bookworm-updates",)),
            (("deb",), ("http://tabs.example/debian",), ("bookworm",)),
        ]
        assert all(s.components == ("main",) for s in sources)

    def test_options_with_spaces(self) -> None:
        """``[ arch=amd64 ]`` with inner spaces is an option block, not the URI."""
        (source,) = parse_one_line(
            "deb [ arch=amd64 trusted=yes ] http://x.example/d bookworm main"
        )
        assert source.uris == ("http://x.example/d",)

    def test_short_lines_are_ignored(self) -> None:
        """A line without a URI and a suite is no entry."""
        assert parse_one_line("deb\ndeb http://x.example/debian\n") == []


class TestMainArchiveUri:
    """Choosing the main archive among the entries."""

    def test_plain_codename_wins_over_security_and_updates(self) -> None:
        """Security and updates suites never match; the plain codename does."""
        security = AptSource(("deb",), ("http://sec.example/s",), ("bookworm-security",), ("main",))
        updates = AptSource(("deb",), ("http://upd.example/u",), ("bookworm-updates",), ("main",))
        main = AptSource(("deb",), ("http://mirror.example/debian/",), ("bookworm",), ("main",))
        assert main_archive_uri([security, updates, main], "bookworm") == (
            "http://mirror.example/debian"
        )

    def test_disabled_and_source_entries_are_skipped(self) -> None:
        """Disabled stanzas and deb-src-only entries are not the archive."""
        disabled = AptSource(("deb",), ("http://off.example/d",), ("bookworm",), ("main",), False)
        source = AptSource(("deb-src",), ("http://src.example/d",), ("bookworm",), ("main",))
        good = AptSource(("deb", "deb-src"), ("http://on.example/d",), ("bookworm",), ("main",))
        assert main_archive_uri([disabled, source, good], "bookworm") == "http://on.example/d"

    def test_needs_main_component_and_usable_scheme(self) -> None:
        """An entry without ``main`` or with a cdrom: URI is passed over."""
        contrib = AptSource(("deb",), ("http://c.example/d",), ("bookworm",), ("contrib",))
        cdrom = AptSource(("deb",), ("cdrom:[Debian]/",), ("bookworm",), ("main",))
        assert main_archive_uri([contrib, cdrom], "bookworm") is None

    def test_from_files(self) -> None:
        """In the sample deb822 file the archive is the first stanza's URI."""
        assert main_archive_uri(parse_deb822(DEB822), "bookworm") == "http://mirror.example/debian"

    def test_other_codename(self) -> None:
        """Nothing matches a codename the entries do not carry."""
        assert main_archive_uri(parse_deb822(DEB822), "trixie") is None


class TestParseCodename:
    """The host's codename from /etc/os-release."""

    def test_quoted_and_plain(self) -> None:
        """VERSION_CODENAME is read with or without quotes."""
        assert parse_codename('NAME="Debian"\nVERSION_CODENAME=bookworm\n') == "bookworm"
        assert parse_codename('VERSION_CODENAME="trixie"\n') == "trixie"

    def test_missing(self) -> None:
        """No VERSION_CODENAME (or an empty one) gives None."""
        assert parse_codename("NAME=Debian\n") is None
        assert parse_codename("VERSION_CODENAME=\n") is None


class TestReadSources:
    """Reading an apt directory laid out like /etc/apt."""

    @pytest.fixture
    def apt_dir(self, tmp_path: Path) -> Path:
        """An apt directory with sources.list, a .sources, a .list and an ignored file."""
        parts = tmp_path / "sources.list.d"
        parts.mkdir()
        (tmp_path / "sources.list").write_text("deb http://first.example/debian sid main\n")
        (parts / "b.sources").write_text(DEB822)
        (parts / "a.list").write_text("deb http://a.example/debian bookworm-backports main\n")
        (parts / "z.list.disabled").write_text("deb http://z.example/debian bookworm main\n")
        return tmp_path

    def test_order_and_ignored_suffixes(self, apt_dir: Path) -> None:
        """sources.list first, then sources.list.d by name; other suffixes are ignored."""
        uris = [source.uris[0] for source in read_sources(apt_dir)]
        assert uris == [
            "http://first.example/debian",
            "http://a.example/debian",
            "http://mirror.example/debian",
            "http://security.example/debian-security",
            "http://disabled.example/debian",
        ]

    def test_debian_mirror(self, apt_dir: Path) -> None:
        """The mirror is the first enabled deb entry carrying the plain codename."""
        assert debian_mirror(apt_dir, "bookworm") == "http://mirror.example/debian"
        assert debian_mirror(apt_dir, "sid") == "http://first.example/debian"

    def test_no_mirror(self, tmp_path: Path) -> None:
        """An apt directory without a matching entry raises AptSourceError."""
        with pytest.raises(AptSourceError, match="bookworm"):
            debian_mirror(tmp_path, "bookworm")

    def test_suite(self, tmp_path: Path) -> None:
        """suite() reads the codename from an os-release file; AptSourceError without one."""
        release = tmp_path / "os-release"
        release.write_text("ID=debian\nVERSION_CODENAME=bookworm\n")
        assert suite(release) == "bookworm"
        release.write_text("ID=debian\n")
        with pytest.raises(AptSourceError):
            suite(release)
        with pytest.raises(AptSourceError):
            suite(tmp_path / "missing")
