"""Routing of S3's rest-xml requests: which operation a request is, from the service model.

Each operation's ``requestUri`` gives its method, path depth, fixed path segments and
subresource query keys; its required querystring and header members must be present too.
``routes`` ranks, per (method, path depth), the candidates most specific first. Also here:
the path and query splitting that parsing shares (``split_path``, ``split_query``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import botocore.loaders
import botocore.model

from pocketcloud.api._rest_values import wire_name
from pocketcloud.api.form import form_pairs
from pocketcloud.errors import ClientError

_MAX_QUERY_FIELDS = 1000

Query = dict[str, list[str]]


@functools.cache
def service_model(service: str) -> Any:
    loader = botocore.loaders.create_loader()
    return botocore.model.ServiceModel(loader.load_service_model(service, "service-2"), service)


def bad_uri() -> ClientError:
    return ClientError("InvalidURI", "Couldn't parse the specified URI.")


def split_path(path: str) -> list[str]:
    """``/`` -> [], ``/b`` and ``/b/`` -> [b], ``/b/k/x`` -> [b, "k/x"]; still encoded."""
    if not path.startswith("/"):
        raise bad_uri()
    bucket, _, key = path[1:].partition("/")
    if key:
        return [bucket, key]
    return [bucket] if bucket else []


def split_query(raw: str) -> Query:
    try:
        pairs = form_pairs(raw, _MAX_QUERY_FIELDS)
    except ValueError as exc:  # too many fields, or an escape that is not UTF-8
        raise bad_uri() from exc
    out: Query = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def pattern(request_uri: str) -> tuple[list[str], list[tuple[str, str | None]]]:
    """The path segments and the literal query keys (with a value or not) of a requestUri."""
    path, _, query = request_uri.partition("?")
    subresources: list[tuple[str, str | None]] = []
    for item in filter(None, query.split("&")):
        key, eq, value = item.partition("=")
        subresources.append((key, value if eq else None))
    return [part for part in path.split("/") if part], subresources


@dataclass(frozen=True)
class _Route:
    """What a request must show to be one operation, beyond its method and path depth."""

    operation: str
    literals: tuple[tuple[int, str], ...]  # path segments that are fixed text
    subresources: tuple[tuple[str, str | None], ...]  # query keys from the requestUri
    query: tuple[str, ...]  # required querystring members
    headers: tuple[str, ...]  # required header members, lower-case

    def score(self) -> int:
        """How much the request must show: more is more specific."""
        parts = (self.literals, self.subresources, self.query, self.headers)
        return sum(map(len, parts))

    def accepts(self, segments: list[str], query: Query, headers: Mapping[str, str]) -> bool:
        """Whether a request with these path segments, query and headers fits."""
        return (
            all(segments[index] == text for index, text in self.literals)
            and all(
                key in query and (value is None or value in query[key])
                for key, value in self.subresources
            )
            and all(key in query for key in self.query)
            and all(key in headers for key in self.headers)
        )


def _route(op: Any) -> tuple[tuple[str, int], tuple[int, bool, bool, str], _Route]:
    """The candidate-list key, the rank and the route of one operation model."""
    segments, subresources = pattern(op.http["requestUri"])
    shape = op.input_shape
    required = [] if shape is None else [(n, shape.members[n]) for n in shape.required_members]

    def wires(location: str) -> tuple[str, ...]:
        found = [
            wire_name(m, n) for n, m in required if m.serialization.get("location") == location
        ]
        return tuple(found)

    literals = tuple((i, part) for i, part in enumerate(segments) if not part.startswith("{"))
    headers = tuple(name.lower() for name in wires("header"))
    route = _Route(op.name, literals, tuple(subresources), wires("querystring"), headers)
    # Ties (same requirements) go to the current operation over a deprecated one, then to a
    # general-purpose one over an S3 Express control-endpoint one (ListDirectoryBuckets).
    express = any(p.name == "UseS3ExpressControlEndpoint" for p in op.static_context_parameters)
    rank = (-route.score(), bool(op.deprecated), express, op.name)
    return (op.http["method"], len(segments)), rank, route


@functools.cache
def routes(service: str) -> dict[tuple[str, int], tuple[_Route, ...]]:
    """Per (method, path depth), the candidate routes, most specific first."""
    model = service_model(service)
    ranked: dict[tuple[str, int], list[tuple[tuple[int, bool, bool, str], _Route]]] = {}
    for name in model.operation_names:
        key, rank, route = _route(model.operation_model(name))
        ranked.setdefault(key, []).append((rank, route))
    return {key: tuple(route for _, route in sorted(found)) for key, found in ranked.items()}
