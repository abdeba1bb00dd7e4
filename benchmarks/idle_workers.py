"""Many idle workers on one server instance: all connected at once, and the memory each costs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from benchmarks.harness import rss_bytes

# Opening handshakes in flight at once: a fleet starting up, not a stampede.
CONNECTING_AT_ONCE = 20
HOLD_SECONDS = 5.0
WELCOME_TIMEOUT = 60.0
# The whole fleet must be connected within this, or the run goes on with those that are.
CONNECT_TIME_LIMIT = 240.0
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


async def open_worker(
    url: str, token: str, index: int, gate: asyncio.Semaphore
) -> tuple[ClientConnection, float]:
    """A connected worker that said hello; with the heartbeat interval the server asked for."""
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
        welcome = json.loads(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"worker {index} got {welcome}")
        return ws, float(welcome["heartbeat"])


@dataclass
class Fleet:
    url: str
    token: str
    gate: asyncio.Semaphore
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    size: int = 0
    tried: int = 0  # workers whose connection attempt has ended, well or not
    all_tried: asyncio.Event = field(default_factory=asyncio.Event)


async def _idle_worker(fleet: Fleet, index: int) -> bool:
    """Connects, then heartbeats as a real idle worker does until `stop`; True if still open then."""
    stop = fleet.stop
    try:
        ws, heartbeat = await open_worker(fleet.url, fleet.token, index, fleet.gate)
    finally:
        fleet.tried += 1
        if fleet.tried == fleet.size:
            fleet.all_tried.set()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), heartbeat)
            if ws.state is not State.OPEN:
                return False
            if not stop.is_set():
                await ws.send(json.dumps({"type": "heartbeat"}))
        return ws.state is State.OPEN
    finally:
        await _close(ws)


async def idle_workers(base_url: str, token: str, server_pid: int, *, count: int) -> dict[str, Any]:
    """Connects `count` workers, holds them idle, and reports the server's memory per worker."""
    _raise_fd_limit(count + 256)
    url = base_url.replace("http://", "ws://") + "/ws/workers/"
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    ws, _ = await open_worker(url, token, -1, gate)  # the first socket's imports are not per worker
    await _close(ws)
    rss_before = rss_bytes(server_pid)
    fleet = Fleet(url=url, token=token, gate=gate, size=count)
    started = time.monotonic()
    workers = [asyncio.create_task(_idle_worker(fleet, i)) for i in range(count)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(fleet.all_tried.wait(), CONNECT_TIME_LIMIT)
    connect_seconds = time.monotonic() - started
    await asyncio.sleep(HOLD_SECONDS)
    rss_after = rss_bytes(server_pid)
    fleet.stop.set()
    outcomes = await asyncio.gather(*workers, return_exceptions=True)
    still_open = sum(outcome is True for outcome in outcomes)
    failures = [repr(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]
    connected = count - len(failures)
    return {
        "workers": count,
        "connected": connected,
        "still_open_after_hold": still_open,
        "connect_seconds": round(connect_seconds, 2),
        "server_rss_before_mib": round(rss_before / 2**20, 1),
        "server_rss_after_mib": round(rss_after / 2**20, 1),
        "kib_per_worker": round((rss_after - rss_before) / 1024 / max(1, connected), 1),
        "first_failure": failures[0] if failures else None,
    }


async def _close(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        await ws.close()
