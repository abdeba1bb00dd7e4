"""Under a real Daphne, a body past the ceiling is refused while it arrives, before Twisted
stores it, and form bodies reach the application unparsed (ums_site/daphne_requests.py)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest
from daphne.http_protocol import HTTPFactory
from daphne.server import Server
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from tests.live import DaphneServer
from ums_site.daphne_requests import BoundedWebRequest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CEILING = 4096


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> Iterator[DaphneServer]:
    with django_db_blocker.unblock():
        with DaphneServer(UMS_MAX_REQUEST_BYTES="2048", UMS_MAX_UPLOAD_BYTES=str(CEILING)) as daphne:
            yield daphne


def _send(server: DaphneServer, head: str, body: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head.encode() + b"\r\n" + body)
    return sock


def _answer(sock: socket.socket) -> tuple[int, bytes]:
    """Status and body of the first answer, read until the server closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _chunk(size: int = 1024) -> bytes:
    """One chunk of a body sent with `Transfer-Encoding: chunked`."""
    return b"%x\r\n%s\r\n" % (size, b"x" * size)


def _post(length_header: str, content_type: str = "application/json") -> str:
    return (
        "POST /processes/echo/execution HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\nConnection: close\r\n{length_header}\r\n"
    )


def test_it_refuses_a_declared_length_before_the_body_is_sent(server):
    # Not one byte of the body goes out: the answer comes from the declared length alone.
    sock = _send(server, _post("Content-Length: 5000000000\r\nExpect: 100-continue"))
    status, body = _answer(sock)
    assert status == 413
    assert json.loads(body)["detail"] == f"The request body is larger than the limit of {CEILING} bytes."


def test_a_refused_body_sent_at_once_never_reaches_the_application(settings):
    # A whole chunked body in one read: Twisted decodes every chunk of it, and its end, after
    # the refusal. Daphne's own server and HTTP protocol, on an in-memory transport.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = settings.UMS_MAX_UPLOAD_BYTES = CEILING
    called = []

    def application(*, scope, receive, send):  # Daphne calls it as it hands a request on
        called.append(scope)
        return asyncio.sleep(0)

    server = Server(application, endpoints=["tcp:port=0:interface=127.0.0.1"])  # never listens
    server.connections = {}  # as `Server.run` sets it up
    protocol = HTTPFactory(server).buildProtocol(IPv4Address("TCP", "127.0.0.1", 1234))
    protocol.requestFactory = BoundedWebRequest
    transport = StringTransport()
    protocol.makeConnection(transport)
    body = _chunk() * 5 + b"0\r\n\r\n"  # 5 KiB, past the 4 KiB ceiling, and its end
    protocol.dataReceived(_post("Transfer-Encoding: chunked").encode() + b"\r\n" + body)
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert transport.value().count(b"HTTP/1.1 ") == 1
    assert not called


def test_it_refuses_a_streamed_body_once_it_passes_the_ceiling(server):
    sock = _send(server, _post("Transfer-Encoding: chunked"))
    for _ in range(5):  # 5 KiB, past the 4 KiB ceiling; the body never ends
        sock.sendall(_chunk())
    status, body = _answer(sock)
    assert status == 413
    assert json.loads(body)["status"] == 413


def test_a_form_body_reaches_the_application_unparsed(server):
    # Twisted's own form parsing answered a malformed multipart body with a bare 400 of its
    # own and dropped the connection; the application answers it with problem details.
    body = b"not a multipart body"
    content_type = "multipart/form-data; boundary=XX"
    sock = _send(server, _post(f"Content-Length: {len(body)}", content_type), body)
    status, answer = _answer(sock)
    assert status >= 400
    assert json.loads(answer)["status"] == status
