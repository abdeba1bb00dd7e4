"""`resume` in hello: a worker that reconnects keeps the jobs it is still running."""

from __future__ import annotations

import pytest

from tests.factories import receive, send, token_create
from tests.jobs_in_process import echo_job_create, job_get, round_trip, take

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_job_moves_from_the_old_session_that_still_looks_live(connect_worker):
    token = await token_create("reconnecting")
    old, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(old)

    # The old socket is not closed yet (its server died, or has not noticed the lost socket).
    new, welcome = await connect_worker(token, resume=[job_id])

    job = await job_get(job_id)
    assert (str(job.session_id), job.status, job.attempts) == (welcome["session"], "running", 1)
    assert await receive(old) == {"type": "job.cancel", "job": job_id}
    await old.disconnect()
    await send(new, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "x"}}})
    await round_trip(new)
    assert (await job_get(job_id)).status == "successful"


async def test_a_requeued_job_still_waiting_is_taken_back(connect_worker):
    token = await token_create("reconnecting")
    old, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(old)
    await old.disconnect()
    assert (await job_get(job_id)).status == "accepted"

    new, welcome = await connect_worker(token, resume=[job_id])

    job = await job_get(job_id)
    assert (str(job.session_id), job.status, job.attempts) == (welcome["session"], "running", 1)
    assert await new.receive_nothing(timeout=0.2), "not dispatched again"


async def test_a_job_another_worker_took_meanwhile_is_cancelled_on_the_reconnecting_one(connect_worker):
    token = await token_create("first")
    old, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(old)
    await old.disconnect()
    other, other_welcome = await connect_worker(await token_create("second"))
    assert await take(other) == job_id

    again, _ = await connect_worker(token, resume=[job_id])

    assert await receive(again) == {"type": "job.cancel", "job": job_id}
    job = await job_get(job_id)
    assert (str(job.session_id), job.attempts) == (other_welcome["session"], 2)
