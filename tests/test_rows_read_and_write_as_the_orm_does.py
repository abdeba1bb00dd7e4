"""`Rows` (the hot path's single-row SQL) reads and writes rows exactly as the ORM does."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, NotSupportedError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from jobs.models import Job, JobOutput, JobStatus, job_output_rows, job_rows
from registry.models import Process, process_rows
from tests.factories import description
from tests.scheduler_records import session_create
from ums_site.rows import CompiledQuery, Rows

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no INSERT in a WITH")


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def process() -> Process:
    return Process.objects.create(id="echo", version="1.0", description=description(id="echo"))


@pytest.fixture
def job(process) -> Job:
    return Job.objects.create(
        process=process,
        inputs={"text": "é", "nested": {"b": [1, 2.5, None], "a": True}},
        subscriber={"successUri": "https://example.org/done"},
        owner=User.objects.create_user("owner"),
        progress=40,
        error={"title": "t"},
        started=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    )


def test_a_read_equals_the_orms(job):
    read = job_rows.get(job.pk)
    assert read is not None and not read._state.adding and read._state.db == "default"
    assert _fields(read) == _fields(Job.objects.get(pk=job.pk))


def test_a_read_by_the_text_of_the_key_equals_the_orms(job):
    assert _fields(job_rows.get(str(job.pk))) == _fields(Job.objects.get(pk=job.pk))


def test_a_read_of_a_model_with_a_default_ordering_equals_the_orms(process):
    Process.objects.create(id="another", version="2", description=description(id="another"))
    assert _fields(process_rows.get("echo")) == _fields(Process.objects.get(pk="echo"))
    assert process_rows.get("echo").description == description(id="echo")


def test_a_missing_row_reads_as_none(job):
    assert job_rows.get(uuid.uuid4()) is None
    assert process_rows.get("nothing-of-that-name") is None


def test_rows_by_a_relation_equal_the_orms(job, process):
    other = Job.objects.create(process=process)
    for output_id, value in (("a", {"x": [1]}), ("b", None)):
        JobOutput.objects.create(job=job, output_id=output_id, value=value, media_type="application/json")
    JobOutput.objects.create(job=other, output_id="a", value="other's")
    expected = sorted(_fields(output).items() for output in JobOutput.objects.filter(job=job))
    assert sorted(_fields(output).items() for output in job_output_rows.where("job", job.pk)) == expected
    assert sorted(_fields(output).items() for output in job_output_rows.where("job", job)) == expected
    assert job_output_rows.where("job", uuid.uuid4()) == []


def test_a_lookup_of_none_is_refused(job):
    # The ORM means IS NULL by it; `= NULL` would silently match nothing.
    with pytest.raises(ValueError, match="None"):
        job_rows.where("session", None)


def test_a_locked_read_inside_a_transaction_equals_the_orms(job):
    with transaction.atomic():
        assert _fields(job_rows.get(job.pk, for_update=True)) == _fields(Job.objects.get(pk=job.pk))


def _job_annotations() -> dict:
    return {
        "description": Subquery(Process.objects.filter(pk=OuterRef("process_id")).values("description")),
        "has_outputs": Exists(JobOutput.objects.filter(job=OuterRef("pk"))),
        "first_output": Subquery(JobOutput.objects.filter(job=OuterRef("pk")).values("output_id")[:1]),
    }


def test_a_read_with_annotations_equals_the_orms_annotate(job, process):
    JobOutput.objects.create(job=job, output_id="a", value=1)
    other = Job.objects.create(process=process)
    annotated = Rows(Job, _job_annotations)
    for instance in (job, other):
        expected = Job.objects.annotate(**_job_annotations()).get(pk=instance.pk)
        with transaction.atomic():
            read = annotated.get(instance.pk, for_update=True)
        assert _fields(read) == _fields(expected)
        assert [read.description, read.has_outputs, read.first_output] == [
            expected.description,
            expected.has_outputs,
            expected.first_output,
        ]
    assert read.description == description(id="echo") and read.has_outputs is False


def test_an_annotated_read_of_a_missing_row_is_none():
    assert Rows(Job, _job_annotations).get(uuid.uuid4()) is None


def test_an_aggregate_annotation_is_refused(job):
    # Rows adds its condition to the statement: a GROUP BY would come before it.
    with pytest.raises(TypeError, match="aggregate"):
        Rows(Job, lambda: {"outputs": Count("results")}).get(job.pk)


def _outcome(read) -> str:
    """Whether a read outside a transaction went through or was refused."""
    try:
        read()
    except TransactionManagementError:
        return "refused"
    return "read"


@pytest.mark.django_db(transaction=True)
def test_a_locked_read_outside_a_transaction_fails_where_the_orms_does(job):
    def orm():
        return list(Job.objects.select_for_update().filter(pk=job.pk))

    def rows():
        return job_rows.get(job.pk, for_update=True)

    assert _outcome(rows) == _outcome(orm)


def test_an_update_writes_the_fields_named_and_the_auto_now_ones(job):
    before = Job.objects.get(pk=job.pk)
    job.status = JobStatus.RUNNING
    job.message = "Running"
    job.inputs = {"changed": "but not named"}
    job_rows.update(job, ["status", "message", "updated"])
    after = Job.objects.get(pk=job.pk)
    assert (after.status, after.message) == (JobStatus.RUNNING, "Running")
    assert after.inputs == before.inputs
    assert after.updated > before.updated and after.updated == job.updated


def test_an_update_of_json_and_times_reads_back_as_written(job):
    job.error = {"title": "Failed", "detail": "ümlaut \u2603", "list": [1, {"x": None}]}
    job.finished = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    job.progress = None
    job_rows.update(job, ["error", "finished", "progress"])
    after = Job.objects.get(pk=job.pk)
    assert (after.error, after.finished, after.progress) == (job.error, job.finished, None)


def test_an_update_of_a_deleted_row_fails(job):
    Job.objects.filter(pk=job.pk).delete()
    job.status = JobStatus.FAILED
    with pytest.raises(DatabaseError):
        job_rows.update(job, ["status"])


def _outputs(job, *output_ids: str) -> list[JobOutput]:
    return [
        JobOutput(job=job, output_id=output_id, value={"n": [1, "é"]}, media_type="application/json")
        for output_id in output_ids
    ]


def test_an_update_with_rows_inserted_writes_both_as_the_orm_does(job):
    (by_orm,) = _outputs(job, "a")
    by_orm.save()
    job.status = JobStatus.SUCCESSFUL
    inserted = _outputs(job, "b", "c")
    job_rows.update(job, ["status"], inserting=(job_output_rows, inserted))
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCESSFUL
    assert all(not output._state.adding and output.pk is None for output in inserted)
    expected = _fields(JobOutput.objects.get(pk=by_orm.pk))
    for stored in JobOutput.objects.exclude(pk=by_orm.pk).order_by("output_id"):
        assert _fields(stored) == expected | {"id": stored.pk, "output_id": stored.output_id}
    assert sorted(JobOutput.objects.values_list("output_id", flat=True)) == ["a", "b", "c"]


@ON_POSTGRESQL
def test_an_update_with_rows_inserted_is_one_statement_on_postgresql(job):
    job.status = JobStatus.SUCCESSFUL
    with CaptureQueriesContext(connection) as queries:
        job_rows.update(job, ["status"], inserting=(job_output_rows, _outputs(job, "a", "b")))
    assert len(queries) == 1
    assert JobOutput.objects.filter(job=job).count() == 2


def test_an_update_of_a_deleted_row_with_rows_inserted_writes_nothing(job):
    inserted = _outputs(job, "a")
    Job.objects.filter(pk=job.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        job_rows.update(job, ["status"], inserting=(job_output_rows, inserted))
    assert not JobOutput.objects.exists()


@ON_POSTGRESQL
def test_an_update_returning_on_a_condition_that_holds_is_one_statement_and_reads_as_stored(job):
    change = Job(id=job.pk, status=JobStatus.SUCCESSFUL, message="done", started=datetime.now(UTC))
    with CaptureQueriesContext(connection) as queries:
        written, then = job_rows.update_returning(
            change,
            ["status", "message", "started", "updated"],
            keep=["started"],
            where=("%s < %s", [1, 2]),
            inserting=(job_output_rows, _outputs(job, "a", "b")),
        )
    assert len(queries) == 1 and then == []
    stored = Job.objects.get(pk=job.pk)
    assert _fields(written) == _fields(stored) and not written._state.adding
    assert (stored.status, stored.message, stored.started) == (JobStatus.SUCCESSFUL, "done", job.started)
    assert stored.updated == change.updated > job.updated
    assert sorted(JobOutput.objects.values_list("output_id", flat=True)) == ["a", "b"]


@ON_POSTGRESQL
def test_an_update_returning_on_a_condition_that_fails_writes_nothing(job):
    change = Job(id=job.pk, status=JobStatus.SUCCESSFUL)
    inserted = _outputs(job, "a")
    assert job_rows.update_returning(
        change, ["status"], where=("%s < %s", [2, 1]), inserting=(job_output_rows, inserted)
    ) is None  # fmt: skip
    assert _fields(Job.objects.get(pk=job.pk)) == _fields(job)
    assert not JobOutput.objects.exists() and inserted[0]._state.adding


def _message_of(other: Job, message: str):
    """`then` of update_returning: sets `other`'s message if the row was written."""

    def then(returning: str) -> tuple[str, list]:
        sql = (
            f'then_rows AS (UPDATE "jobs_job" SET "message" = %s'
            f' WHERE "id" = %s AND EXISTS (SELECT 1 FROM updated) RETURNING {returning})'
        )
        return sql, [message, other.pk]

    return then


