"""Writes to jobs: creation by API clients, reports from workers, dismissal.

A worker may only report on jobs assigned to its own session; anything else is refused with
a `ProtocolError` and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from jobs.models import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    Job,
    JobOutput,
    JobStatus,
    in_queue,
    job_output_rows,
    job_rows,
)
from jobs.notifications import Outbox
from jobs.outputs import output_files_by_job, output_files_delete, outputs_delete
from jobs.scheduler import (
    active_status_literals,
    job_place,
    job_requeue,
    jobs_assign,
    jobs_dispatch,
    queue_write_lock,
    slot_free_condition,
    slot_handed_over,
    slot_handover,
    slot_handover_sql,
)
from jobs.selectors import job_get
from registry.models import Process, WorkerCredential, WorkerSession
from registry.process_cache import process_unchanged_condition
from registry.protocol import ProtocolError
from registry.selectors import process_get
from ums_site.rows import Rows

logger = logging.getLogger(__name__)


class JobCreateConflict(Exception):
    """What an optimistic `job_create` was given is out of date: nothing was written."""


def job_create(
    *,
    process: Process,
    inputs: dict[str, Any],
    outputs: dict[str, Any] | None = None,
    response: str = "raw",
    subscriber: dict[str, str] | None = None,
    owner=None,
    links_base: str = "",
    reply_channel: str = "",
    outbox: Outbox,
    optimistic: bool = False,
) -> Job:
    """Queues a job (inputs already validated) and dispatches the jobs of its process that can run now.

    One transaction: no other dispatcher sees the job before this one had its chance.

    `reply_channel`: where a synchronous execution awaits the job's end (`Job.reply_channel`).

    `optimistic`: `process` may be out of date (`registry.process_cache`), and the job is
    written only if the process is unchanged, checked by its INSERT. On PostgreSQL it goes
    first to the session the last dispatch of its process left with the most free slots, in
    one round trip (`job_assign_to_guess`). Otherwise it takes a slot as the look that locked
    the sessions saw it (`jobs_assign(recount=False)`), written only if the slot is still
    free, where reading the process and counting the slots again took two round trips. If a
    check fails: `JobCreateConflict`, and nothing is written. A job no session takes reads the
    process instead, which must be unchanged and still listed.
    """
    job = Job(
        process=process,
        inputs=inputs,
        outputs=outputs or {},
        response=response,
        subscriber=subscriber or {},
        owner=owner if owner is not None and owner.is_authenticated else None,
        links_base=links_base,
        reply_channel=reply_channel,
    )
    if optimistic:
        placed = job_place(job, condition=process_unchanged_condition(process), outbox=outbox)
        if placed is not None:
            return placed
    _job_dispatch_and_insert(job, process, outbox=outbox, optimistic=optimistic)
    return job


@transaction.atomic
def _job_dispatch_and_insert(job: Job, process: Process, *, outbox: Outbox, optimistic: bool) -> None:
    if connection.vendor == "postgresql":  # the job may be written waiting
        with connection.cursor() as cursor:
            cursor.execute(*queue_write_lock())
    jobs_assign(outbox=outbox, queued=job, recount=not optimistic)
    condition = None
    if optimistic and job.session is None:
        _process_unchanged_check(process)
    elif optimistic:
        condition = _assigned_job_condition(process, job.session)
    if not job_rows.insert(job, condition=condition):
        raise JobCreateConflict(
            f"process {process.pk} changed, or the slot of session {job.session_id} was taken"
        )


def _process_unchanged_check(process: Process) -> None:
    current = process_get(process.pk)
    if current is None or current.updated_at != process.updated_at:
        raise JobCreateConflict(f"process {process.pk} changed, or nothing provides it")


def _assigned_job_condition(process: Process, session: WorkerSession) -> tuple[str, list]:
    """What a job assigned to `session` on an optimistic creation is written on. That the
    process is still listed needs no check: the locked session provides it."""
    unchanged, unchanged_params = process_unchanged_condition(process)
    free, free_params = slot_free_condition(session)
    return f"{unchanged} AND {free}", [*unchanged_params, *free_params]


def job_durable(job: Job) -> bool:
    """Whether the job is stored, once durably: the creation of a synchronous execution's job
    may have committed without waiting for the flush of the WAL (`UNFLUSHED_COMMIT`), and a
    wait that runs out answers with the job. A write that commits waits for the flush of the
    WAL up to itself, the earlier commits' with it. False if the job is gone."""
    return Job.objects.filter(pk=job.pk).update(updated=F("updated")) == 1


