"""The worker the fault-injection tests run with the SDK's CLI (see tests/live_processes.py).

`work` echoes its message after `seconds`, and records every run it starts in
`$UMS_E2E_EXECUTIONS/<pid>.jsonl`, so a test can tell which job ran where and how often.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ums_worker import Worker

WORK = {
    "id": "work",
    "version": "1.0.0",
    "title": "Work",
    "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
    "inputs": {
        "message": {"title": "Message", "schema": {"type": "string"}},
        "seconds": {
            "title": "Seconds",
            "schema": {"type": "number", "minimum": 0, "default": 0},
            "minOccurs": 0,
        },
    },
    "outputs": {"echo": {"title": "Echo", "schema": {"type": "string"}}},
}

worker = Worker(name="e2e", capacity=1)


@worker.process(WORK)
def work(inputs: dict[str, Any], ctx) -> dict[str, Any]:
    _record({"job": ctx.job, "attempt": ctx.attempt, "pid": os.getpid(), "at": time.time()})
    if ctx.wait_cancelled(float(inputs["seconds"])):
        return {}
    return {"echo": inputs["message"]}


def _record(execution: dict[str, Any]) -> None:
    # One small append per line: whole lines even with several handler threads.
    path = Path(os.environ["UMS_E2E_EXECUTIONS"]) / f"{os.getpid()}.jsonl"
    with path.open("a") as log:
        log.write(json.dumps(execution) + "\n")
