"""A worker socket handles the reports of different jobs at once, each job's reports in the
order they came; any other frame is answered once the reports before it are recorded, and a
socket that closes keeps the ends its worker reported."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from jobs.models import Job, JobStatus
from registry import consumers
from registry.consumers import WorkerConsumer
from tests.factories import receive, send, submitted

pytestmark = pytest.mark.django_db(transaction=True)

SETTLE_SECONDS = 0.2


def succeeded(job_id: str) -> dict:
    return {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "hi"}}}


@pytest.fixture
def held(monkeypatch) -> Callable[[str, str], asyncio.Event]:
    """`held(job_id, frame_type)`: that report waits until the event it gives is set."""
    holds: dict[tuple[str, str], asyncio.Event] = {}
    report = WorkerConsumer._report

    async def held_report(self, frame) -> None:
        hold = holds.get((frame.data["job"], frame.type))
        if hold is not None:
            await hold.wait()
        await report(self, frame)

    monkeypatch.setattr(WorkerConsumer, "_report", held_report)
    return lambda job_id, frame_type: holds.setdefault((job_id, frame_type), asyncio.Event())


async def status(job_id: str) -> str:
    return (await Job.objects.aget(pk=job_id)).status


async def until_status(job_id: str, expected: str) -> None:
    async with asyncio.timeout(5):
        # The write runs on a database thread, which cannot set an asyncio event: polled.
        while await status(job_id) != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def running_jobs(connect_worker, count: int):
    ws, _ = await connect_worker(capacity=count)
    jobs = [await submitted() for _ in range(count)]
    for _ in jobs:
        assert (await receive(ws))["type"] == "job.execute"
    return ws, jobs


async def test_the_end_of_one_job_waits_not_for_anothers(connect_worker, held):
    ws, (first, second) = await running_jobs(connect_worker, 2)
    release = held(first, "job.succeeded")
    await send(ws, succeeded(first))
    await send(ws, succeeded(second))
    await until_status(second, JobStatus.SUCCESSFUL)
    assert await status(first) == JobStatus.ACCEPTED
    release.set()
    await until_status(first, JobStatus.SUCCESSFUL)


async def test_a_jobs_reports_are_handled_in_order(connect_worker, held):
    ws, (job,) = await running_jobs(connect_worker, 1)
    release = held(job, "job.started")
    await send(ws, {"type": "job.started", "job": job})
    await send(ws, succeeded(job))
    await asyncio.sleep(SETTLE_SECONDS)
    assert await status(job) == JobStatus.ACCEPTED
    release.set()
    await until_status(job, JobStatus.SUCCESSFUL)
    assert (await Job.objects.aget(pk=job)).started is not None


async def test_another_frame_is_answered_once_the_reports_before_it_are_recorded(connect_worker, held):
    ws, (job,) = await running_jobs(connect_worker, 1)
    release = held(job, "job.succeeded")
    await send(ws, succeeded(job))
    await send(ws, {"type": "unregister", "processes": []})
    assert await ws.receive_nothing(timeout=SETTLE_SECONDS)
    release.set()
    assert (await receive(ws))["type"] == "registered"
    assert await status(job) == JobStatus.SUCCESSFUL


async def test_a_socket_closed_during_a_report_keeps_the_reported_end(connect_worker, held):
    ws, (job,) = await running_jobs(connect_worker, 1)
    release = held(job, "job.succeeded")
    await send(ws, succeeded(job))
    closing = asyncio.create_task(ws.disconnect())
    await asyncio.sleep(SETTLE_SECONDS)
    release.set()
    await asyncio.wait_for(closing, 5)
    await until_status(job, JobStatus.SUCCESSFUL)  # not requeued with the session's jobs


async def test_past_the_bound_the_next_report_waits_for_one_to_end(connect_worker, held, monkeypatch):
    monkeypatch.setattr("registry.consumers.REPORTS_AT_ONCE_MAX", 1)
    ws, (first, second) = await running_jobs(connect_worker, 2)
    release = held(first, "job.succeeded")
    await send(ws, succeeded(first))
    await send(ws, succeeded(second))
    await asyncio.sleep(SETTLE_SECONDS)
    assert await status(second) == JobStatus.ACCEPTED
    release.set()
    await until_status(second, JobStatus.SUCCESSFUL)


async def test_a_report_that_fails_on_the_servers_side_closes_the_socket(connect_worker, monkeypatch):
    def broken(**fields) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setitem(consumers.JOB_REPORTS, "job.progress", broken)
    ws, (job,) = await running_jobs(connect_worker, 1)
    await send(ws, {"type": "job.progress", "job": job, "progress": 10})
    assert await ws.receive_output(timeout=5) == {"type": "websocket.close", "code": 1011}
