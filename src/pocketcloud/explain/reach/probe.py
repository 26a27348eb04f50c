"""One real request from the source: the host's Python, run on this host or inside the
source instance's network namespace (``ip netns exec``), so the packet starts where the
user's would. It reads what the server says first (a banner), else sends one HTTP GET
with the right Host header and reads the reply."""

from __future__ import annotations

import base64
import json
import sys

from pocketcloud.explain.reach.answers import classify
from pocketcloud.explain.reach.facts import Answer
from pocketcloud.host.run import run

SCRIPT = r"""
import base64, json, socket, sys, time
ip, port, host = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = {"kind": "ok", "banner": "", "reply": "", "error": ""}
try:
    s = socket.create_connection((ip, port), timeout=2)
except ConnectionRefusedError as e:
    out.update(kind="refused", error=str(e))
except socket.timeout as e:
    out.update(kind="timeout", error="no answer to the connection within 2 s")
except OSError as e:
    out.update(kind="error", error=str(e))
else:
    got = b""
    s.settimeout(0.5)
    try:
        got = s.recv(256)
    except socket.timeout:
        pass
    except OSError as e:
        out.update(error=str(e))
    if got:
        out["banner"] = base64.b64encode(got).decode()
    else:
        req = "GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: pocketcloud-explain\r\n\r\n" % host
        reply, deadline = b"", time.monotonic() + 5
        try:
            s.sendall(req.encode())
            s.settimeout(1)
            while time.monotonic() < deadline and len(reply) < 65536:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (socket.timeout, OSError) as e:
            out.update(error=str(e))
        out["reply"] = base64.b64encode(reply).decode()
    s.close()
    if not got and not reply:  # silent to plain HTTP: does it speak TLS?
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        try:
            with socket.create_connection((ip, port), timeout=2) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as tls:
                    out["tls"] = tls.version() or "TLS"
        except (OSError, ValueError):
            pass
print(json.dumps(out))
"""


def send(ip: str, port: int, host: str, netns: str | None = None) -> Answer:
    """Connect to ip:port (from inside ``netns`` if given) and read the answer. Runs a
    process; inside a namespace it needs root."""
    argv = [sys.executable, "-I", "-c", SCRIPT, ip, str(port), host]
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    got = run(argv, check=False, timeout=15)
    try:
        out = json.loads(got.stdout.decode())
    except ValueError:
        return Answer("error", detail=got.stderr.decode().strip()[-200:])
    if out["kind"] != "ok":
        return Answer(out["kind"], detail=out["error"])
    if out.get("tls"):
        return Answer("tls", detail=f"no answer to plain HTTP; a {out['tls']} handshake succeeds")
    answer = classify(base64.b64decode(out["banner"]), base64.b64decode(out["reply"]))
    if answer.kind == "closed" and out["error"]:
        return Answer("closed", detail=out["error"])
    return answer
