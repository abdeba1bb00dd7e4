"""1,000 jobs through several workers of limited capacity: every job is accounted for, none is
lost, and none runs twice unless a requeue forced a retry. On PostgreSQL + Redis the jobs are
submitted to two instances, each with workers of its own, so dispatch crosses instances."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import httpx
import pytest
from django.db import connection

from jobs.models import Job
from tests.live_processes import HAS_REDIS, job_statuses, worker_token

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JOBS = 1000
WORKERS = 4
CAPACITY = 3
# Clients submitting at once, as many clients would.
SUBMITTERS = 8
# A loaded server answers slowly, which is no fault: the timeouts are the deployment defaults,
# so a retry here would be a lost or doubled dispatch.
PATIENT = {"UMS_HEARTBEAT_INTERVAL": "15", "UMS_HEARTBEAT_TIMEOUT": "45", "UMS_ACK_TIMEOUT": "30"}
QUIET = "WARNING"  # a log line per job and process would be a good part of the work


def test_every_one_of_a_thousand_jobs_is_accounted_for(processes):
    instances = 2 if connection.vendor == "postgresql" and HAS_REDIS else 1
    servers = [processes.server(name=f"server{n}", UMS_LOG_LEVEL=QUIET, **PATIENT) for n in range(instances)]
    token = worker_token()
    for n, server in zip(range(WORKERS), cycle(servers), strict=False):
        processes.worker(server, token, name=f"worker{n}", capacity=CAPACITY, log_level=QUIET)

    targets = list(zip(range(JOBS), cycle(servers), strict=False))
    with httpx.Client() as client, ThreadPoolExecutor(SUBMITTERS) as pool:
        jobs = list(pool.map(lambda t: t[1].execute("work", {"message": f"job {t[0]}"}, client), targets))
    wait_while_jobs_end(jobs)

    assert Counter(Job.objects.values_list("status", flat=True)) == {"successful": JOBS}
    for job_id, inputs, echo in Job.objects.values_list("pk", "inputs", "results__value"):
        assert echo == inputs["message"], job_id
    runs = Counter(run["job"] for run in processes.executions())
    assert set(runs) == set(jobs)
    # A job runs again only after a requeue, which counts an attempt: on a machine too busy
    # to answer within the acknowledgement timeout that happens, and is no loss.
    attempts = {str(pk): n for pk, n in Job.objects.values_list("pk", "attempts")}
    assert all(runs[job] <= attempts[job] for job in jobs), "a job ran twice within one attempt"
    print(f"{sum(n > 1 for n in attempts.values())} of {JOBS} jobs were retried")


def wait_while_jobs_end(jobs: list[str], *, stall_seconds: float = 60, total_seconds: float = 600) -> None:
    """Waits for every job to end, for as long as jobs keep ending: on a busy machine this is
    slow, but a job that is lost stalls the count, which fails the test within `stall_seconds`."""
    deadline = time.monotonic() + total_seconds
    ended, last_change = -1, time.monotonic()
    while (statuses := Counter(job_statuses(jobs).values()))["successful"] + statuses["failed"] < JOBS:
        now = time.monotonic()
        if statuses["successful"] + statuses["failed"] != ended:
            ended, last_change = statuses["successful"] + statuses["failed"], now
        assert now - last_change < stall_seconds and now < deadline, f"jobs stopped ending: {dict(statuses)}"
        time.sleep(0.5)
