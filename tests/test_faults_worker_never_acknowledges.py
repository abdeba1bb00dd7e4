"""A worker that takes jobs and never starts them: the acknowledgement timeout requeues them."""

from __future__ import annotations

import pytest

from tests.live_processes import job_wait, wait_until, worker_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_unacknowledged_job_goes_to_another_worker(processes):
    server = processes.server(UMS_ACK_TIMEOUT="1", UMS_JOB_MAX_ATTEMPTS="5")
    token = worker_token()
    silent = processes.misbehaving_worker(server, token, mode="never-ack")
    job_id = server.execute("work", {"message": "acknowledged"})
    wait_until(lambda: f"job.execute {job_id}" in silent.tail(), message="the silent worker to get the job")

    processes.worker(server, token, name="willing")

    job = job_wait(job_id, "successful")
    assert job.attempts >= 2
    assert job.results.get().value == "acknowledged"
    assert f"job.cancel {job_id}" in silent.tail()
    assert [run["job"] for run in processes.executions()] == [job_id]


def test_a_job_nobody_acknowledges_fails_once_its_attempts_are_used_up(processes):
    server = processes.server(UMS_ACK_TIMEOUT="0.5", UMS_RETRY_DELAY="0", UMS_JOB_MAX_ATTEMPTS="2")
    processes.misbehaving_worker(server, worker_token(), mode="never-ack")
    job_id = server.execute("work", {"message": "ignored"})

    job = job_wait(job_id, "failed")
    assert job.attempts == 2
    assert job.message == "Gave up after 2 attempt(s): the worker did not acknowledge the job in time"
