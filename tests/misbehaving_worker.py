"""A worker that misbehaves on purpose, for fault-injection tests: `never-ack` takes jobs and
never starts them; `reject` rejects every job. It heartbeats, so only the job is at fault.

    python tests/misbehaving_worker.py SERVER_URL never-ack|reject    (token: $UMS_WORKER_TOKEN)
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from websockets.asyncio.client import ClientConnection, connect

from tests.e2e_worker import WORK


async def main(server: str, mode: str) -> None:
    url = server.replace("http://", "ws://", 1) + "/ws/workers/"
    headers = {"Authorization": f"Bearer {os.environ['UMS_WORKER_TOKEN']}"}
    async with connect(url, additional_headers=headers) as ws:
        hello = {"type": "hello", "protocol": 1, "name": mode, "capacity": 1, "processes": [WORK]}
        await ws.send(json.dumps(hello))
        welcome = json.loads(await ws.recv())
        print("welcome", welcome, flush=True)
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(_heartbeat(ws, welcome["heartbeat"]))
            tasks.create_task(_serve(ws, mode))


async def _heartbeat(ws: ClientConnection, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        await ws.send(json.dumps({"type": "heartbeat"}))


async def _serve(ws: ClientConnection, mode: str) -> None:
    async for message in ws:
        frame = json.loads(message)
        print("received", frame["type"], frame.get("job"), flush=True)
        if frame["type"] == "job.execute" and mode == "reject":
            await ws.send(json.dumps({"type": "job.rejected", "job": frame["job"], "reason": "on purpose"}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
