"""``multipart/form-data`` read as it streams in (RFC 7578 over RFC 2046 §5.1), with
python-multipart's push parser. Pure: no I/O, and constant memory: a field's value is kept
(the fields' bytes counted against a limit), the file part's bytes are handed on as they
arrive, never kept::

    reader = FormReader(boundary)
    for chunk in body:
        for event in reader.feed(chunk):  # Field, then FileStart, FileData…, FileEnd
            ...
    reader.close()  # FormError if the body ended before its closing boundary

Which part is the file is decided by its name (``file``, in any case), not by whether it
carries a ``filename``: some clients send a file name with every part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

#: RFC 2046: a boundary is 1 to 70 characters
MAX_BOUNDARY = 70
FORM_DATA = b"form-data"


class FormError(Exception):
    """The body is not well-formed multipart/form-data."""


class FieldsTooLarge(FormError):
    """The fields before the file (names, values and part headers) passed the limit."""


@dataclass(frozen=True)
class Field:
    """A part that is not the file: its name as sent, and its value's bytes."""

    name: str
    value: bytes


@dataclass(frozen=True)
class FileStart:
    """The file part begins; ``filename`` is None when the part names no file."""

    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class FileData:
    """Some of the file's bytes."""

    data: bytes


@dataclass(frozen=True)
class FileEnd:
    """The file part ended (its closing delimiter was read)."""


Event = Field | FileStart | FileData | FileEnd


def boundary_of(content_type: str) -> bytes | None:
    """The boundary a ``multipart/form-data`` Content-Type names; None for any other type.
    FormError when it names none, or one longer than 70 characters."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    boundary = params.get(b"boundary", b"")
    if not 1 <= len(boundary) <= MAX_BOUNDARY:
        raise FormError("multipart/form-data needs a boundary of 1 to 70 characters")
    return boundary


class FormReader:
    """One body being read: ``feed`` its chunks in order, then ``close``."""

    def __init__(self, boundary: bytes, file_field: str = "file", max_fields: int = 20480):
        self.file_field = file_field.lower()
        self.max_fields = max_fields
        #: the bytes of the fields (and their part headers) before the file, so far
        self.fields_size = 0
        self.ended = False
        self._events: list[Event] = []
        self._header = bytearray()
        self._value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._kind = "skip"  # the current part: "field", "file" or "skip" (not form-data)
        self._name = ""
        self._seen_file = False
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks)
        except FormParserError as exc:
            raise FormError(str(exc)) from exc

    def feed(self, chunk: bytes) -> list[Event]:
        """The events of the next chunk of the body (FormError if it is malformed)."""
        try:
            self._parser.write(chunk)
        except FormError:
            raise
        except FormParserError as exc:
            raise FormError(str(exc)) from exc
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        """The body ended: FormError unless its closing boundary was read."""
        if not self.ended:
            raise FormError("the body ended before its closing boundary")

    # -- python-multipart's callbacks ---------------------------------------------------

    def _count(self, size: int) -> None:
        if self._seen_file:
            return
        self.fields_size += size
        if self.fields_size > self.max_fields:
            raise FieldsTooLarge(f"the fields before the file passed {self.max_fields} bytes")

    def _part_begin(self) -> None:
        self._headers = {}
        self._header.clear()
        self._value.clear()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header.decode("latin-1").lower()] = bytes(self._value)
        self._header.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition = self._headers.get("content-disposition", b"").decode("latin-1")
        kind, params = parse_options_header(disposition)
        self._name = _text(params.get(b"name"))
        if kind != FORM_DATA or b"name" not in params:
            self._kind = "skip"
        elif self._name.lower() == self.file_field and not self._seen_file:
            self._kind = "file"
            self._seen_file = True
            filename = params.get(b"filename")
            named = None if filename is None else _text(filename)
            content_type = _text(self._headers.get("content-type")) or None
            self._events.append(FileStart(self._name, named, content_type))
        else:
            self._kind = "field"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._kind == "file":
            self._events.append(FileData(data[start:end]))
            return
        self._count(end - start)
        if self._kind == "field":
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._kind == "file":
            self._events.append(FileEnd())
        elif self._kind == "field":
            self._events.append(Field(self._name, bytes(self._value)))
        self._value.clear()
        self._kind = "skip"

    def _end(self) -> None:
        self.ended = True


def _text(raw: bytes | None) -> str:
    """A header parameter's bytes as text: UTF-8, as browsers send names (RFC 7578 §4.2)."""
    return "" if raw is None else raw.decode("utf-8", "replace")