@dataclass(frozen=True)
class JobEnd:
    """What a worker's report of a job's end wrote: the job as it ended, and whether the slot
    the end freed went to a waiting job in the same transaction (`slot_handover`)."""

    job: Job
    slot_handed_over: bool


def _slot_handover_annotations() -> dict[str, Any]:
    """Whether the slot a job's end frees may go to a waiting job of its process in the end's
    transaction (`slot_handover`): jobs of the process wait, and the session still provides it."""
    provides = Process.providers.through.objects.filter(
        workersession=OuterRef("session_id"), process=OuterRef("process_id")
    )
    return {
        "process_jobs_waiting": Exists(Job.objects.filter(in_queue(), process=OuterRef("process_id"))),
        "session_provides": Exists(provides),
    }


# The job a worker reports the end of, with what the end checks, in the statement that locks
# it: its process's description (outputs must be declared there), whether it has outputs
# already (uploads), and whether its slot may be handed over. Each was a round trip of its
# own, in the transaction of every job's end.
_ended_job_rows = Rows(
    Job,
    lambda: {
        "process_description": Subquery(
            Process.objects.filter(pk=OuterRef("process_id")).values("description")
        ),
        "has_outputs": Exists(JobOutput.objects.filter(job=OuterRef("pk"))),
        **_slot_handover_annotations(),
    },
)
_failed_job_rows = Rows(Job, _slot_handover_annotations)


def _reported_job(session: WorkerSession, job_id: str, *, rows: Rows[Job] = job_rows) -> Job | None:
    """The job a worker reports on, locked (read through `rows`).

    None for a report on a job that is already final (dismissed, or a frame the worker sent
    again after a reconnect): it is dropped, so a late report never reopens or changes a job.
    """
    job = rows.get(job_id, for_update=True)
    if job is not None and job.is_final and job.last_credential_id == session.credential_id:
        logger.info(
            "dropped a late report of session %s on job %s, which is %s", session.id, job_id, job.status
        )
        return None
    if job is None or job.session_id != session.id:
        logger.warning("session %s reported on job %s, which is not assigned to it", session.id, job_id)
        raise ProtocolError("not-assigned", "this job is not assigned to your session", job=job_id)
    return job


@transaction.atomic
def job_started(*, session: WorkerSession, job_id: str, outbox: Outbox) -> None:
    job = _reported_job(session, job_id)
    if job is None or job.status == JobStatus.RUNNING:
        return
    job.status = JobStatus.RUNNING
    job.started = timezone.now()
    job.message = "Running"
    job_rows.update(job, ["status", "started", "message", "updated"])
    outbox.job_changed(job)


@transaction.atomic
def job_progress(
    *, session: WorkerSession, job_id: str, progress: int, message: str = "", outbox: Outbox
) -> None:
    job = _reported_job(session, job_id)
    if job is None:
        return
    if job.status == JobStatus.ACCEPTED:  # progress implies the worker started it
        job.status = JobStatus.RUNNING
        job.started = timezone.now()
    job.progress = progress
    if message:
        job.message = message
    job_rows.update(job, ["status", "started", "progress", "message", "updated"])
    outbox.job_changed(job)


def job_succeeded(
    *,
    session: WorkerSession,
    job_id: str,
    outputs: dict[str, dict],
    outbox: Outbox,
    signal_results: bool = False,
) -> JobEnd | None:
    """`signal_results`: the frame was small enough for its results to go with the signal of
    the success; they go if all of them are values (an upload is read from the record).
    None for a late report, dropped.

    A plain success is written in one statement, on PostgreSQL (`_plain_success`); any other,
    and any report refused, after reading the job in a transaction.
    """
    plain = _plain_success(session, job_id, outputs)
    if plain is None:
        return _job_succeeded_checked(
            session=session, job_id=job_id, outputs=outputs, outbox=outbox, signal_results=signal_results
        )
    job, handed, values = plain
    outbox.job_changed(job, results=values if signal_results else None)
    return _handed_over(job, handed, session, outbox)


def _plain_success(
    session: WorkerSession, job_id: str, outputs: dict[str, dict]
) -> tuple[Job, list[Job], list[JobOutput]] | None:
    """On PostgreSQL, the success of a job assigned to `session`, written in one statement
    outside a transaction if it is plain: its outputs all values its process declares, no
    uploads before, no callback owed (`_plain_end`). The job as written, the job its slot went
    to, if any, and its outputs; None if the success is not plain or the job not as reported
    (nothing written).

    Reading the job first, then writing its end, took a transaction of four round trips, on
    the way of every job to its client.
    """
    if connection.vendor != "postgresql" or any("value" not in output for output in outputs.values()):
        return None
    try:
        job = Job(id=uuid.UUID(job_id), status=JobStatus.SUCCESSFUL, message="Finished", progress=100)
    except ValueError:
        return None
    values = [
        JobOutput(job=job, output_id=output_id, value=output["value"], media_type=output.get("mediaType", ""))
        for output_id, output in outputs.items()
    ]
    written = _plain_end(session, job, ["progress"], _plain_success_condition(list(outputs)), values)
    if written is None:
        return None
    ended, handed = written
    for value in values:
        value.job = ended
    return ended, handed, values


