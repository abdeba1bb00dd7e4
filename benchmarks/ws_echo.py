"""The floor of a job's dispatch: a WebSocket echo round trip through bare Daphne.

`application` is a raw ASGI app (no Django, no Channels consumer), served by the same Daphne
the server uses; the client sends a frame the size of a `job.execute` and awaits it back.
"""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.asyncio.client import connect

from benchmarks.harness import HOST, PYTHON, Children, free_port, wait_for_port
from benchmarks.loadgen import summary

FRAME = json.dumps(
    {
        "type": "job.execute",
        "job": "8d0b8a4e-6a3c-4c38-9a53-4a1f4b2f3c11",
        "process": "echo",
        "inputs": {"echoInput": "hello"},
        "outputs": {},
        "attempt": 1,
    }
)


async def application(scope: dict[str, Any], receive, send) -> None:
    if scope["type"] != "websocket":
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": event.get("text"), "bytes": event.get("bytes")})
        else:
            return


def echo_server_start(group: Children) -> str:
    port = free_port()
    # Daphne as the server runs it, on uvloop (ums_site/server.py).
    command = [PYTHON, "-m", "ums_site.server", "-b", HOST, "-p", str(port), "benchmarks.ws_echo:application"]
    child = group.start("ws-echo", command)
    wait_for_port(port, child)
    return f"ws://{HOST}:{port}/"


async def round_trips(url: str, *, count: int, warmup: int = 20) -> dict[str, float]:
    async with connect(url) as ws:
        for _ in range(warmup):
            await ws.send(FRAME)
            await ws.recv()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            await ws.send(FRAME)
            await ws.recv()
            times.append(time.perf_counter() - started)
    return summary(times)
