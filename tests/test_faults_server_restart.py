"""kill -9 of the only server instance with jobs running and queued, then a restart: every job
finishes, and the ones the worker kept running are resumed, not run again."""

from __future__ import annotations

import pytest

from jobs.models import Job
from tests.live_processes import all_final, wait_until, worker_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_restarted_server_recovers_every_job(processes):
    server = processes.server()
    processes.worker(server, worker_token(), capacity=2)
    jobs = [server.execute("work", {"message": str(n), "seconds": 3}) for n in range(5)]
    wait_until(lambda: Job.objects.filter(status="running").count() == 2, message="two jobs to run")
    running = set(map(str, Job.objects.filter(status="running").values_list("pk", flat=True)))

    server.kill()
    processes.server(port=server.port, name="restarted")

    wait_until(lambda: all_final(jobs), 60, "every job to end")
    assert set(Job.objects.filter(pk__in=jobs).values_list("status", flat=True)) == {"successful"}
    for job in Job.objects.filter(pk__in=jobs):
        assert job.results.get().value == job.inputs["message"]
    runs = processes.executions()
    assert sorted(run["job"] for run in runs) == sorted(jobs), "each job ran exactly once"
    assert {run["job"] for run in runs if run["attempt"] == 1} >= running
