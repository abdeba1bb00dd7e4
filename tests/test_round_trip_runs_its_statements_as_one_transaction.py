"""`in_one_round_trip`: statements pipelined to PostgreSQL, run in order as one transaction."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, NotSupportedError, connection, transaction
from django.db.transaction import TransactionManagementError

from jobs.models import Job, job_rows
from tests.scheduler_records import echo_process
from ums_site.round_trip import in_one_round_trip

pytestmark = pytest.mark.django_db(transaction=True)
ON_POSTGRESQL = pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's pipeline mode")


def _insert(job: Job, holds: bool = True) -> tuple[str, list]:
    return job_rows.insert_statement(job, condition=("%s", [holds]))


@ON_POSTGRESQL
def test_statements_run_in_order_as_one_transaction_and_give_their_rows_and_counts():
    job = Job(process=echo_process())
    count, inserted, skipped, txids = in_one_round_trip([
        ("SELECT count(*) FROM jobs_job", []),
        _insert(job),
        _insert(Job(process=echo_process()), holds=False),
        ("SELECT txid_current() UNION ALL SELECT txid_current()", []),
    ])  # fmt: skip
    assert count.rows == [(0,)] and (inserted.rows, inserted.rowcount) == (None, 1)
    assert skipped.rowcount == 0
    assert txids.rows[0] == txids.rows[1]
    job_rows.written(job)
    assert not job._state.adding
    assert list(Job.objects.values_list("pk", flat=True)) == [job.pk]


@ON_POSTGRESQL
def test_a_failing_statement_rolls_back_those_before_it_and_raises_djangos_error():
    job = Job(process=echo_process())
    with pytest.raises(IntegrityError):
        in_one_round_trip([_insert(job), _insert(job)])  # the same key twice
    assert not Job.objects.exists()  # and the connection is usable again


@ON_POSTGRESQL
def test_it_refuses_to_run_inside_a_transaction():
    with transaction.atomic(), pytest.raises(TransactionManagementError):
        in_one_round_trip([("SELECT 1", [])])


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL has it")
def test_it_needs_postgresql():
    with pytest.raises(NotSupportedError):
        in_one_round_trip([("SELECT 1", [])])
