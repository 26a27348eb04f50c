"""XML of S3's rest-xml protocol: request bodies read per input shape, answers written.

``read_xml`` parses a body into a small expat tree (DTDs and entity declarations refused,
MalformedXML when not well-formed); ``XmlReaders`` compiles, per input shape, the reader of
that tree into a dict keyed by member names. ``XmlWriters`` are codec's emitters plus what
only rest-xml has; ``document`` wraps an emitted value in its root element and namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn
from xml.parsers import expat

from pocketcloud.api._rest_values import convert, format_time, wire_name
from pocketcloud.api._shapes import Emitter, escape
from pocketcloud.api.codec import OutputPlans
from pocketcloud.errors import ClientError

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_MALFORMED = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def _malformed(detail: str = "") -> ClientError:
    return ClientError("MalformedXML", _MALFORMED + (f": {detail}" if detail else ""))


# -- XML in: a small expat tree, read per shape -------------------------------------------


@dataclass(slots=True)
class _Element:
    name: str  # local name: the namespace is ignored
    attrs: dict[str, str]
    children: list[_Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _refuse(*_: object) -> NoReturn:
    raise _malformed("DTDs and entity declarations are not allowed")


def read_xml(body: bytes) -> _Element:
    """The root element of ``body``; MalformedXML when it is not well-formed."""
    parser = expat.ParserCreate(namespace_separator=" ")
    stack = [_Element("", {})]

    def start(name: str, attrs: dict[str, str]) -> None:
        element = _Element(_local(name), {_local(k): v for k, v in attrs.items()})
        stack[-1].children.append(element)
        stack.append(element)

    def text(data: str) -> None:  # stack[-1] is looked up per call: it changes
        stack[-1].text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _: stack.pop()
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise _malformed() from exc
    return stack[0].children[0]


Reader = Callable[[_Element], Any]


def _scalar_reader(shape: Any) -> Reader:
    def read(element: _Element) -> Any:
        try:
            return convert(shape, "".join(element.text))
        except ValueError as exc:
            raise _malformed(f"bad value in <{element.name}>") from exc

    return read


class XmlReaders:
    """Compiles (and caches by shape name) the reader of each input shape."""

    def __init__(self) -> None:
        self._memo: dict[str, Reader] = {}

    def reader(self, shape: Any) -> Reader:
        """The reader for ``shape``, built on first use."""
        found = self._memo.get(shape.name)
        if found is None:
            found = self._build(shape)
            self._memo[shape.name] = found
        return found

    def _build(self, shape: Any) -> Reader:
        if shape.type_name == "structure":
            return self.structure(shape.name, shape.members)
        if shape.type_name == "list":
            item = self.reader(shape.member)
            return lambda element: [item(child) for child in element.children]
        return _scalar_reader(shape)

    def structure(self, key: str, members: Mapping[str, Any]) -> Reader:
        """A reader of the elements (and attributes) of ``members`` without a location."""
        elements: dict[str, tuple[str, Reader, bool]] = {}
        attributes: dict[str, str] = {}

        def read(element: _Element) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for child in element.children:
                found = elements.get(child.name)
                if found is not None and found[2]:
                    out.setdefault(found[0], []).append(found[1](child))
                elif found is not None:
                    out[found[0]] = found[1](child)
            for attribute, name in attributes.items():
                if attribute in element.attrs:
                    out[name] = element.attrs[attribute]
            return out

        self._memo[key] = read  # before the members: a recursive shape finds itself
        for name, member in members.items():
            if "location" in member.serialization:
                continue
            wire = wire_name(member, name)
            if member.serialization.get("xmlAttribute"):
                attributes[wire.rpartition(":")[2]] = name
            elif member.type_name == "list" and member.serialization.get("flattened"):
                item = self.reader(member.member)
                elements[wire] = (name, item, True)
                inner = member.member.serialization.get("name")  # what botocore's parser reads
                elements.setdefault(str(inner or wire), (name, item, True))
            else:
                elements[wire] = (name, self.reader(member), False)
        return read


# -- XML out: codec's emitters, plus attributes, prefixed namespaces, timestamp formats ----


class XmlWriters(OutputPlans):
    """codec's XML emitters (rest-xml writes lists, maps and scalars as the query protocol
    does), plus what only rest-xml has: ``xmlAttribute`` members (the Grantee's
    ``xsi:type``), a shape's prefixed ``xmlNamespace``, and a shape's ``timestampFormat``."""

    def __init__(self) -> None:
        super().__init__("rest-xml")

    def _build(self, shape: Any) -> Emitter:
        style = shape.serialization.get("timestampFormat", "iso8601")
        if shape.type_name != "timestamp" or style == "iso8601":
            return super()._build(shape)

        def emit(value: Any, out: list[str], open_: str, close: str) -> None:
            out.append(open_ + escape(format_time(value, style)) + close)

        return emit

    def _structure(self, shape: Any) -> Emitter:
        plain = super()._structure(shape)
        members = shape.members.items()
        attributes = {n: wire_name(m, n) for n, m in members if m.serialization.get("xmlAttribute")}
        space = shape.serialization.get("xmlNamespace")
        declare = ""
        if isinstance(space, Mapping) and space.get("prefix"):  # the default one is the root's
            declare = f' xmlns:{space["prefix"]}="{escape(space["uri"])}"'
        if not attributes and not declare:
            return plain

        def emit(value: Any, out: list[str], open_: str, close: str) -> None:
            extra = "".join(
                f' {wire}="{escape(str(value[name]))}"'
                for name, wire in attributes.items()
                if value.get(name) is not None
            )
            rest = {k: v for k, v in value.items() if k not in attributes}
            plain(rest, out, f"{open_[:-1]}{declare}{extra}>", close)

        self._memo[shape.name] = emit
        return emit


def document(emit: Emitter, root: str, value: Any) -> bytes:
    out = [_XML_DECL]
    emit(value, out, f'<{root} xmlns="{NAMESPACE}">', f"</{root}>")
    return "".join(out).encode()


def no_body(result: Mapping[str, Any]) -> bytes:
    return b""
