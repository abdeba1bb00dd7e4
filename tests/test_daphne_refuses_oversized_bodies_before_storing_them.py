"""Under a real Daphne, a body past the ceiling is refused while it arrives, before Twisted
stores it, and form bodies reach the application unparsed (ums_site/daphne_requests.py)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.live import DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CEILING = 4096


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> Iterator[DaphneServer]:
    with django_db_blocker.unblock():
        with DaphneServer(UMS_MAX_REQUEST_BYTES="2048", UMS_MAX_UPLOAD_BYTES=str(CEILING)).start() as daphne:
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


def test_it_refuses_a_streamed_body_once_it_passes_the_ceiling(server):
    chunk = b"x" * 1024
    sock = _send(server, _post("Transfer-Encoding: chunked"))
    for _ in range(5):  # 5 KiB, past the 4 KiB ceiling; the body never ends
        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
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
