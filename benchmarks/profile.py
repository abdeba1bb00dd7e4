"""The hot path, counted: what one synchronous echo job costs the server (execute → dispatch →
worker reports → result), from a Daphne run under benchmarks.profiled_server."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import loadgen
from benchmarks.loadgen import Target
from benchmarks.ums import ums_stack

WARMUP_JOBS = 20
# Functions of the server's own code worth naming in the report.
OWN_CODE = ("ogc/", "jobs/", "registry/", "ums_site/")


def _signal_and_wait(pid: int, signum: int, out: Path | None = None) -> None:
    if out is not None:
        out.unlink(missing_ok=True)
    import os

    os.kill(pid, signum)
    deadline = time.monotonic() + 10
    while out is not None and not out.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the profiled server wrote no figures")
        time.sleep(0.05)
    time.sleep(0.1)


def profile_jobs(run, *, backend: str = "sqlite") -> dict[str, Any]:
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
        _signal_and_wait(pid, signal.SIGUSR1, out)
        figures = json.loads(out.read_text())
    return _per_job(figures, jobs) | {"backend": backend, "jobs": jobs, "sync_latency": latency}


def _per_job(figures: dict[str, Any], jobs: int) -> dict[str, Any]:
    counts = figures["counts"]
    per_job = {name: round(count / jobs, 2) for name, count in sorted(counts.items())}
    per_job["sql statements"] = round(sum(c for n, c in counts.items() if n.startswith("sql ")) / jobs, 2)
    total = sum(count for _, count in figures["samples_self"]) or 1
    own = [(where, n) for where, n in figures["samples_cumulative"] if where.startswith(OWN_CODE)]
    return {
        "per_job": per_job,
        "server_cpu_ms_per_job": round(figures["cpu_seconds"] * 1000 / jobs, 3),
        "hot_self": [(where, round(100 * n / total, 1)) for where, n in figures["samples_self"][:15]],
        "hot_own_cumulative": [(where, round(100 * n / total, 1)) for where, n in own[:15]],
    }