@ON_POSTGRESQL
def test_an_update_returning_gives_the_rows_its_further_statement_wrote_as_stored(job, process):
    other = Job.objects.create(process=process)
    with CaptureQueriesContext(connection) as queries:
        written, then = job_rows.update_returning(
            Job(id=job.pk, status=JobStatus.RUNNING), ["status"], then=_message_of(other, "next")
        )
    assert len(queries) == 1
    (changed,) = then
    assert _fields(changed) == _fields(Job.objects.get(pk=other.pk)) and changed.message == "next"
    assert _fields(written) == _fields(Job.objects.get(pk=job.pk))


@ON_POSTGRESQL
def test_an_update_returning_that_writes_nothing_gives_nothing_of_its_further_statement(job, process):
    other = Job.objects.create(process=process)
    change = Job(id=job.pk, status=JobStatus.RUNNING)
    assert (
        job_rows.update_returning(change, ["status"], where=("FALSE", []), then=_message_of(other, "x"))
        is None
    )
    assert Job.objects.get(pk=other.pk).message == ""


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL has it")
def test_an_update_returning_needs_postgresql(job):
    with pytest.raises(NotSupportedError, match="PostgreSQL"):
        job_rows.update_returning(job, ["status"])


def test_rows_inserted_with_a_key_of_their_own_are_refused(job):
    inserted = _outputs(job, "a")
    inserted[0].pk = 12345
    with pytest.raises(ValueError, match="automatic"):
        job_rows.update(job, ["status"], inserting=(job_output_rows, inserted))
    assert not JobOutput.objects.exists()


