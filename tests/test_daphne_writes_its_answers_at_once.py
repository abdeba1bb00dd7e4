"""Under a real Daphne, an HTTP response's end and a WebSocket frame leave for the socket as
soon as the application sends them, not at the event loop's next turn (ums_site/daphne_writes.py):
the application below holds the loop after answering until the client has read the answer."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.answer_holding_app import HOLD_SECONDS
from tests.live import ChildProcess, free_port, server_environment, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    command = [
        sys.executable, "-m", "ums_site.server", "-b", "127.0.0.1", "-p", str(port),
        "tests.answer_holding_app:application",
    ]  # fmt: skip
    env = server_environment(ANSWER_HOLD_DIR=str(tmp_path))
    with ChildProcess("answer-holding", command, env, tmp_path / "daphne.log") as daphne:
        wait_until(lambda: _listens(port, daphne), message="Daphne to listen")
        yield port


def _listens(port: int, daphne: ChildProcess) -> bool:
    if reason := daphne.exited():
        raise AssertionError(reason)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _held(directory: Path, kind: str) -> str:
    """Whether the application's hold of the loop ended with the answer read, once it ended."""
    (directory / f"{kind}-read").touch()
    held = directory / f"{kind}-held"
    wait_until(held.exists, HOLD_SECONDS * 2, "the hold to end")
    return held.read_text()


def test_an_http_answer_leaves_while_the_application_holds_the_loop(port, tmp_path):
    with socket.create_connection(("127.0.0.1", port), timeout=HOLD_SECONDS * 2) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while not received.endswith(b"answered"):
            chunk = sock.recv(4096)
            assert chunk, f"the connection closed after {received!r}"
            received += chunk
        assert _held(tmp_path, "http") == "read"
    assert received.startswith(b"HTTP/1.1 200")


def test_a_websocket_frame_leaves_while_the_application_holds_the_loop(port, tmp_path):
    with connect(f"ws://127.0.0.1:{port}/", open_timeout=HOLD_SECONDS) as ws:
        ws.send("hello")
        assert ws.recv(timeout=HOLD_SECONDS * 2) == "answered"
        assert _held(tmp_path, "websocket") == "read"
