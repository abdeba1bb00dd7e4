"""The hot path, counted: what one synchronous echo job costs the server (execute → dispatch →
worker reports → result), from a Daphne run under benchmarks.profiled_server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import loadgen
from benchmarks.idle_workers import open_worker
from benchmarks.loadgen import Target
from benchmarks.ums import ums_stack

WARMUP_JOBS = 20
HEARTBEAT_SETTLE_SECONDS = 1.0
# Functions of the server's own code worth naming in the report.
OWN_CODE = ("ogc/", "jobs/", "registry/", "ums_site/")


def _signal_and_wait(pid: int, signum: int, out: Path | None = None) -> None:
    if out is not None:
        out.unlink(missing_ok=True)
    os.kill(pid, signum)
    deadline = time.monotonic() + 10
    while out is not None and not out.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the profiled server wrote no figures")
        time.sleep(0.05)
    time.sleep(0.1)


def profile_hot_path(run, *, backend: str = "sqlite") -> dict[str, Any]:
    """Per synchronous echo job, and per worker hello, on one profiled instance."""
    from benchmarks.scenarios import ECHO_BODY  # scenarios imports this module's callers

    out = run.workdir / "profile.json"
    env = {"UMS_PROFILE_OUT": str(out), "UMS_SWEEP_INTERVAL": "3600"}  # no sweeps in the figures
    with ums_stack(run.group, run.workdir / backend, backend=backend) as stack:
        stack.start_servers(1, module="benchmarks.profiled_server", env=env)
        stack.start_workers(1)
        target = Target(base_urls=stack.base_urls, body=ECHO_BODY)
        pid = stack.servers[0][1].pid
        jobs = run.sizes.latency_count
        sync = partial(loadgen.execute_sync, target=target)
        asyncio.run(loadgen.latency(sync, count=1, warmup=WARMUP_JOBS))
        _signal_and_wait(pid, signal.SIGUSR2)
        latency = asyncio.run(loadgen.latency(sync, count=jobs, warmup=0))
        job = _per_unit(_figures(pid, out), jobs) | {"jobs": jobs, "sync_latency": latency}
        workers = max(1, run.sizes.idle_workers // 20)
        hello, heartbeat = asyncio.run(
            _workers_connecting(stack.base_urls[0], stack.token, workers, pid, out)
        )
    return {"backend": backend, "per_job": job, "per_hello": hello, "per_heartbeat": heartbeat}


def _figures(pid: int, out: Path) -> dict[str, Any]:
    _signal_and_wait(pid, signal.SIGUSR1, out)
    return json.loads(out.read_text())


async def _workers_connecting(
    base_url: str, token: str, count: int, pid: int, out: Path
) -> tuple[dict, dict]:
    """Workers connecting one after the other (hello → welcome), then one heartbeat each."""
    url = base_url.replace("http://", "ws://") + "/ws/workers/"
    gate = asyncio.Semaphore(1)
    _signal_and_wait(pid, signal.SIGUSR2)
    sockets = [(await open_worker(url, token, index, gate))[0] for index in range(count)]
    hello = _per_unit(_figures(pid, out), count) | {"hellos": count}
    _signal_and_wait(pid, signal.SIGUSR2)
    for ws in sockets:
        await ws.send(json.dumps({"type": "heartbeat"}))
    await asyncio.sleep(HEARTBEAT_SETTLE_SECONDS)  # heartbeats have no answer to wait for
    heartbeat = _per_unit(_figures(pid, out), count) | {"heartbeats": count}
    for ws in sockets:
        await ws.close()
    return hello, heartbeat


def _per_unit(figures: dict[str, Any], units: int) -> dict[str, Any]:
    counts = figures["counts"]
    per_unit = {name: round(count / units, 2) for name, count in sorted(counts.items())}
    per_unit["sql statements"] = round(sum(c for n, c in counts.items() if n.startswith("sql ")) / units, 2)
    total = sum(count for _, count in figures["samples_self"]) or 1
    own = [(where, n) for where, n in figures["samples_cumulative"] if where.startswith(OWN_CODE)]
    return {
        "counts": per_unit,
        "statements": [(sql, round(n / units, 2)) for sql, n in figures["statements"]],
        "server_cpu_ms": round(figures["cpu_seconds"] * 1000 / units, 3),
        "hot_self": [(where, round(100 * n / total, 1)) for where, n in figures["samples_self"][:15]],
        "hot_own_cumulative": [(where, round(100 * n / total, 1)) for where, n in own[:15]],
    }