def test_an_insert_equals_the_orms_create(process):
    session = session_create()
    fields = {"process": process, "inputs": {"n": [1, 2]}, "session": session, "links_base": "http://x"}
    by_orm = Job.objects.create(**fields)
    by_rows = Job(**fields)
    job_rows.insert(by_rows)
    assert not by_rows._state.adding
    stored = _fields(Job.objects.get(pk=by_rows.pk))
    expected = _fields(Job.objects.get(pk=by_orm.pk)) | {"id": by_rows.pk}
    # The timestamps are their own moments; everything else is the same.
    for name in ("created", "updated"):
        assert stored.pop(name) == getattr(by_rows, name)
        expected.pop(name)
    assert stored == expected


def test_an_insert_without_a_key_gets_the_databases_as_the_orms_create(job):
    by_orm = JobOutput.objects.create(job=job, output_id="a", value={"n": 1}, media_type="application/json")
    by_rows = JobOutput(job=job, output_id="b", value={"n": 1}, media_type="application/json")
    job_output_rows.insert(by_rows)
    assert not by_rows._state.adding
    stored = JobOutput.objects.get(output_id="b")
    assert by_rows.pk == stored.pk != by_orm.pk
    expected = _fields(JobOutput.objects.get(pk=by_orm.pk)) | {"id": stored.pk, "output_id": "b"}
    assert _fields(stored) == expected


