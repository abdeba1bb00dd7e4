"""Many idle workers on one server instance: all connected at once, and the memory each costs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from benchmarks.harness import rss_bytes

# Opening handshakes in flight at once: a fleet starting up, not a stampede.
CONNECTING_AT_ONCE = 50
HOLD_SECONDS = 5.0
IDLE_PROCESS = {
    "id": "idle",
    "version": "1.0.0",
    "title": "Idle",
    "jobControlOptions": ["async-execute"],
    "inputs": {"message": {"title": "Message", "schema": {"type": "string"}}},
    "outputs": {"echo": {"title": "Echo", "schema": {"type": "string"}}},
}


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))


async def _open_worker(url: str, token: str, index: int, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        ws = await connect(url, additional_headers={"Authorization": f"Bearer {token}"}, ping_interval=None)
        hello = {
            "type": "hello",
            "protocol": 1,
            "name": f"idle-{index}",
            "capacity": 1,
            "processes": [IDLE_PROCESS],
        }
        await ws.send(json.dumps(hello))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"worker {index} got {welcome}")
        return ws


async def idle_workers(base_url: str, token: str, server_pid: int, *, count: int) -> dict[str, Any]:
    """Connects `count` workers, holds them idle, and reports the server's memory per worker."""
    _raise_fd_limit(count + 256)
    url = base_url.replace("http://", "ws://") + "/ws/workers/"
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    await _close(await _open_worker(url, token, -1, gate))  # the first socket's imports are not per worker
    rss_before = rss_bytes(server_pid)
    started = time.monotonic()
    opened = await asyncio.gather(
        *(_open_worker(url, token, i, gate) for i in range(count)), return_exceptions=True
    )
    connect_seconds = time.monotonic() - started
    sockets = [ws for ws in opened if not isinstance(ws, BaseException)]
    try:
        await asyncio.sleep(HOLD_SECONDS)
        rss_after = rss_bytes(server_pid)
        still_open = sum(ws.state is State.OPEN for ws in sockets)
    finally:
        await asyncio.gather(*(_close(ws) for ws in sockets))
    failures = [repr(ws) for ws in opened if isinstance(ws, BaseException)]
    return {
        "workers": count,
        "connected": len(sockets),
        "still_open_after_hold": still_open,
        "connect_seconds": round(connect_seconds, 2),
        "server_rss_before_mib": round(rss_before / 2**20, 1),
        "server_rss_after_mib": round(rss_after / 2**20, 1),
        "kib_per_worker": round((rss_after - rss_before) / 1024 / max(1, len(sockets)), 1),
        "first_failure": failures[0] if failures else None,
    }


async def _close(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        await ws.close()
