"""On PostgreSQL a statement run again and again is prepared on its connection (psycopg, at its
fifth run: `UMS_DB_PREPARED_STATEMENTS`), and the plan PostgreSQL then keeps for the queue's
look still reads the queue's index, among many finished jobs."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs.models import Job
from jobs.scheduler import _queue_look
from tests.scheduler_records import echo_process, history_add

pytestmark = pytest.mark.django_db

RUNS = 12


def test_the_queue_look_is_prepared_and_its_plan_reads_the_queue_index():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    history_add(2000)
    waiting = Job.objects.create(process=echo_process())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    for _ in range(RUNS):
        assert _queue_look() == [waiting]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, cardinality(parameter_types), generic_plans + custom_plans"
            " FROM pg_prepared_statements WHERE statement LIKE %s AND statement LIKE %s",
            ['%"jobs_job"%', '%"session_id" IS NULL%'],
        )
        prepared = cursor.fetchall()
        assert len(prepared) == 1, prepared
        name, parameters, runs = prepared[0]
        assert runs >= RUNS - 5  # prepared at its fifth run, then run from the prepared plan
        assert parameters == 0  # the status is written into the SQL
        cursor.execute("SET LOCAL enable_seqscan = off")  # the small table would be scanned
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")  # the plan for any values
        cursor.execute(f'EXPLAIN EXECUTE "{name}"')
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "job_queue" in plan, plan
