"""Demo processes for `make run` and for the server's end-to-end tests.

ums-worker --server http://127.0.0.1:8000 --token TOKEN ums_worker.demo:worker
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .context import JobContext
from .worker import Worker

worker = Worker(name="demo", capacity=4)

_BOTH = ["sync-execute", "async-execute", "dismiss"]


@worker.process(
    {
        "id": "echo",
        "version": "1.0.0",
        "title": "Echo",
        "description": "Returns the message it was given.",
        "jobControlOptions": _BOTH,
        "outputTransmission": ["value"],
        "inputs": {
            "message": {
                "title": "Message",
                "description": "Text to echo back.",
                "schema": {"type": "string"},
                "minOccurs": 1,
                "maxOccurs": 1,
            }
        },
        "outputs": {"echo": {"title": "Echo", "schema": {"type": "string"}}},
    }
)
def echo(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    return {"echo": inputs["message"]}


_SLEEP_INPUTS = {
    "seconds": {
        "title": "Seconds",
        "description": "How long to run.",
        "schema": {"type": "number", "minimum": 0, "maximum": 3600, "default": 1},
        "minOccurs": 0,
        "maxOccurs": 1,
    },
    "steps": {
        "title": "Progress steps",
        "description": "How many progress reports to send.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 4},
        "minOccurs": 0,
        "maxOccurs": 1,
    },
}
_SLEEP_OUTPUTS = {"slept": {"title": "Seconds slept", "schema": {"type": "number"}}}


@worker.process(
    {
        "id": "sleep",
        "version": "1.0.0",
        "title": "Sleep",
        "description": "Blocks a thread for `seconds`, reporting progress in `steps`; honours dismissal.",
        "jobControlOptions": _BOTH,
        "inputs": _SLEEP_INPUTS,
        "outputs": _SLEEP_OUTPUTS,
    }
)
def sleep(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    seconds, steps = float(inputs["seconds"]), int(inputs["steps"])
    started = time.monotonic()
    for step in range(steps):
        ctx.progress(100 * step / steps, f"step {step + 1} of {steps}")
        if ctx.wait_cancelled(seconds / steps):
            return {}
    return {"slept": round(time.monotonic() - started, 3)}


@worker.process(
    {
        "id": "sleep-async",
        "version": "1.0.0",
        "title": "Sleep (async)",
        "description": "Like sleep, as an async handler in the event loop; cancelled by dismissal.",
        "jobControlOptions": _BOTH,
        "inputs": _SLEEP_INPUTS,
        "outputs": _SLEEP_OUTPUTS,
    }
)
async def sleep_async(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    seconds, steps = float(inputs["seconds"]), int(inputs["steps"])
    started = time.monotonic()
    for step in range(steps):
        ctx.progress(100 * step / steps, f"step {step + 1} of {steps}")
        await asyncio.sleep(seconds / steps)
    return {"slept": round(time.monotonic() - started, 3)}


@worker.process(
    {
        "id": "fail",
        "version": "1.0.0",
        "title": "Fail",
        "description": "Raises an exception with the given message: shows how failures are reported.",
        "jobControlOptions": _BOTH,
        "inputs": {
            "message": {
                "title": "Message",
                "schema": {"type": "string", "default": "this process always fails"},
                "minOccurs": 0,
                "maxOccurs": 1,
            }
        },
        "outputs": {"never": {"title": "Never produced", "schema": {"type": "string"}}},
    }
)
def fail(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    raise ValueError(inputs["message"])


@worker.process(
    {
        "id": "large-output",
        "version": "1.0.0",
        "title": "Large output",
        "description": "Returns a string of `kib` KiB; above the upload threshold it travels over HTTP.",
        "jobControlOptions": _BOTH,
        "inputs": {
            "kib": {
                "title": "Size in KiB",
                "schema": {"type": "integer", "minimum": 0, "maximum": 65536, "default": 1024},
                "minOccurs": 0,
                "maxOccurs": 1,
            }
        },
        "outputs": {
            "data": {"title": "Data", "schema": {"type": "string", "contentMediaType": "text/plain"}}
        },
    }
)
def large_output(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    return {"data": "x" * (int(inputs["kib"]) * 1024)}
