"""What `make bench` measures, one function per section of the results."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
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
from benchmarks.ums import ums_stack
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


async def _throughput(target: Target, sizes: Sizes) -> dict[str, Any]:
    """Closed-loop sync throughput and an async burst."""
    return {
        "sync_throughput": await loadgen.closed_loop(
            lambda client, index: loadgen.execute_sync(client, target, index),
            clients=sizes.clients, seconds=sizes.throughput_seconds, max_calls=100_000,
        ),
        "async_burst": await loadgen.burst(target, clients=sizes.clients, jobs=sizes.burst_jobs),
    }  # fmt: skip


async def _latencies(targets: list[Target], sizes: Sizes) -> list[dict[str, Any]]:
    """Sync and async latency of each target, the targets taking their jobs in turn."""
    figures: list[dict[str, Any]] = [{} for _ in targets]
    for kind, execute in (("sync_latency", loadgen.execute_sync), ("async_latency", loadgen.execute_async)):
        calls = [_each_instance_in_turn(execute, target) for target in targets]
        for target_figures, latency in zip(
            figures, await loadgen.latencies_in_turn(calls, count=sizes.latency_count), strict=True
        ):
            target_figures[kind] = latency
    return figures


def _each_instance_in_turn(
    execute: Callable[..., Awaitable[None]], target: Target
) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
    """`execute` of a job on the target's next instance, as a round-robin load balancer sends."""
    jobs = itertools.count()
    return lambda client: execute(client, target, next(jobs))


def pygeoapi(run: Run) -> dict[str, Any]:
    """pygeoapi on its own: the reference figures of the tables."""
    server = pygeoapi_start(run.group, run.workdir / "pygeoapi")
    target = Target(base_urls=[server.base_url], body=ECHO_BODY)
    (latencies,) = asyncio.run(_latencies([target], run.sizes))
    return latencies | asyncio.run(_throughput(target, run.sizes))


def ums_jobs(run: Run, *, backend: str, instances: int) -> dict[str, Any]:
    """Latencies with one worker, then throughput with each worker count.

    The targets' ratios compare with a pygeoapi started alongside: its latencies are measured
    in turn with ours, and a burst of it right before each burst of ours. The machine's speed
    changed by up to half between sections of one run, and with it ratios to the pygeoapi
    section; within a section, from one worker count to the next.
    """
    with ums_stack(run.group, run.workdir / f"{backend}-jobs", backend=backend) as stack:
        stack.start_servers(instances)
        target = Target(base_urls=stack.base_urls, body=ECHO_BODY)
        pyg = pygeoapi_start(run.group, run.workdir / f"{backend}-pygeoapi")
        pyg_target = Target(base_urls=[pyg.base_url], body=ECHO_BODY)
        by_workers = {}
        for count in run.sizes.worker_counts:
            stack.start_workers(count)
            if count == run.sizes.worker_counts[0]:
                latencies, alongside = asyncio.run(_latencies([target, pyg_target], run.sizes))
            pyg_burst = asyncio.run(
                loadgen.burst(pyg_target, clients=run.sizes.clients, jobs=run.sizes.burst_jobs)
            )
            alongside.setdefault("async_burst", pyg_burst)
            by_workers[str(count)] = asyncio.run(_throughput(target, run.sizes)) | {
                "pygeoapi_async_burst": pyg_burst
            }
            stack.stop_workers()
    return {
        "instances": instances,
        **latencies,
        "throughput_by_workers": by_workers,
        "pygeoapi_alongside": alongside,
    }


def stored_jobs(run: Run, *, backend: str) -> dict[str, Any]:
    """`/jobs?limit=100`, a job's status and a synchronous execution, with one job stored, with
    a full page, and with many.

    Two servers on two databases, one with a full page of jobs and one with many, take the
    requests in turn: a change of the machine's load (it is shared) hits both alike, where
    one after the other it made the ratio swing by half.
    """
    workdir = run.workdir / f"{backend}-stored"
    with (
        ums_stack(run.group, workdir / "page", backend=backend, name="ums_bench_page") as page,
        ums_stack(run.group, workdir / "many", backend=backend, name="ums_bench_many") as many,
    ):
        servers = []
        for stack in (page, many):
            stack.start_servers(1)
            stack.start_workers(1)
            target = Target(base_urls=stack.base_urls, body=ECHO_BODY)
            servers.append(
                {
                    "job_list": partial(_get_ok, url=f"{stack.base_urls[0]}/jobs?limit=100"),
                    "job_status": partial(_get_ok, url=asyncio.run(_one_job(target))),
                    "sync_execute": partial(loadgen.execute_sync, target=target),
                }
            )
        count = run.sizes.stored_requests
        figures = {"1": asyncio.run(_in_turn(servers[:1], count))[0]}
        page.dbtool("seed-jobs", str(PAGE - 1))
        many.dbtool("seed-jobs", str(run.sizes.stored_jobs - 1))
        in_turn = asyncio.run(_in_turn(servers, count))
    return {"by_stored_jobs": figures | {str(PAGE): in_turn[0], str(run.sizes.stored_jobs): in_turn[1]}}


async def _one_job(target: Target) -> str:
    async with loadgen.new_client() as client:
        status_url = await loadgen.submit_async(client, target)
        await loadgen.wait_final(client, status_url, time.monotonic() + loadgen.REQUEST_TIMEOUT)
        return status_url


async def _in_turn(servers: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Latencies of `count` of each server's requests, the servers taking them in turn."""
    calls = [call for server in servers for call in server.values()]
    figures = iter(await loadgen.latencies_in_turn(calls, count=count))
    return [{kind: next(figures) for kind in server} for server in servers]


async def _get_ok(client: httpx.AsyncClient, url: str) -> None:
    (await client.get(url)).raise_for_status()


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