def test_an_insert_without_a_key_the_database_does_not_choose_is_refused():
    with pytest.raises(ValueError, match="primary key"):
        job_rows.insert(Job(id=None, process_id="echo"))
    assert not Job.objects.exists()


def test_an_insert_on_a_condition_that_holds_equals_the_unconditional_one(process):
    fields = {"process": process, "inputs": {"n": [1, 2]}, "links_base": "http://x"}
    by_rows, conditional = Job(**fields), Job(**fields)
    job_rows.insert(by_rows)
    assert job_rows.insert(conditional, condition=("%s < %s", [1, 2]))
    assert not conditional._state.adding
    stored, expected = _fields(Job.objects.get(pk=conditional.pk)), _fields(Job.objects.get(pk=by_rows.pk))
    for name in ("id", "created", "updated"):
        assert stored.pop(name) == getattr(conditional, name)
        expected.pop(name)
    assert stored == expected


def test_an_insert_on_a_condition_that_fails_writes_nothing(process):
    refused = Job(process=process)
    assert not job_rows.insert(refused, condition=("%s < %s", [2, 1]))
    assert refused._state.adding
    assert not Job.objects.exists()


def test_an_insert_on_a_condition_with_a_key_of_the_databases_is_refused(job):
    with pytest.raises(ValueError, match="key set"):
        job_output_rows.insert(JobOutput(job=job, output_id="a", value=1), condition=("%s < %s", [1, 2]))


def _jobs_by_status(status: str):
    return Job.objects.filter(status=status).order_by("created", "pk")


def test_a_compiled_query_reads_as_its_queryset_for_each_set_of_arguments(process):
    for status in (JobStatus.ACCEPTED, JobStatus.RUNNING, JobStatus.ACCEPTED):
        Job.objects.create(process=process, status=status, inputs={"status": status})
    query = CompiledQuery(_jobs_by_status)
    for status in (JobStatus.ACCEPTED, JobStatus.RUNNING, JobStatus.FAILED):
        expected = [_fields(job) for job in _jobs_by_status(status)]
        assert [_fields(job) for job in query(status)] == expected
        with contextlib.closing(query.stream(status, chunk_size=1)) as rows:
            assert [_fields(job) for job in rows] == expected


@pytest.mark.django_db(transaction=True)
def test_a_locked_compiled_stream_outside_a_transaction_fails_where_the_orms_does(job):
    query = CompiledQuery(lambda: Job.objects.select_for_update().filter(pk=job.pk))

    def orm():
        return list(Job.objects.select_for_update().filter(pk=job.pk).iterator(chunk_size=1))

    def compiled():
        with contextlib.closing(query.stream(chunk_size=1)) as rows:
            return list(rows)

    assert _outcome(compiled) == _outcome(orm)


def test_a_compiled_query_past_its_kept_arguments_still_reads_as_its_queryset(process, monkeypatch):
    monkeypatch.setattr(CompiledQuery, "MAX_KEPT", 2)
    for status in (JobStatus.ACCEPTED, JobStatus.RUNNING, JobStatus.FAILED):
        Job.objects.create(process=process, status=status)
    query = CompiledQuery(_jobs_by_status)
    for status in (JobStatus.ACCEPTED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.ACCEPTED):
        assert [job.pk for job in query(status)] == [job.pk for job in _jobs_by_status(status)]