def _plain_success_condition(output_ids: list[str]) -> tuple[str, list]:
    """SQL on the job's row: no outputs uploaded, and its process declares `output_ids`."""
    q = connection.ops.quote_name
    jobs, outputs, processes = (q(model._meta.db_table) for model in (Job, JobOutput, Process))
    sql = (
        f"NOT EXISTS (SELECT 1 FROM {outputs} WHERE {outputs}.{q('job_id')} = {jobs}.{q('id')})"
        f" AND (SELECT {q('description')}::jsonb -> 'outputs' FROM {processes}"
        f" WHERE {processes}.{q('id')} = {jobs}.{q('process_id')}) ?& %s"
    )
    return sql, [output_ids]


def _plain_end(
    session: WorkerSession,
    job: Job,
    fields: list[str],
    condition: tuple[str, list],
    values: Sequence[JobOutput] = (),
) -> tuple[Job, list[Job]] | None:
    """PostgreSQL: the end `job` holds (key, status, message, and `fields`) of a job assigned
    to `session`, written in one statement outside a transaction if the job is active, owes
    no callback and `condition` (SQL on its row) holds, with `values` (its outputs). The slot
    it frees goes, in the same statement, to the oldest waiting job of its process
    (`slot_handover_sql`). The job as written and the job the slot went to, if any (for the
    caller to send); None if nothing was written.

    A callback owed is recorded in the end's transaction (`Outbox.job_changed`)."""
    q = connection.ops.quote_name
    jobs = q(Job._meta.db_table)
    where = (
        f"{jobs}.{q('session_id')} = %s AND {jobs}.{q('status')} IN ({active_status_literals()})"
        f" AND {jobs}.{q('subscriber')} = '{{}}' AND {condition[0]}"
    )
    now = job.finished = job.started = timezone.now()
    return job_rows.update_returning(
        job,
        ["status", "finished", "started", "message", "updated", *fields],
        keep=["started"],
        where=(where, [session.pk, *condition[1]]),
        inserting=(job_output_rows, values),
        then=partial(slot_handover_sql, session, now),
    )


def _handed_over(job: Job, handed: list[Job], session: WorkerSession, outbox: Outbox) -> JobEnd:
    """The end of `job`, whose slot went to `handed` (none or one job), sent there."""
    for next_job in handed:
        slot_handed_over(next_job, session, outbox)
    return JobEnd(job, slot_handed_over=bool(handed))


@transaction.atomic
def _job_succeeded_checked(
    *,
    session: WorkerSession,
    job_id: str,
    outputs: dict[str, dict],
    outbox: Outbox,
    signal_results: bool,
) -> JobEnd | None:
    job = _reported_job(session, job_id, rows=_ended_job_rows)
    if job is None:
        return None
    declared = job.process_description.get("outputs", {})
    unknown = sorted(set(outputs) - set(declared))
    if unknown:
        raise ProtocolError(
            "invalid-outputs", f"outputs not in the process description: {unknown}", job=job_id
        )
    uploads = job_output_rows.where("job", job.pk) if job.has_outputs else []
    uploaded = {output.output_id: output.pk for output in uploads}
    missing = sorted(i for i, output in outputs.items() if "href" in output and i not in uploaded)
    if missing:
        raise ProtocolError(
            "invalid-outputs", f"outputs refer to uploads that were not made: {missing}", job=job_id
        )
    # Uploads the final frame does not refer to are not results.
    stale = [pk for output_id, pk in uploaded.items() if "href" not in outputs.get(output_id, {})]
    if stale:
        outputs_delete(JobOutput.objects.filter(pk__in=stale))
    values = []
    for output_id, output in outputs.items():
        if "value" in output:
            media_type = output.get("mediaType", "")
            values.append(
                JobOutput(job=job, output_id=output_id, value=output["value"], media_type=media_type)
            )
        elif output.get("mediaType"):  # an upload the frame refers to (checked above)
            job.results.filter(output_id=output_id).update(media_type=output["mediaType"])
    all_values = len(values) == len(outputs)
    return _finish(
        job,
        session,
        JobStatus.SUCCESSFUL,
        "Finished",
        outbox,
        results=values if signal_results and all_values else None,
        inserting=values,
    )


