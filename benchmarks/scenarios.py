"""What `make bench` measures, one function per section of the results."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks import loadgen
from benchmarks.harness import Children
from benchmarks.idle_workers import idle_workers
from benchmarks.loadgen import Target
from benchmarks.pygeoapi_baseline import pygeoapi_start
from benchmarks.ums import UmsStack, ums_stack
from benchmarks.ws_echo import echo_server_start, round_trips

# pygeoapi's echo plugin, served in-process by the baseline and through a worker by the server.
# Its description requires `pause` (enum 5.5, 10.25, 42.0); the plugin sleeps that long only
# for a float, and the integer 42 passes the enum without a sleep.
ECHO_BODY = {"inputs": {"echoInput": "Echo", "pause": 42}}
# Jobs in one page of /jobs?limit=100.
PAGE = 100


@dataclass(frozen=True)
class Sizes:
    """Loop bounds of one run: the full run and `--quick`."""

    latency_count: int
    ws_round_trips: int
    clients: int
    throughput_seconds: float
    burst_jobs: int
    worker_counts: tuple[int, ...]
    stored_jobs: int
    stored_requests: int
    idle_workers: int


FULL = Sizes(
    latency_count=200, ws_round_trips=2000, clients=16, throughput_seconds=10.0, burst_jobs=320,
    worker_counts=(1, 2, 4), stored_jobs=100_000, stored_requests=200, idle_workers=1000,
)  # fmt: skip
QUICK = Sizes(
    latency_count=10, ws_round_trips=50, clients=4, throughput_seconds=1.0, burst_jobs=8,
    worker_counts=(1,), stored_jobs=200, stored_requests=10, idle_workers=10,
)  # fmt: skip


@dataclass
class Run:
    group: Children
    workdir: Path
    sizes: Sizes


def ws_echo(run: Run) -> dict[str, Any]:
    url = echo_server_start(run.group)
    return asyncio.run(round_trips(url, count=run.sizes.ws_round_trips))


async def _job_figures(target: Target, sizes: Sizes, *, latencies: bool) -> dict[str, Any]:
    """Sync and async latency (optional), closed-loop sync throughput and an async burst."""
    figures: dict[str, Any] = {}
    if latencies:
        figures["sync_latency"] = await loadgen.latency(
            partial(loadgen.execute_sync, target=target), count=sizes.latency_count
        )
        figures["async_latency"] = await loadgen.latency(
            partial(loadgen.execute_async, target=target), count=sizes.latency_count
        )
    figures["sync_throughput"] = await loadgen.closed_loop(
        lambda client, index: loadgen.execute_sync(client, target, index),
        clients=sizes.clients, seconds=sizes.throughput_seconds, max_calls=100_000,
    )  # fmt: skip
    figures["async_burst"] = await loadgen.burst(target, clients=sizes.clients, jobs=sizes.burst_jobs)
    return figures


def pygeoapi(run: Run) -> dict[str, Any]:
    server = pygeoapi_start(run.group, run.workdir / "pygeoapi")
    target = Target(base_urls=[server.base_url], body=ECHO_BODY)
    return asyncio.run(_job_figures(target, run.sizes, latencies=True))


def ums_jobs(run: Run, *, backend: str, instances: int) -> dict[str, Any]:
    """Latencies with one worker, then throughput with each worker count."""
    with ums_stack(run.group, run.workdir / f"{backend}-jobs", backend=backend) as stack:
        stack.start_servers(instances)
        target = Target(base_urls=stack.base_urls, body=ECHO_BODY)
        by_workers = {}
        for count in run.sizes.worker_counts:
            stack.start_workers(count)
            first = count == run.sizes.worker_counts[0]
            by_workers[str(count)] = asyncio.run(_job_figures(target, run.sizes, latencies=first))
            stack.stop_workers()
    first = by_workers[str(run.sizes.worker_counts[0])]
    return {
        "instances": instances,
        "sync_latency": first.pop("sync_latency"),
        "async_latency": first.pop("async_latency"),
        "throughput_by_workers": by_workers,
    }


def stored_jobs(run: Run, *, backend: str) -> dict[str, Any]:
    """`/jobs?limit=100` and a job's status with (almost) no jobs stored and with many."""
    with ums_stack(run.group, run.workdir / f"{backend}-stored", backend=backend) as stack:
        stack.start_servers(1)
        stack.start_workers(1)
        target = Target(base_urls=stack.base_urls, body=ECHO_BODY)
        status_url = asyncio.run(_one_job(target))
        figures, stored = {}, 1
        # One job; one full page (the same response as with many); then many.
        for wanted in (1, PAGE, run.sizes.stored_jobs):
            if wanted > stored:
                stack.dbtool("seed-jobs", str(wanted - stored))
                stored = wanted
            figures[str(stored)] = asyncio.run(_read_figures(stack, status_url, run.sizes.stored_requests))
    return {"by_stored_jobs": figures}


async def _one_job(target: Target) -> str:
    async with loadgen.new_client() as client:
        status_url = await loadgen.submit_async(client, target)
        await loadgen.wait_final(client, status_url, time.monotonic() + loadgen.REQUEST_TIMEOUT)
        return status_url


async def _read_figures(stack: UmsStack, status_url: str, count: int) -> dict[str, Any]:
    list_url = f"{stack.base_urls[0]}/jobs?limit=100"

    async def get(client: httpx.AsyncClient, url: str) -> None:
        (await client.get(url)).raise_for_status()

    return {
        "job_list": await loadgen.latency(partial(get, url=list_url), count=count),
        "job_status": await loadgen.latency(partial(get, url=status_url), count=count),
    }


def idle(run: Run) -> dict[str, Any]:
    with ums_stack(run.group, run.workdir / "sqlite-idle", backend="sqlite") as stack:
        stack.start_servers(1)
        base_url, server = stack.servers[0]
        asyncio.run(_warm(base_url))
        return asyncio.run(idle_workers(base_url, stack.token, server.pid, count=run.sizes.idle_workers))


async def _warm(base_url: str) -> None:
    """Serves a few requests first, so that lazy imports do not count as per-worker memory."""
    async with loadgen.new_client() as client:
        for path in ("/", "/processes", "/jobs"):
            await client.get(base_url + path)
