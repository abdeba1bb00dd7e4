"""A report on a job that is already final (sent again after a reconnect, or late) changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import send
from tests.jobs_in_process import echo_job_create, job_get, round_trip, take
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "late",
    [
        {"type": "job.started"},
        {"type": "job.progress", "progress": 10},
        {"type": "job.rejected", "reason": "late"},
        {"type": "job.failed", "error": {"title": "late"}},
        {"type": "job.succeeded", "outputs": {"echo": {"value": "late"}}},
    ],
)
async def test_a_late_report_does_not_reopen_or_change_a_finished_job(connect_worker, late):
    ws, _ = await connect_worker()
    job_id = await echo_job_create()
    await take(ws)
    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "first"}}})
    await round_trip(ws)

    await send(ws, {**late, "job": job_id})
    await round_trip(ws)  # no error frame in between: the report is dropped silently

    job = await job_get(job_id)
    assert (job.status, job.progress, job.attempts) == ("successful", 100, 1)
    values = await db_sync_to_async(lambda: list(job.results.values_list("value", flat=True)))()
    assert values == ["first"]