def job_failed(
    *, session: WorkerSession, job_id: str, error: dict[str, str], outbox: Outbox
) -> JobEnd | None:
    """None for a late report, dropped.

    A failure that owes no callback is written in one statement, on PostgreSQL (`_plain_end`);
    any other, and any report refused, after reading the job in a transaction."""
    error = {"title": error["title"], "detail": error.get("detail", "")}
    message = error["detail"] or error["title"]
    plain = _plain_failure(session, job_id, error, message)
    if plain is None:
        return _job_failed_checked(
            session=session, job_id=job_id, error=error, message=message, outbox=outbox
        )
    job, handed = plain
    outbox.job_changed(job)
    return _handed_over(job, handed, session, outbox)


def _plain_failure(
    session: WorkerSession, job_id: str, error: dict[str, str], message: str
) -> tuple[Job, list[Job]] | None:
    """On PostgreSQL, a failure written in one statement (`_plain_end`) if it owes no callback."""
    if connection.vendor != "postgresql":
        return None
    try:
        job = Job(id=uuid.UUID(job_id), status=JobStatus.FAILED, message=message, error=error)
    except ValueError:
        return None
    return _plain_end(session, job, ["error"], ("TRUE", []))


@transaction.atomic
def _job_failed_checked(
    *, session: WorkerSession, job_id: str, error: dict[str, str], message: str, outbox: Outbox
) -> JobEnd | None:
    job = _reported_job(session, job_id, rows=_failed_job_rows)
    if job is None:
        return None
    job.error = error
    return _finish(job, session, JobStatus.FAILED, message, outbox)


def _finish(
    job: Job,
    session: WorkerSession,
    status: str,
    message: str,
    outbox: Outbox,
    *,
    results: list[JobOutput] | None = None,
    inserting: Sequence[JobOutput] = (),
) -> JobEnd:
    """Ends the job (read with `_slot_handover_annotations`), and gives the slot it frees in
    `session` to a waiting job of its process, in the same transaction, if one may take it.

    `inserting`: the outputs reported as values, written with the job's end (on PostgreSQL
    in its statement)."""
    now = timezone.now()
    job.status = status
    job.finished = now
    job.started = job.started or now
    job.message = message
    if status == JobStatus.SUCCESSFUL:
        job.progress = 100
    job_rows.update(
        job,
        ["status", "finished", "started", "message", "progress", "error", "updated"],
        inserting=(job_output_rows, inserting),
    )
    outbox.job_changed(job, results=results)
    handed_over = (
        job.process_jobs_waiting
        and job.session_provides
        and slot_handover(session=session, process_id=job.process_id, outbox=outbox)
    )
    return JobEnd(job, bool(handed_over))


@transaction.atomic
def job_rejected(*, session: WorkerSession, job_id: str, reason: str = "", outbox: Outbox) -> None:
    job = _reported_job(session, job_id)
    if job is None:
        return
    job_requeue(
        job, reason=f"rejected by worker {session.name}: {reason or 'no reason given'}", outbox=outbox
    )


@transaction.atomic
def job_dismiss(*, job_id, outbox: Outbox) -> Job | None:
    """Dismisses a job: its worker is told to stop, its outputs go. Safe to repeat.

    The worker's slot is free at once (the SDK stops counting a cancelled job), so the next
    waiting job is dispatched.
    """
    job = Job.objects.select_for_update(of=("self",)).filter(pk=job_id).select_related("session").first()
    if job is None or job.status == JobStatus.DISMISSED:
        return job
    held_slot = job.session is not None and not job.is_final
    if held_slot:
        outbox.to_session(job.session.channel_name, "job.cancel", job=str(job.id))
    outputs_delete(job.results.all())
    job.status = JobStatus.DISMISSED
    job.session = None
    job.finished = job.finished or timezone.now()
    job.message = "Dismissed"
    job.save()
    outbox.job_changed(job)
    if held_slot:
        jobs_dispatch(outbox=outbox)
    return job


class UploadRefused(Exception):
    """An output upload the server does not take: answered with a problem of this status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _upload_target(*, credential: WorkerCredential, job_id: str, output_id: str) -> Job:
    """The job a worker uploads an output of, locked, if its token's live session holds it."""
    job = job_get(job_id)
    if job is not None:
        job = Job.objects.select_for_update(of=("self",)).select_related("session", "process").get(pk=job.pk)
    if job is None:
        raise UploadRefused(404, f"There is no job '{job_id}'.")
    session = job.session
    if job.is_final or session is None or not session.is_live or session.credential_id != credential.pk:
        logger.warning(
            "worker %s tried to upload an output of job %s, not assigned to it", credential, job_id
        )
        raise UploadRefused(403, "This job is not assigned to a live session of this worker token.")
    if output_id not in job.process.description.get("outputs", {}):
        raise UploadRefused(404, f"Process '{job.process_id}' has no output '{output_id}'.")
    return job


