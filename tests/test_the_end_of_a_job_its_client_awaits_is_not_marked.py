"""A job whose client awaits its end in the response (a synchronous execution) gets that end
from its signal: the instance writing the end does not mark it on Redis for the other
instances' status requests. The end of an asynchronous job is marked."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings
from django.test import AsyncClient

import jobs.waiting
from tests.factories import receive, send
from tests.status_waits import status_of

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


@pytest.fixture(autouse=True)
def long_mark(monkeypatch):
    """A mark set lives a minute: still there when the test looks."""
    monkeypatch.setattr(jobs.waiting, "END_WRITE_WAIT_SECONDS", 60)


async def execute(prefer: str | None = None):
    headers = {"Prefer": prefer} if prefer else {}
    return await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "hi"}},
        content_type="application/json",
        headers=headers,
    )


async def succeed(ws) -> str:
    """Acts as the worker for the next job: succeeds it, returns its id."""
    frame = await receive(ws)
    assert frame["type"] == "job.execute"
    await send(ws, {"type": "job.succeeded", "job": frame["job"], "outputs": {"echo": {"value": "hi"}}})
    return frame["job"]


@needs_redis
@pytest.mark.django_db(transaction=True)
async def test_the_end_of_a_synchronous_execution_is_not_marked(connect_worker, other_instance, monkeypatch):
    monkeypatch.setattr(jobs.waiting, "_awaited", {})
    ws, _ = await connect_worker()
    response = asyncio.create_task(execute())
    job_id = await succeed(ws)
    assert (await asyncio.wait_for(response, 10)).status_code == 200
    assert not await other_instance.is_marked(f"ending.{job_id}")
    assert jobs.waiting._awaited == {}  # taken by the end


@needs_redis
@pytest.mark.django_db(transaction=True)
async def test_the_end_of_an_asynchronous_execution_is_marked(connect_worker, other_instance):
    ws, _ = await connect_worker()
    assert (await execute(prefer="respond-async")).status_code == 201
    job_id = await succeed(ws)
    for _ in range(500):
        if await status_of(job_id) == "successful":
            break
        await asyncio.sleep(0.01)
    assert await other_instance.is_marked(f"ending.{job_id}")


def test_the_jobs_remembered_as_awaited_are_bounded(monkeypatch):
    monkeypatch.setattr(jobs.waiting, "_awaited", {})
    monkeypatch.setattr(jobs.waiting, "AWAITED_MAX", 2)
    ids = ["00000000-0000-0000-0000-00000000000" + str(n) for n in range(3)]
    for job_id in [*ids, "not a job id"]:
        jobs.waiting.end_awaited(job_id)
    assert list(jobs.waiting._awaited) == ids[1:]
