"""The last worker of a process leaves: its queued jobs wait the queue timeout, then fail."""

from __future__ import annotations

import httpx
import pytest

from jobs.models import Job
from tests.live_processes import all_final, job_wait, wait_until, worker_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_jobs_of_a_process_nobody_provides_fail_after_the_queue_timeout(processes):
    server = processes.server(UMS_QUEUE_TIMEOUT="2")
    worker = processes.worker(server, worker_token(), capacity=1)
    running = server.execute("work", {"message": "running", "seconds": 60})
    queued = server.execute("work", {"message": "queued"})
    job_wait(running, "running")

    worker.kill()

    wait_until(
        lambda: httpx.get(f"{server.url}/processes").json()["processes"] == [], message="no process listed"
    )
    # The requeued job waits again, for the queue timeout counted from the worker's departure.
    job_wait(running, "accepted")
    wait_until(lambda: all_final([running, queued]), 20, "both jobs to end")
    for job in Job.objects.filter(pk__in=[running, queued]):
        assert job.status == "failed"
        assert job.message == "No worker provided process 'work' for 2 s while the job was queued"
        assert job.error["title"] == "No worker available"
