"""The streaming multipart/form-data reader (pure): fields whole, the file's bytes as they
come, whatever the chunking; malformed bodies and oversized fields refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pocketcloud.api.s3.formdata import (
    Event,
    Field,
    FieldsTooLarge,
    FileData,
    FileEnd,
    FileStart,
    FormError,
    FormReader,
    boundary_of,
)

BOUNDARY = b"----pocketcloudBoundary7MA4YWxkTrZu0gW"


def part(name: str, value: bytes, extra: str = "") -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode()
    return b"--" + BOUNDARY + b"\r\n" + head + value + b"\r\n"


def body(
    fields: list[tuple[str, bytes]],
    content: bytes,
    filename: str | None = "f.bin",
    after: list[tuple[str, bytes]] | None = None,
) -> bytes:
    """A form as a browser encodes it: the fields, the file part, then ``after``."""
    named = "" if filename is None else f'; filename="{filename}"'
    out = b"".join(part(name, value) for name, value in fields)
    out += b"--" + BOUNDARY + b"\r\n"
    out += f'Content-Disposition: form-data; name="file"{named}\r\n'.encode()
    out += b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
    out += b"".join(part(name, value) for name, value in after or [])
    return out + b"--" + BOUNDARY + b"--\r\n"


def read(data: bytes, cuts: list[int], max_fields: int = 20480) -> list[Event]:
    """The events of ``data`` fed in pieces split at ``cuts``, file bytes joined."""
    reader = FormReader(BOUNDARY, max_fields=max_fields)
    events: list[Event] = []
    edges = [0, *sorted(set(cuts)), len(data)]
    for start, end in itertools.pairwise(edges):
        events += reader.feed(data[start:end])
    reader.close()
    joined: list[Event] = []
    for event in events:
        if isinstance(event, FileData) and joined and isinstance(joined[-1], FileData):
            joined[-1] = FileData(joined[-1].data + event.data)
        else:
            joined.append(event)
    return joined


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_", min_size=1, max_size=12)
values = st.binary(max_size=200).filter(lambda v: BOUNDARY not in v)


def _feed_all(data: bytes) -> None:
    reader = FormReader(BOUNDARY)
    reader.feed(data)
    reader.close()


class TestFormReader:
    def test_a_browser_form(self) -> None:
        """Fields in order, then the file part's start (name, file name, type), its bytes
        and its end; a field after the file is read too."""
        data = body(
            [("key", b"a/${filename}"), ("policy", b"e30=")],
            b"\x00\r\n--x\r\n",
            after=[("submit", b"Upload")],
        )
        assert read(data, []) == [
            Field("key", b"a/${filename}"),
            Field("policy", b"e30="),
            FileStart("file", "f.bin", "application/octet-stream"),
            FileData(b"\x00\r\n--x\r\n"),
            FileEnd(),
            Field("submit", b"Upload"),
        ]

    @settings(max_examples=200, deadline=None)
    @given(
        fields=st.lists(st.tuples(names.filter(lambda n: n != "file"), values), max_size=6),
        content=st.binary(max_size=3000).filter(lambda v: BOUNDARY not in v),
        cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=12),
    )
    def test_any_chunking_reads_the_same(
        self, fields: list[tuple[str, bytes]], content: bytes, cuts: list[int]
    ) -> None:
        """Wherever the body is cut into chunks (inside a boundary, a header, a CRLF), the
        fields and the file's bytes come out as they went in."""
        data = body(fields, content)
        cuts = [cut for cut in cuts if cut < len(data)]
        expected: list[Event] = [Field(name, value) for name, value in fields]
        expected += [FileStart("file", "f.bin", "application/octet-stream")]
        expected += [FileData(content)] if content else []
        assert read(data, cuts) == [*expected, FileEnd()]

    def test_file_part_chosen_by_name(self) -> None:
        """The part named ``file`` (in any case) is the file, with or without a file name;
        another part with a file name is a field (some clients name every part)."""
        data = body([("key", b"k")], b"bytes", filename=None).replace(
            b'name="file"', b'name="File"'
        )
        data = part("note", b"text", extra='; filename="note"') + data
        events = read(data, [])
        assert events[:3] == [
            Field("note", b"text"),
            Field("key", b"k"),
            FileStart("File", None, "application/octet-stream"),
        ]

    def test_fields_before_the_file_are_limited(self) -> None:
        """Past the limit, the fields before the file are FieldsTooLarge; the file's own
        bytes and what follows it are not counted."""
        with pytest.raises(FieldsTooLarge):
            read(body([("big", b"x" * 300)], b""), [], max_fields=200)
        assert read(
            body([("ok", b"x" * 50)], b"y" * 1000, after=[("z", b"z" * 300)]), [], max_fields=200
        )[-1] == Field("z", b"z" * 300)

    @pytest.mark.parametrize(
        "data",
        [
            b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data\r\nno blank line",
            b"--other-boundary\r\n\r\n",
            b"--" + BOUNDARY + b"\r\nBad Header: x\r\n\r\nvalue\r\n",
        ],
    )
    def test_malformed(self, data: bytes) -> None:
        """A body that is not multipart/form-data of this boundary is FormError, whether
        while reading or at its end."""
        with pytest.raises(FormError):
            _feed_all(data)

    def test_a_body_cut_short(self) -> None:
        """A body ending before its closing boundary is FormError at close."""
        data = body([("key", b"k")], b"file")
        reader = FormReader(BOUNDARY)
        reader.feed(data[: len(data) // 2])
        with pytest.raises(FormError):
            reader.close()

    def test_parts_that_are_not_form_data_are_skipped(self) -> None:
        """A part with no name, or not ``form-data``, is neither a field nor the file."""
        stray = b"--" + BOUNDARY + b'\r\nContent-Disposition: attachment; name="x"\r\n\r\nv\r\n'
        assert read(stray + body([], b"f"), [])[0] == FileStart(
            "file", "f.bin", "application/octet-stream"
        )


class TestBoundary:
    @pytest.mark.parametrize(
        ("header", "found"),
        [
            ("multipart/form-data; boundary=abc", b"abc"),
            ('Multipart/Form-Data; boundary="a b:c"', b"a b:c"),
            ("multipart/mixed; boundary=abc", None),
            ("application/x-www-form-urlencoded", None),
            ("", None),
        ],
    )
    def test_boundary_of(self, header: str, found: bytes | None) -> None:
        """The boundary of a multipart/form-data type (quoted or not); None for another."""
        assert boundary_of(header) == found

    @pytest.mark.parametrize(
        "header", ["multipart/form-data", "multipart/form-data; boundary=" + "x" * 71]
    )
    def test_no_usable_boundary(self, header: str) -> None:
        """multipart/form-data without a boundary, or with one past 70 characters."""
        with pytest.raises(FormError):
            boundary_of(header)
