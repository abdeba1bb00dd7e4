"""Database chores of the benchmarks, run as `python -m benchmarks.dbtool` with the server's env.

A separate process because each server stack has its own DATABASE_URL, and Django reads its
settings once per process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import timedelta

import django

SEED_BATCH = 5000


def wait_sessions(count: int, timeout: float) -> None:
    """Returns once exactly `count` worker sessions are live; fails after `timeout` seconds."""
    from registry.models import WorkerSession

    deadline = time.monotonic() + timeout
    while (live := WorkerSession.objects.live().count()) != count:
        if time.monotonic() > deadline:
            sys.exit(f"{live} live worker session(s), not {count}, after {timeout:g} s")
        time.sleep(0.1)


def seed_jobs(count: int, process_id: str) -> None:
    """Stores `count` finished jobs with outputs, by bulk insert (not through the API)."""
    from django.utils import timezone

    from jobs.models import Job, JobOutput, JobStatus

    now = timezone.now()
    for start in range(0, count, SEED_BATCH):
        jobs = [_finished_job(Job, JobStatus.SUCCESSFUL, process_id, now - timedelta(seconds=n)) for n in
                range(start, min(count, start + SEED_BATCH))]  # fmt: skip
        Job.objects.bulk_create(jobs)
        JobOutput.objects.bulk_create(
            [
                JobOutput(job=job, output_id="echoOutput", value="stored", media_type="text/plain")
                for job in jobs
            ]
        )
    # Fresh planner statistics, as autovacuum gives PostgreSQL after a while in production.
    # SQLite has none unless an operator gathers them (Django does not): its ANALYZE of a
    # history of only finished jobs would tell the planner that every status is as common as
    # `successful`, and it would scan the table for the few active jobs.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _finished_job(model, status: str, process_id: str, when):
    return model(
        id=uuid.uuid4(),
        process_id=process_id,
        status=status,
        inputs={"echoInput": "stored"},
        attempts=1,
        progress=100,
        message="Finished",
        created=when,
        dispatched=when,
        started=when,
        finished=when,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    wait = commands.add_parser("wait-sessions")
    wait.add_argument("count", type=int)
    wait.add_argument("--timeout", type=float, default=60)
    seed = commands.add_parser("seed-jobs")
    seed.add_argument("count", type=int)
    seed.add_argument("--process", default="echo")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ums_site.settings")
    django.setup()
    if args.command == "wait-sessions":
        wait_sessions(args.count, args.timeout)
    else:
        seed_jobs(args.count, args.process)


if __name__ == "__main__":
    main()
