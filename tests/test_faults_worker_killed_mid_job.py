"""kill -9 of a worker while it runs a job: the job runs again on another worker."""

from __future__ import annotations

import pytest

from tests.live_processes import job_wait, wait_until, worker_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_job_of_a_killed_worker_finishes_on_another(processes):
    server = processes.server()
    token = worker_token()
    doomed = processes.worker(server, token, name="doomed")
    job_id = server.execute("work", {"message": "survived", "seconds": 3})
    job_wait(job_id, "running")
    processes.worker(server, token, name="rescuer")
    wait_until(lambda: len(processes.executions()) == 1, message="the first worker to start the job")

    doomed.kill()

    job = job_wait(job_id, "successful")
    assert job.attempts == 2
    assert job.results.get().value == "survived"
    runs = processes.executions()
    assert [run["attempt"] for run in runs] == [1, 2]
    assert runs[0]["pid"] == doomed.pid and runs[1]["pid"] != doomed.pid
