"""An ASGI application for tests/test_daphne_writes_its_answers_at_once.py, served by a real
Daphne: it answers, then holds the event loop until the test's client has read the answer
(`<kind>-read` appears in ANSWER_HOLD_DIR) or for HOLD_SECONDS, and notes in `<kind>-held`
which came first. An answer Twisted held for the loop's next turn reaches the client only
once the hold is over."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

django.setup()  # as ums_site.asgi does, before the modules that read the settings

from ums_site import daphne_requests, daphne_writes  # noqa: E402

HOLD_SECONDS = 10.0

daphne_requests.install()  # as ums_site.asgi does
daphne_writes.install()


async def application(scope: dict[str, Any], receive, send) -> None:
    if scope["type"] == "http":
        await receive()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"answered"})
        _hold("http")
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await receive()  # the client's frame
        await send({"type": "websocket.send", "text": "answered"})
        _hold("websocket")
        await receive()  # websocket.disconnect
    else:  # lifespan
        await receive()


def _hold(kind: str) -> None:
    """Blocks the event loop (deliberately: no `await`) until the client has read the answer."""
    held = Path(os.environ["ANSWER_HOLD_DIR"])
    deadline = time.monotonic() + HOLD_SECONDS
    while not (held / f"{kind}-read").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    (held / f"{kind}-held").write_text("read" if (held / f"{kind}-read").exists() else "not read")
