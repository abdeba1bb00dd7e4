"""A worker that rejects every job: the job goes back to the queue at once."""

from __future__ import annotations

import pytest

from tests.live_processes import job_wait, wait_until, worker_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_rejected_job_runs_on_another_worker(processes):
    # Only the rejection can bring the job back in time; the rejecting worker is not offered it
    # again before the other one is there.
    server = processes.server(UMS_ACK_TIMEOUT="600", UMS_RETRY_DELAY="600")
    token = worker_token()
    choosy = processes.misbehaving_worker(server, token, mode="reject")
    job_id = server.execute("work", {"message": "taken"})
    wait_until(
        lambda: f"job.execute {job_id}" in choosy.tail(), message="the rejecting worker to get the job"
    )
    processes.worker(server, token, name="willing")

    job = job_wait(job_id, "successful")
    assert job.results.get().value == "taken"
    assert [run["job"] for run in processes.executions()] == [job_id]


def test_a_job_every_worker_rejects_fails_with_the_reason(processes):
    server = processes.server(UMS_ACK_TIMEOUT="600", UMS_RETRY_DELAY="0.2", UMS_JOB_MAX_ATTEMPTS="3")
    processes.misbehaving_worker(server, worker_token(), mode="reject")
    job_id = server.execute("work", {"message": "refused"})

    job = job_wait(job_id, "failed")
    assert job.attempts == 3
    assert job.message == "Gave up after 3 attempt(s): rejected by worker reject: on purpose"
