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

    def test_a_call_behind_a_console_page_waits_its_turn(self, server: Server) -> None:
        """An API call pipelined behind a console page (answered through ASGI) is answered
        after it, not before: the call answered straight from the parser keeps the order."""
        with _connect(server) as sock:
            sock.sendall(_request("GET", "/console/signin") + _request("POST", body=BODY) * 2)
            page, rest = _read_response(sock, b"")
            first, rest = _read_response(sock, rest)
            second, rest = _read_response(sock, rest)
            assert b"<html" in page.lower() or b"<!doctype" in page.lower()
            assert first.endswith(b"</Response>")
            assert second.endswith(b"</Response>")
            assert rest == b""

    def test_connection_close_is_honoured(self, server: Server) -> None:
        """An HTTP/1.1 call saying ``Connection: close`` is answered whole, then closed."""
        with _connect(server) as sock:
            sock.sendall(_request("POST", body=BODY, extra="Connection: close\r\n"))
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            assert b"\r\nconnection: close\r\n" in received.lower()
            assert received.endswith(b"</Response>")

    def test_chunked_body_is_read_whole(self, server: Server) -> None:
        """A form sent in chunks is decoded whole: the call's action is read from it
        (an unsigned DescribeKeyPairs: EC2's MissingAuthenticationToken, not InvalidAction)."""
        head = (
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10], BODY[10:]))
        with _connect(server) as sock:
            sock.sendall(head + chunks + b"0\r\n\r\n")
            response, _ = _read_response(sock, b"")
            assert b"<Code>MissingAuthenticationToken</Code>" in response

    def test_connection_outlives_a_body_too_large(self, server: Server) -> None:
        """A body over the limit gets 413 RequestEntityTooLarge, and the connection still
        answers the next call."""
        big = BODY + b"&X=" + b"a" * (2 * 1024 * 1024)
        with _connect(server) as sock:
            sock.sendall(_request("POST", body=big) + _request("POST", body=BODY))
            first, rest = _read_response(sock, b"")
            second, rest = _read_response(sock, rest)
            assert first.startswith(b"HTTP/1.1 413 ")
            assert b"<Code>RequestEntityTooLarge</Code>" in first
            assert b"<Code>MissingAuthenticationToken</Code>" in second
