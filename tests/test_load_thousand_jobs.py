"""1,000 jobs through several workers of limited capacity: every job is accounted for, none is
lost and none runs twice (no fault forces a retry here). On PostgreSQL + Redis the jobs are
submitted to two instances, each with workers of its own, so dispatch crosses instances."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import httpx
import pytest
from django.db import connection

from jobs.models import Job
from tests.live_processes import HAS_REDIS, all_final, wait_until, worker_token

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


def test_every_one_of_a_thousand_jobs_runs_exactly_once(processes):
    instances = 2 if connection.vendor == "postgresql" and HAS_REDIS else 1
    servers = [processes.server(name=f"server{n}", UMS_LOG_LEVEL=QUIET, **PATIENT) for n in range(instances)]
    token = worker_token()
    for n, server in zip(range(WORKERS), cycle(servers), strict=False):
        processes.worker(server, token, name=f"worker{n}", capacity=CAPACITY, log_level=QUIET)

    targets = list(zip(range(JOBS), cycle(servers), strict=False))
    with httpx.Client() as client, ThreadPoolExecutor(SUBMITTERS) as pool:
        jobs = list(pool.map(lambda t: t[1].execute("work", {"message": f"job {t[0]}"}, client), targets))
    wait_until(lambda: all_final(jobs), 120, f"all {JOBS} jobs to end")

    assert Counter(Job.objects.values_list("status", flat=True)) == {"successful": JOBS}
    assert set(Job.objects.values_list("attempts", flat=True)) == {1}
    for job_id, inputs, echo in Job.objects.values_list("pk", "inputs", "results__value"):
        assert echo == inputs["message"], job_id
    runs = Counter(run["job"] for run in processes.executions())
    assert set(runs) == set(jobs) and set(runs.values()) == {1}
