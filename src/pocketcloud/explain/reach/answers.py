"""The last layer: what a real request got back, and what that means (pure).

``classify`` turns the raw bytes a probe read into an ``Answer``; ``judge`` says whether
the answer is fine (2xx/3xx; 404 said), a Django 400 (DisallowedHost → ALLOWED_HOSTS),
an nginx 502 (gunicorn down or the wrong socket), TLS on a plain port, plain HTTP on a
TLS port, or another protocol (an SSH banner: it is sshd, not HTTP).
"""

from __future__ import annotations

import re

from pocketcloud.explain.reach.facts import Answer, ReachFacts
from pocketcloud.explain.reach.report import Finding

_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})")
_SERVER = re.compile(rb"^server:\s*(.+?)\r?$", re.IGNORECASE | re.MULTILINE)
_RELEASE = re.compile(rb"^x-pocketcloud-release:\s*(.+?)\r?$", re.IGNORECASE | re.MULTILINE)
HTTPS_PORT = 443


def classify(banner: bytes, reply: bytes) -> Answer:
    """What the server said: ``banner`` is what it sent before we spoke, ``reply``
    what it sent after an HTTP request (pure)."""
    if banner:
        first = banner.split(b"\n", 1)[0].decode("latin-1").strip()
        return Answer("banner", detail=first)
    if reply[:1] in (b"\x15", b"\x16") and reply[1:2] == b"\x03":
        return Answer("tls", detail="a TLS record (alert or handshake) came back")
    found = _STATUS.match(reply)
    if found is None:
        if not reply:
            return Answer("closed", detail="the connection was closed without an answer")
        return Answer("other", detail=reply[:80].decode("latin-1"))
    head, _, body = reply.partition(b"\r\n\r\n")
    server = _SERVER.search(head)
    release = _RELEASE.search(head)
    detail = head.split(b"\r\n", 1)[0].decode("latin-1")
    if release:
        detail += f" (release {release.group(1).decode('latin-1')})"
    return Answer(
        "http",
        int(found.group(1)),
        server.group(1).decode("latin-1") if server else "",
        detail,
        body[:4000].decode("utf-8", "replace"),
    )


def _where(f: ReachFacts) -> str:
    src = f"this host (for {f.source.text})" if f.source.kind == "cidr" else f.source.text
    return f"{src} → {f.host_header or '?'}:{f.port}"


def _closed(f: ReachFacts, a: Answer) -> Finding:
    """No answer at all: nginx's default server closes the connection (444) for a Host
    no site answers to; anything else is the server's own doing."""
    ev = [f"request from {_where(f)} with Host: {f.host_header}: {a.kind}: {a.detail}"]
    on_port = (li for li in f.listeners or () if li.port == f.port)
    nginx = a.kind == "closed" and any(li.process == "nginx" for li in on_port)
    if nginx:
        fix = (
            f"ask for a name the site answers to, or add {f.host_header!r}: "
            f"`pocketcloud deploy --domain {f.host_header}`"
        )
        return (
            False,
            ev,
            f"nginx closes the connection: no site answers to Host {f.host_header!r} (444)",
            fix,
        )
    fix = f"see the server's log (`pocketcloud logs --app {_app(f)}` for a deployed app)"
    return False, ev, f"the connection reached port {f.port} but got no answer ({a.kind})", fix


def _app(f: ReachFacts) -> str:
    return f.instance.app if f.instance is not None and f.instance.app else "<app>"


def _http(f: ReachFacts, a: Answer) -> Finding:
    ev = [f"request from {_where(f)} with Host: {f.host_header}: {a.detail}"]
    ev += [f"server: {a.server}"] if a.server else []
    if "plain HTTP request was sent to HTTPS port" in a.body:
        fix = f"use https://{f.host_header}:{f.port}/"
        return False, ev, f"port {f.port} speaks TLS (HTTPS), the request was plain HTTP", fix
    if f.port == HTTPS_PORT:
        fix = f"use http://{f.host_header}:{f.port}/ (or serve TLS on {f.port})"
        return False, ev, f"port {f.port} (HTTPS's port) answers plain HTTP, not TLS", fix
    if 200 <= a.status < 400:
        return True, ev, a.detail, None
    if a.status == 404:
        return True, ev, f"the server answers, but {a.status} Not Found for /", None
    return _http_error(f, a, ev)


def _http_error(f: ReachFacts, a: Answer, ev: list[str]) -> Finding:
    """An error status: Django's DisallowedHost, nginx without its upstream, or another."""
    if a.status == 400 and ("DisallowedHost" in a.body or "Bad Request (400)" in a.body):
        fix = (
            f"add {f.host_header!r} to ALLOWED_HOSTS in settings.py (or the environment "
            "your settings read it from), then deploy again"
        )
        if f.instance is not None and f.instance.app:  # deploy writes the server's list
            fix += f" (`pocketcloud deploy --domain {f.host_header}` adds it on the server)"
        return False, ev, f"Django refuses Host {f.host_header!r} (DisallowedHost)", fix
    if a.status in (502, 504) and "nginx" in (a.server + a.body).lower():
        ev += [f"nginx proxies to {f.upstream}: {f.upstream_note}"] if f.upstream else []
        note = f": {f.upstream_note}" if f.upstream_note else ""
        behind = f" ({f.upstream}{note})" if f.upstream else ""
        fix = (
            f"see why: `pocketcloud logs --app {_app(f)}`; then start gunicorn again "
            f"(`pocketcloud deploy` or restart its service on the server)"
        )
        return False, ev, f"nginx answers {a.status}: gunicorn behind it is down{behind}", fix
    fix = f"see the server's log (`pocketcloud logs --app {_app(f)}` for a deployed app)"
    return False, ev, f"the server answers {a.detail}", fix


def judge(f: ReachFacts) -> Finding:
    """The answer layer's finding (pure)."""
    a = f.answer
    if a is None:
        return None, ["no request was sent"], "", None
    if a.kind == "http":
        return _http(f, a)
    if a.kind == "banner":
        ev = [f"the server speaks first: {a.detail!r}"]
        what = "it is sshd" if a.detail.startswith("SSH-") else "a non-HTTP service answers"
        return True, ev, f"ok, {what} on {f.port}, not HTTP", None
    if a.kind == "tls":
        ev = [f"plain HTTP to {f.port}: {a.detail}"]
        fix = f"use https://{f.host_header}:{f.port}/ (a TLS server listens on this plain port)"
        return False, ev, f"a TLS server listens on {f.port}: speak HTTPS to it", fix
    if a.kind == "other":
        return True, [f"it answers, but not HTTP: {a.detail!r}"], "ok, a non-HTTP service", None
    return _closed(f, a)
