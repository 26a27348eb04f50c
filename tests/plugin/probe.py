"""Network probes and listeners for firewall tests, standard library only.

The same file runs on the host (imported) and inside instances (sent over SSH and run
with the image's python3)::

    python3 probe.py serve tcp:8080 udp:9999          # listeners; prints "ready"
    python3 probe.py probe '[["tcp", "10.0.0.5", 8080], ["icmp", "10.0.0.5", 8, 0]]'
    python3 probe.py send 10.0.0.5 5001 3                # TCP throughput for 3 s, bytes/s

A probe answers whether its packet *reached* the peer: a TCP connect that succeeds or
is refused, a UDP datagram that is echoed or answered by port-unreachable, an ICMP echo
that is answered. A packet a firewall drops times out.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 0.4

Probe = Sequence[object]  # ("tcp"|"udp", ip, port) or ("icmp", ip, type, code)


def tcp(ip: str, port: int, timeout: float = TIMEOUT) -> bool:
    """A TCP handshake completes, or the peer refuses it."""
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def udp(ip: str, port: int, timeout: float = TIMEOUT) -> bool:
    """A datagram comes back (the listener echoes), or the port is unreachable."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((ip, port))
            sock.send(b"probe")
            return sock.recv(64) == b"probe"
        except ConnectionRefusedError:
            return True
        except OSError:
            return False


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(int(word) for word in struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp(ip: str, icmp_type: int = 8, code: int = 0, timeout: float = TIMEOUT) -> bool:
    """An ICMP echo request (of any code) is answered. Root sends it over a raw socket
    (any code); others over a ping socket (code 0 only)."""
    ident = int.from_bytes(os.urandom(2), "big")  # a fresh conntrack entry per probe
    payload = os.urandom(8)
    header = struct.pack("!BBHHH", icmp_type, code, 0, ident, 1)
    packet = struct.pack("!BBHHH", icmp_type, code, _checksum(header + payload), ident, 1)
    raw = os.geteuid() == 0
    kind = socket.SOCK_RAW if raw else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet + payload, (ip, 0))
        except PermissionError:  # dropped by a firewall on the sender's own output path
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, peer = sock.recvfrom(2048)
            except OSError:
                return False
            reply = data[(data[0] & 0x0F) * 4 :] if raw else data
            if peer[0] == ip and reply[0] == 0 and reply[8:16] == payload:
                return True
        return False


def reach(probe: Probe) -> bool:
    """Run one probe."""
    kind, ip, *args = probe
    function = {"tcp": tcp, "udp": udp, "icmp": icmp}[str(kind)]
    return bool(function(str(ip), *(int(str(a)) for a in args)))  # type: ignore[operator]


def reach_all(probes: Sequence[Probe]) -> list[bool]:
    """Run probes side by side (a dropped packet costs one timeout, not one each)."""
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        return list(pool.map(reach, probes))


def _serve_tcp(port: int) -> None:
    server = socket.create_server(("0.0.0.0", port), backlog=64)  # noqa: S104 (a listener)
    threading.Thread(target=_accept_loop, args=(server,), daemon=True).start()


def _accept_loop(server: socket.socket) -> None:
    while True:
        conn, _ = server.accept()
        threading.Thread(target=_answer, args=(conn,), daemon=True).start()


def _answer(conn: socket.socket) -> None:
    """Send a greeting, then drain what the client sends (a throughput sink)."""
    with conn:
        conn.sendall(b"ok\n")
        while conn.recv(1 << 20):
            pass


def _serve_udp(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))  # noqa: S104 (a listener)
    threading.Thread(target=_echo_loop, args=(sock,), daemon=True).start()


def _echo_loop(sock: socket.socket) -> None:
    while True:
        data, peer = sock.recvfrom(2048)
        sock.sendto(data, peer)


def serve(specs: Sequence[str]) -> None:
    """Listen on ``tcp:PORT`` / ``udp:PORT`` specs; print "ready"; run until killed."""
    for spec in specs:
        kind, port = spec.split(":")
        (_serve_tcp if kind == "tcp" else _serve_udp)(int(port))
    print("ready", flush=True)
    threading.Event().wait()


def send(ip: str, port: int, seconds: float) -> float:
    """Stream to a ``tcp:`` listener for ``seconds``; bytes per second, counted until the
    listener has read everything (it closes once it has drained the stream)."""
    block = b"\0" * (256 * 1024)
    sent = 0
    with socket.create_connection((ip, port), timeout=10) as sock:
        sock.recv(3)  # the greeting
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            sock.sendall(block)
            sent += len(block)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)  # EOF once the listener has read it all
        return sent / (time.monotonic() - start)


def main(argv: Sequence[str]) -> None:
    """Command line: ``serve SPEC...``, ``probe JSON`` or ``send IP PORT SECONDS``."""
    if argv[0] == "serve":
        serve(argv[1:])
    elif argv[0] == "send":
        print(f"{send(argv[1], int(argv[2]), float(argv[3])):.0f}")
    else:
        print(json.dumps(reach_all(json.loads(argv[1]))))


if __name__ == "__main__":
    main(sys.argv[1:])
