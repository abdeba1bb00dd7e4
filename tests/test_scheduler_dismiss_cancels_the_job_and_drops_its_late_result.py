"""Dismissing a job sends job.cancel to its worker; a result arriving afterwards is dropped."""

from __future__ import annotations

import pytest

from jobs.models import JobOutput
from jobs.notifications import Outbox, outbox_deliver
from jobs.services import job_dismiss
from tests.factories import receive, send
from tests.jobs_in_process import echo_job_create, job_get, round_trip, take
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


async def dismiss(job_id: str) -> None:
    outbox = Outbox()
    await db_sync_to_async(job_dismiss)(job_id=job_id, outbox=outbox)
    await outbox_deliver(outbox)


async def test_the_worker_is_told_to_stop_and_its_late_result_is_dropped(connect_worker):
    ws, _ = await connect_worker()
    job_id = await echo_job_create()
    await take(ws)

    await dismiss(job_id)

    assert await receive(ws) == {"type": "job.cancel", "job": job_id}
    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "late"}}})
    await round_trip(ws)
    assert (await job_get(job_id)).status == "dismissed"
    assert not await db_sync_to_async(JobOutput.objects.exists)()


async def test_the_freed_slot_goes_to_the_next_job(connect_worker):
    ws, _ = await connect_worker(capacity=1)
    first = await echo_job_create("first")
    second = await echo_job_create("second")
    await take(ws)

    await dismiss(first)

    assert await receive(ws) == {"type": "job.cancel", "job": first}
    assert await take(ws) == second
