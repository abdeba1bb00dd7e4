"""A session's active jobs, counted for its free slots on every dispatch and job creation, are
read through an index of active jobs only (PostgreSQL) or by session and status (SQLite): the
count does not grow with the jobs the session ran, even where the database has no planner
statistics (PostgreSQL before autovacuum's first ANALYZE of the table, or with it off)."""

from __future__ import annotations

import pytest
from django.db import connection

from jobs.scheduler import _active_count_sql, _session_key
from tests.scheduler_records import history_add, running_job_create, session_create

pytestmark = pytest.mark.django_db


def plan(sql: str, params: list) -> str:
    explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        return str(cursor.fetchall())


def test_the_count_reads_only_active_jobs_without_statistics():
    session = session_create()
    history_add(2000, session)
    running_job_create(session)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'jobs_job'")
            assert cursor.fetchone()[0] == -1  # never analyzed: no statistics
    counted = plan(_active_count_sql(), [_session_key(session)])
    if connection.vendor == "postgresql":
        assert "job_session_active" in counted
        assert "Filter" not in counted  # no row of the session's history read and dropped
    else:  # SQLite searches the session's active statuses in the other index
        assert "job_session_status (session_id=? AND status=?)" in counted
