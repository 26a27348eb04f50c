"""The control plane's HTTP edge, spoken to over a raw socket: keep-alive, pipelining, HEAD,
HTTP/1.0 and ``Expect: 100-continue`` all answer whole, one response per request."""

from __future__ import annotations

import socket

from tests.plugin.clouds import Server

BODY = b"Action=DescribeKeyPairs&Version=2016-11-15"


def _request(method: str, path: str = "/", body: bytes = b"", extra: str = "") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def _read_response(
    sock: socket.socket, buffer: bytes, head_only: bool = False
) -> tuple[bytes, bytes]:
    """One response (status line through body) and what came after it."""
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if head_only:
        length = 0
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class TestHttpEdge:
    def test_keep_alive_answers_each_request_whole(self, server: Server) -> None:
        """Two requests on one connection get two whole AWS answers (unsigned: EC2's
        MissingAuthenticationToken error), each with its Content-Length honoured."""
        with _connect(server) as sock:
            rest = b""
            for _ in range(2):
                sock.sendall(_request("POST", body=BODY))
                response, rest = _read_response(sock, rest)
                assert response.startswith(b"HTTP/1.1 ")
                assert b"<Response><Errors><Error><Code>" in response
                assert response.endswith(b"</Response>")
            assert rest == b""

    def test_pipelined_requests_are_answered_in_order(self, server: Server) -> None:
        """Requests sent back to back before any answer are answered in order, each whole."""
        with _connect(server) as sock:
            sock.sendall(_request("POST", body=BODY) + _request("GET", "/console/signin"))
            first, rest = _read_response(sock, b"")
            second, rest = _read_response(sock, rest)
            assert b"<Response>" in first
            assert b"<html" in second.lower() or b"<!doctype" in second.lower()
            assert rest == b""

    def test_head_gets_its_head(self, server: Server) -> None:
        """A HEAD request (no body is ever written) still gets its status line and headers."""
        with _connect(server) as sock:
            sock.sendall(_request("HEAD", "/console/signin"))
            response, _ = _read_response(sock, b"", head_only=True)
            assert response.startswith(b"HTTP/1.1 ")
            assert b"content-length" in response.lower()

    def test_http_1_0_is_answered_and_closed(self, server: Server) -> None:
        """An HTTP/1.0 request is answered whole, then the server closes the connection."""
        with _connect(server) as sock:
            request = _request("POST", body=BODY).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
            sock.sendall(request)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            assert received.startswith(b"HTTP/1.1 ")
            assert received.endswith(b"</Response>")

    def test_expect_continue_is_honoured(self, server: Server) -> None:
        """A client that waits for ``100 Continue`` before its body gets it, then the answer."""
        request = _request("POST", body=BODY, extra="Expect: 100-continue\r\n")
        head, _, body = request.partition(b"\r\n\r\n")
        with _connect(server) as sock:
            sock.sendall(head + b"\r\n\r\n")
            interim = b""
            while b"\r\n\r\n" not in interim:
                interim += sock.recv(65536)
            assert interim.startswith(b"HTTP/1.1 100 Continue")
            sock.sendall(body)
            response, _ = _read_response(sock, interim.partition(b"\r\n\r\n")[2])
            assert response.endswith(b"</Response>")