@transaction.atomic
def job_output_upload_check(*, credential: WorkerCredential, job_id: str, output_id: str) -> None:
    """Refuses an upload before its body is stored (the same check is made again after)."""
    _upload_target(credential=credential, job_id=job_id, output_id=output_id)


@transaction.atomic
def job_output_record(
    *, credential: WorkerCredential, job_id: str, output_id: str, file_name: str, size: int, media_type: str
) -> JobOutput:
    """Records a stored upload as the job's output, replacing an earlier upload of it.

    The job may have been requeued or dismissed while the body was stored: then `UploadRefused`,
    and the caller deletes the file.
    """
    job = _upload_target(credential=credential, job_id=job_id, output_id=output_id)
    outputs_delete(job.results.filter(output_id=output_id))
    return JobOutput.objects.create(
        job=job, output_id=output_id, file=file_name, size=size, media_type=media_type
    )


@dataclass(frozen=True)
class Purged:
    jobs: int
    sessions: int
    files: int


PURGE_BATCH = 500


def jobs_purge(*, finished_before: datetime) -> Purged:
    """Deletes what finished before then: final jobs with their output files, and ended worker
    sessions no job still runs on; then output files that no job refers to (left by a crash
    between storing an upload and recording it)."""
    jobs = 0
    while batch := list(
        Job.objects.filter(status__in=FINAL_STATUSES, finished__lt=finished_before).values_list(
            "pk", flat=True
        )[:PURGE_BATCH]
    ):
        jobs += jobs_delete_final(job_ids=batch)
    ended = WorkerSession.objects.filter(disconnected_at__lt=finished_before).exclude(
        jobs__status__in=ACTIVE_STATUSES
    )
    sessions = ended.delete()[1].get("registry.WorkerSession", 0)
    return Purged(jobs=jobs, sessions=sessions, files=_unreferenced_files_delete())


def _unreferenced_files_delete() -> int:
    """Files under outputs/<job id>/ that no output row refers to, unless the job still runs
    (its upload may be on its way to being recorded)."""
    deleted = 0
    for job_id, names in output_files_by_job().items():
        if Job.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).exists():
            continue
        referenced = set(JobOutput.objects.filter(job_id=job_id).values_list("file", flat=True))
        unreferenced = [name for name in names if name not in referenced]
        output_files_delete(unreferenced)
        deleted += len(unreferenced)
    return deleted


@transaction.atomic
def job_take_back(*, job_id, reason: str, outbox: Outbox) -> Job | None:
    """Takes an active job back from the worker holding it: the worker is told to stop and the
    job goes back in the queue, as after any fault (so a job that used up its attempts fails).

    None if no worker holds it: a queued job is in the queue already, a final one stays final.
    """
    job = (
        Job.objects.select_for_update(of=("self",))
        .filter(pk=job_id, status__in=ACTIVE_STATUSES, session__isnull=False)
        .select_related("session")
        .first()
    )
    if job is None:
        return None
    outbox.to_session(job.session.channel_name, "job.cancel", job=str(job.id))
    job_requeue(job, reason=reason, outbox=outbox)
    jobs_dispatch(outbox=outbox)
    return job


def job_retry(*, job_id, outbox: Outbox) -> Job | None:
    """A new job with the request of a failed one, which stays as it is, for the record.

    None unless the job failed: a final status is never reopened.
    """
    failed = Job.objects.filter(pk=job_id, status=JobStatus.FAILED).select_related("process", "owner").first()
    if failed is None:
        return None
    return job_create(
        process=failed.process,
        inputs=failed.inputs,
        outputs=failed.outputs,
        response=failed.response,
        subscriber=failed.subscriber,
        owner=failed.owner,
        links_base=failed.links_base,
        outbox=outbox,
    )


@transaction.atomic
def jobs_delete_final(*, job_ids: list) -> int:
    """Deletes the final jobs among these, with their output files; how many.

    Active jobs are kept: a worker may be running them (dismiss them first).
    """
    final = list(Job.objects.filter(pk__in=job_ids, status__in=FINAL_STATUSES).values_list("pk", flat=True))
    outputs_delete(JobOutput.objects.filter(job_id__in=final))
    return Job.objects.filter(pk__in=final).delete()[1].get("jobs.Job", 0)
