"""The queries of the queue and of the callbacks owed use the same indexes in a plan made for
any parameter values as in one made for the values at hand. PostgreSQL uses such a generic
plan for a prepared statement (psycopg prepares one at its fifth run). With a job's status as a
parameter that plan used none of the queue's partial indexes: it read the status index, every
finished job included (a synchronous execution among 100,000 finished jobs took 2.4 times as
long), and counted a session's active jobs through all the jobs it ever ran. SQLite plans a
statement for the values bound to it, and is held to the same here."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import psycopg
import pytest
from django.db import connection, transaction

from jobs.callbacks import _claim_due
from jobs.models import CallbackDelivery, Job
from jobs.notifications import Outbox
from jobs.scheduler import jobs_assign, jobs_dispatch, sweep
from tests.scheduler_records import echo_process, history_add, session_create

pytestmark = pytest.mark.django_db

# Partial indexes the work below reads on both databases (SQLite finds the queue's waiting jobs
# of any process through `job_session_status`, as well).
PARTIAL_INDEXES = {"job_queue_process", "callback_due"}


def executed(run: Callable[[], object]) -> list[tuple[str, tuple]]:
    """The statements `run` sent, with their parameters, as Django hands them to the driver."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return statements


def job_indexes() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for table in (Job._meta.db_table, CallbackDelivery._meta.db_table)
            for name in connection.introspection.get_constraints(cursor, table)
        }


def indexes_used(plan: str, names: set[str]) -> set[str]:
    return {name for name in names if re.search(rf"\b{name}\b", plan)}


def plans_sqlite(sql: str, params: tuple) -> tuple[str, str]:
    """(the plan for any values, the plan for these values)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        generic = str(cursor.fetchall())
        inlined = connection.ops.last_executed_query(cursor, sql, params)
        cursor.execute(f"EXPLAIN QUERY PLAN {inlined}")
        return generic, str(cursor.fetchall())


def plans_postgresql(sql: str, params: tuple) -> tuple[str, str]:
    numbers = itertools.count(1)
    prepared = re.sub("%s", lambda _: f"${next(numbers)}", sql)
    arguments = ", ".join(["%s"] * len(params))
    execute = f"EXECUTE queue_query({arguments})" if params else "EXECUTE queue_query"
    # Values written in by the client, as the statement is prepared with placeholders.
    with psycopg.ClientCursor(connection.connection) as cursor:
        # An index scan even where the tiny test tables would make a sequential one cheaper.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"PREPARE queue_query AS {prepared}")
        try:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(f"EXPLAIN {execute}", params)
            generic = str(cursor.fetchall())
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            cursor.execute(f"EXPLAIN {execute}", params)
            return generic, str(cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE queue_query")


def queue_and_callbacks_work() -> None:
    """A job created while an older one waits, a dispatch, a sweep, and a look for callbacks."""
    with transaction.atomic():
        jobs_assign(outbox=Outbox(), queued=Job(process=echo_process()))
    jobs_dispatch(outbox=Outbox())
    sweep(outbox=Outbox())
    _claim_due.func()


def history_create(session) -> None:
    finished = history_add(2000, session)
    CallbackDelivery.objects.bulk_create(
        CallbackDelivery(job=job, url="https://example.com/hook", payload={}, pending=False)
        for job in finished
    )
    Job.objects.create(process_id="echo")  # waiting
    if connection.vendor == "postgresql":  # its planner weighs indexes by the statistics
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def test_queue_queries_use_the_queue_indexes_in_plans_for_any_values():
    history_create(session_create())
    plans = plans_postgresql if connection.vendor == "postgresql" else plans_sqlite
    names, used_somewhere = job_indexes(), set()
    for sql, params in executed(queue_and_callbacks_work):
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        generic, custom = plans(sql, params)
        assert indexes_used(custom, names) <= indexes_used(generic, names), (sql, generic, custom)
        used_somewhere |= indexes_used(custom, names)
    # The work above reads each of the partial indexes (so the comparison is not vacuous).
    assert used_somewhere >= PARTIAL_INDEXES, used_somewhere
