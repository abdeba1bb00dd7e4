"""HTTP clients of the benchmarks: latency loops and concurrent throughput, all bounded."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

FINAL = {"successful", "failed", "dismissed"}
POLL_SECONDS = 0.005
# Every request gives up after this long; a run never hangs on a stuck server.
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True)
class Target:
    """An OGC API – Processes server (one or more instances) and the execute body of its echo."""

    base_urls: Sequence[str]
    body: dict[str, Any]
    process: str = "echo"

    def execute_url(self, client_index: int = 0) -> str:
        return f"{self.base_urls[client_index % len(self.base_urls)]}/processes/{self.process}/execution"


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=REQUEST_TIMEOUT, headers={"Accept": "application/json"})


def summary(seconds: Sequence[float]) -> dict[str, float]:
    """Median, p95 and mean in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(p95 * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


async def execute_sync(client: httpx.AsyncClient, target: Target, index: int = 0) -> None:
    response = await client.post(target.execute_url(index), json=target.body)
    if response.status_code != 200:
        raise RuntimeError(f"sync execute answered {response.status_code}: {response.text[:200]}")


async def submit_async(client: httpx.AsyncClient, target: Target, index: int = 0) -> str:
    """Submits an asynchronous execution; returns the job's status URL."""
    response = await client.post(
        target.execute_url(index), json=target.body, headers={"Prefer": "respond-async"}
    )
    if response.status_code != 201:
        raise RuntimeError(f"async execute answered {response.status_code}: {response.text[:200]}")
    return response.headers["Location"]


async def wait_final(client: httpx.AsyncClient, status_url: str, deadline: float) -> str:
    """Polls a job every POLL_SECONDS until it is final; returns its status."""
    while True:
        status = (await client.get(status_url)).json()["status"]
        if status in FINAL or time.monotonic() > deadline:
            return status
        await asyncio.sleep(POLL_SECONDS)


async def execute_async(client: httpx.AsyncClient, target: Target, index: int = 0) -> None:
    status_url = await submit_async(client, target, index)
    status = await wait_final(client, status_url, time.monotonic() + REQUEST_TIMEOUT)
    if status != "successful":
        raise RuntimeError(f"async job ended {status}")


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def latency(
    call: Callable[[httpx.AsyncClient], Awaitable[Any]], *, count: int, warmup: int = 5
) -> dict[str, Any]:
    """One client, one request at a time: `count` timed calls after `warmup` untimed ones.

    A failed call is counted, not timed: a server that fails now and then still gets figures.
    """
    return (await latencies_in_turn([call], count=count, warmup=warmup))[0]


async def latencies_in_turn(
    calls: Sequence[Callable[[httpx.AsyncClient], Awaitable[Any]]], *, count: int, warmup: int = 5
) -> list[dict[str, Any]]:
    """`latency` of several calls (servers, requests) at once, made in turn: a change of the
    shared machine's speed hits each alike, where one after the other it swung their ratio."""
    times: list[list[float]] = [[] for _ in calls]
    errors: list[list[str]] = [[] for _ in calls]
    async with new_client() as client:
        for round_ in range(warmup + count):
            for call, call_times, call_errors in zip(calls, times, errors, strict=True):
                try:
                    took = await timed(lambda call=call: call(client))
                except (RuntimeError, httpx.HTTPError) as error:
                    call_errors.append(str(error))
                    continue
                if round_ >= warmup:
                    call_times.append(took)
    return [
        (summary(call_times) if call_times else {})
        | {"errors": len(call_errors), "first_error": call_errors[0] if call_errors else None}
        for call_times, call_errors in zip(times, errors, strict=True)
    ]


async def closed_loop(
    call: Callable[[httpx.AsyncClient, int], Awaitable[Any]], *, clients: int, seconds: float, max_calls: int
) -> dict[str, float]:
    """`clients` clients, each calling again as soon as its last call ended, for `seconds`."""
    done: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    async def one_client(index: int) -> None:
        async with new_client() as client:
            await call(client, index)  # warm the connection; not counted
            while time.monotonic() < stop_at and len(done) + len(errors) < max_calls:
                try:
                    done.append(await timed(lambda: call(client, index)))
                except (RuntimeError, httpx.HTTPError) as error:
                    errors.append(str(error))

    started = time.monotonic()
    await asyncio.gather(*(one_client(index) for index in range(clients)))
    elapsed = time.monotonic() - started
    return _throughput(len(done), elapsed, errors) | {"latency": summary(done) if done else {}}


async def burst(target: Target, *, clients: int, jobs: int) -> dict[str, float]:
    """`jobs` asynchronous submissions by `clients` clients; jobs/s until the last is final."""
    urls: list[str] = []
    errors: list[str] = []
    per_client = jobs // clients

    async def submitter(index: int) -> None:
        async with new_client() as client:
            for _ in range(per_client):
                try:
                    urls.append(await submit_async(client, target, index))
                except (RuntimeError, httpx.HTTPError) as error:
                    errors.append(str(error))

    started = time.monotonic()
    await asyncio.gather(*(submitter(index) for index in range(clients)))
    deadline = time.monotonic() + REQUEST_TIMEOUT
    async with new_client() as client:
        statuses = [await wait_final(client, url, deadline) for url in urls]
    elapsed = time.monotonic() - started
    errors += [f"job ended {status}" for status in statuses if status != "successful"]
    return _throughput(statuses.count("successful"), elapsed, errors)


def _throughput(jobs: int, seconds: float, errors: list[str]) -> dict[str, Any]:
    return {
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "jobs_per_s": round(jobs / seconds, 2) if seconds else 0.0,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }
