"""kill -9 of one of two server instances on PostgreSQL + Redis while its workers hold jobs: the
survivor declares its sessions dead by their missed heartbeats and the jobs finish elsewhere."""

from __future__ import annotations

import pytest

from jobs.models import Job
from registry.models import WorkerSession
from tests.live_processes import all_final, scale_out, wait_until, worker_token

pytestmark = [pytest.mark.e2e, scale_out, pytest.mark.django_db(transaction=True)]


def test_the_survivor_requeues_the_jobs_of_a_killed_instance(processes):
    doomed, survivor = processes.server(name="doomed"), processes.server(name="survivor")
    token = worker_token()
    stranded_worker = processes.worker(doomed, token, name="stranded", capacity=2)
    processes.worker(survivor, token, name="rescuer", capacity=2)
    jobs = [survivor.execute("work", {"message": str(n), "seconds": 2}) for n in range(4)]
    # Kill only once every job runs (two on each worker): a job dispatched to the doomed
    # instance but not yet started would also be requeued, which blurs the attempt counts.
    wait_until(
        lambda: Job.objects.filter(pk__in=jobs, status="running").count() == 4, message="all jobs running"
    )
    stranded = {str(pk) for pk in Job.objects.filter(session__name="stranded").values_list("pk", flat=True)}
    assert len(stranded) == 2

    doomed.kill()

    wait_until(lambda: all_final(jobs), 60, "every job to end")
    assert WorkerSession.objects.get(name="stranded").close_reason == "missed heartbeats"
    for job in Job.objects.filter(pk__in=jobs):
        assert job.status == "successful", job.message
        assert job.results.get().value == job.inputs["message"]
        assert job.attempts == (2 if str(job.pk) in stranded else 1)
    rescued = [run["job"] for run in processes.executions() if run["pid"] != stranded_worker.pid]
    assert set(rescued) == set(jobs)
