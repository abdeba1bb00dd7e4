"""The job queue: dispatch to workers, requeue after faults, and the periodic sweep.

Every decision is made from the database under row locks, so any number of server instances
can run these functions at once: waiting jobs are claimed with `SKIP LOCKED` and sessions
are locked before their free capacity is counted (on SQLite, one writer at a time gives the
same). Nothing here needs instance-local state, so a surviving instance recovers the jobs of
one that died.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections import defaultdict
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.models import ACTIVE_STATUSES, Job, JobStatus, in_queue, job_rows
from jobs.notifications import Outbox
from jobs.outputs import outputs_delete
from jobs.provider_cache import provider_counted, provider_guess, providers_remember
from registry.models import Process, WorkerSession
from ums_site.literals import sql_literal
from ums_site.round_trip import in_one_round_trip
from ums_site.rows import CompiledQuery

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 200


def execute_event(job: Job) -> dict:
    """The `job.execute` frame for a worker."""
    return {
        "type": "job.execute",
        "job": str(job.id),
        "process": job.process_id,
        "inputs": job.inputs,
        "outputs": job.outputs,
        "attempt": job.attempts,
    }


def jobs_dispatch(*, outbox: Outbox, limit: int = DISPATCH_BATCH) -> int:
    """Assigns waiting jobs, oldest first, to live sessions with free capacity."""
    # Most calls (after a job ends, without a backlog) find the queue empty: one look at the
    # queue's index, outside a transaction, spares the transaction that counts free capacity
    # under row locks (and, on SQLite, takes the write lock). A job queued right after this
    # look is dispatched as part of its creation.
    if not _queue_look():
        return 0
    return jobs_assign(outbox=outbox, limit=limit)


# A waiting job, if there is one (its SQL never changes: compiled once).
_queue_look = CompiledQuery(lambda: Job.objects.filter(in_queue()).order_by()[:1])


def slot_freed_dispatch(*, session: WorkerSession, outbox: Outbox) -> int:
    """`jobs_dispatch` for a slot that a job's end freed in `session` and did not hand over:
    only waiting jobs of the processes the session provides could take it. Most ends find
    none, in one round trip.

    Looking for any waiting job, every end ran the dispatch's transaction, which locks every
    live session with a free slot, for as long as jobs of a process whose workers are away
    waited (up to UMS_QUEUE_TIMEOUT, an hour by default)."""
    if not _jobs_wait_for(session):
        return 0
    return jobs_assign(outbox=outbox)


def _jobs_wait_for(session: WorkerSession) -> bool:
    """Whether a job of a process `session` provides waits (through `job_queue_process`). On
    PostgreSQL, outside a transaction, the look takes the queue's lock first (`QUEUE_LOCK`)."""
    provides, provider, provided = _provides_columns()
    sql = f"SELECT EXISTS (SELECT 1 FROM {provides} WHERE {provider} = %s AND {waiting_job_sql(provided)})"
    look = (sql, [_session_key(session)])
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        _, looked = in_one_round_trip([("SELECT pg_advisory_xact_lock(%s)", [QUEUE_LOCK]), look])
        return bool(looked.rows[0][0])
    with connection.cursor() as cursor:
        cursor.execute(*look)
        return bool(cursor.fetchone()[0])


# PostgreSQL's advisory lock of the queue (its key is "ums_queu" in ASCII). A creation that
# may write its job waiting holds it shared from before its look at the providers until its
# commit (`queue_write_lock`); the look at the queue after a job's end takes it exclusively,
# then looks in a statement of its own. So the look sees every such job that was written
# without seeing the slot the end freed: without the lock, an end committed after such a
# creation's look and looking at the queue before its commit missed the job, which waited
# for the sweep while the slot stayed free.
QUEUE_LOCK = 0x756D735F71756575


# Lets the transaction commit without waiting for its WAL to reach the disk (PostgreSQL), in
# the creation of a job whose client awaits its end in its response (a synchronous
# execution): its client is answered nothing before the job's end, whose commit waits for
# the flush of the WAL up to itself, the creation's included. A wait that runs out makes the
# job durable before answering with it (`job_durable`). After a crash of the database before
# the flush, the job is gone (a job list read meanwhile may have shown it) and its client
# gets an error. In the benchmark (PostgreSQL + Redis, A/B in turn with pygeoapi),
# synchronous jobs took 0.14 to 0.25 ms less.
UNFLUSHED_COMMIT = ("SELECT set_config('synchronous_commit', 'off', true)", [])


def _creation(job: Job, *statements: tuple[str, list]) -> list[tuple[str, list]]:
    """The statements of the round trip that writes `job`, after UNFLUSHED_COMMIT if its client
    awaits its end in its response."""
    return [UNFLUSHED_COMMIT, *statements] if job.reply_channel else list(statements)


def queue_write_lock() -> tuple[str, list]:
    """The statement that takes the queue's lock shared, until the transaction ends (PostgreSQL)."""
    return "SELECT pg_advisory_xact_lock_shared(%s)", [QUEUE_LOCK]


def jobs_assign(
    *, outbox: Outbox, limit: int = DISPATCH_BATCH, queued: Job | None = None, recount: bool = True
) -> int:
    """`jobs_dispatch` without its first look at the queue, for a caller creating a job
    (`queued`, not saved yet, in the caller's transaction): the waiting jobs of its process,
    then it, are offered to the sessions that provide it. The caller saves it afterwards,
    assigned or not: one INSERT, where saving it first took an UPDATE more. Jobs of other
    processes found no free session when they were queued or when a slot last freed; the
    sweep offers them too.

    `recount=False` (with `queued`): unless jobs wait, the free slots are as the look that
    locked the sessions saw them, without counting them again; the caller then saves `queued`
    only if its slot is still free (`slot_free_condition`). The look may predate a commit the
    lock waited for, on PostgreSQL: a dispatcher's that took the slot.
    """
    now = timezone.now()
    process_ids = None if queued is None else (queued.process_id,)
    # Inside a caller's transaction (job creation, reports) a savepoint would buy nothing:
    # an error here rolls the whole change back anyway.
    with transaction.atomic(savepoint=False):
        sessions, free = _free_capacity(process_ids, recount=recount or queued is None)
        if queued is not None and connection.vendor == "postgresql":  # which guesses (job_assign_to_guess)
            # Counted with the slots this dispatch takes (`free` is updated in place below).
            transaction.on_commit(lambda: providers_remember(queued.process_id, sessions, free))
        if not free:
            return 0
        # The sessions found provide the queued job's process (no need to ask which), and
        # tell whether jobs of it wait.
        providers = _providers_by_process(list(free)) if queued is None else {queued.process_id: list(free)}
        backlog = queued is None or next(iter(sessions.values())).jobs_waiting
        assigned = []
        slots = sum(free.values())
        with contextlib.closing(_waiting(queued, backlog, providers, limit, slots)) as waiting:
            for job in waiting:
                candidates = [
                    s for s in providers[job.process_id] if free.get(s, 0) > 0 and _may_take(s, job, now)
                ]
                if not candidates:
                    continue
                session_id = max(candidates, key=lambda s: free[s])  # spread the load
                free[session_id] -= 1
                _assign(job, sessions[session_id], now, outbox)
                assigned.append(job)
                if len(assigned) == slots:
                    break  # before the next job is read: each read may be a round trip
        _assigned_save([job for job in assigned if job is not queued])
    if assigned:
        logger.info("dispatched %d job(s)", len(assigned))
    return len(assigned)


def job_place(job: Job, *, condition: tuple[str, list], outbox: Outbox) -> Job | None:
    """On PostgreSQL, outside a transaction: `job` (new, not saved) written in a round trip or
    a few, none holding more than one session's lock, if `condition` (SQL, parameters) holds:
    assigned to the guessed session (`job_assign_to_guess`); else waiting, if every provider
    of its process is busy (`job_queue_behind_busy_providers`); else assigned to the session
    a fresh count of the providers' free slots guesses. The job as written, its frame in
    `outbox`; None if none of these wrote it (`job` unchanged): the caller then dispatches it
    as `jobs_assign` does.

    That dispatch locks every provider with a free slot for four round trips (`BEGIN`, the
    lock, the INSERT, `COMMIT`). It ran for every job whose guess failed: with four workers,
    whose ends the guesses of the other instance do not see, for half the jobs of a burst,
    which then waited on each other's locks."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    guessed = job_assign_to_guess(job, condition=condition, outbox=outbox)
    if guessed is not None:
        return guessed
    if job_queue_behind_busy_providers(job, condition=condition):
        return job
    providers_count(job.process_id)
    return job_assign_to_guess(job, condition=condition, outbox=outbox)


def job_queue_behind_busy_providers(job: Job, *, condition: tuple[str, list]) -> bool:
    """`job` (new, not saved) written waiting in one statement, if `condition` holds and its
    process has live providers, each with as many active jobs as slots as the statement
    counts them; the queue's lock taken shared before, in the same round trip. Whether it
    was written."""
    providers = _live_providers_sql()
    busy = f"EXISTS ({providers}) AND NOT EXISTS ({providers} AND {_has_free_slot_sql()})"
    params = [*condition[1], job.process_id, job.process_id]
    insert = job_rows.insert_statement(job, condition=(f"{condition[0]} AND {busy}", params))
    *_, inserted = in_one_round_trip(_creation(job, queue_write_lock(), insert))
    if inserted.rowcount != 1:
        return False
    job_rows.written(job)
    return True


def providers_count(process_id: str) -> None:
    """The free slots of the process's live providers counted, without a lock, for the next
    guess (`jobs.provider_cache`)."""
    sessions = {session.pk: session for session in _sessions_with_free_slots((process_id,))}
    free = {pk: session.capacity - session.active for pk, session in sessions.items()}
    providers_remember(process_id, sessions, free)


def job_assign_to_guess(job: Job, *, condition: tuple[str, list], outbox: Outbox) -> Job | None:
    """On PostgreSQL, outside a transaction: `job` (new, not saved) written assigned to the
    session that had the most free slots for its process when last counted
    (`jobs.provider_cache`), in one round trip: that session's row locked, then the job's
    INSERT, one transaction. The INSERT writes it only if `condition` (SQL, parameters) holds,
    the session, live and providing the process, has a free slot as counted once the lock is
    held, and no job of the process waits. The job as written, its frame in `outbox`; None if
    nothing was written or there was nothing to guess (`job` unchanged either way): the
    caller then dispatches it as `jobs_assign` does.

    Locking the providers, counting their jobs, then writing the job took four round trips
    (`BEGIN`, the lock, the `INSERT`, `COMMIT`) on the way of every job.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    session = provider_guess(job.process_id)
    if session is None:
        return None
    assigned, staged = copy.copy(job), Outbox()
    _assign(assigned, session, timezone.now(), staged)
    takes, takes_params = _takes_condition(session, job.process_id)
    where = (f"{condition[0]} AND {takes}", [*condition[1], *takes_params])
    insert = job_rows.insert_statement(assigned, condition=where)
    *_, locked, inserted = in_one_round_trip(_creation(job, _session_lock(session), insert))
    written = inserted.rowcount == 1
    if not locked.rows:  # the session is no longer live
        provider_counted(job.process_id, session, None)
    else:
        (free,) = locked.rows[0]
        provider_counted(job.process_id, session, free - 1 if written else free)
    if not written:
        return None
    job_rows.written(assigned)
    outbox.to_channels.extend(staged.to_channels)
    return assigned


def _session_lock(session: WorkerSession) -> tuple[str, list]:
    """Locks the session's row if it is live; gives its free slots, as the lock's look counted them."""
    q, meta = connection.ops.quote_name, WorkerSession._meta
    capacity = q(meta.get_field("capacity").column)
    sql = f"SELECT {capacity} - ({_active_count_sql()}) FROM {_live_session_sql()} FOR UPDATE"
    key = _session_key(session)
    return sql, [key, key]


def _live_session_sql() -> str:
    """The session table, where the session given as parameter is live (FROM … WHERE …)."""
    table, key, live = _session_columns()
    return f"{table} WHERE {key} = %s AND {live}"


def _live_providers_sql() -> str:
    """A SELECT of the live sessions that provide the process given as parameter."""
    table, key, live = _session_columns()
    provides, provider, provided = _provides_columns()
    return f"SELECT 1 FROM {table} JOIN {provides} ON {provider} = {key} WHERE {provided} = %s AND {live}"


def _has_free_slot_sql() -> str:
    """SQL on a row of the session table: whether the session has a free slot."""
    table, key, _ = _session_columns()
    capacity = connection.ops.quote_name(WorkerSession._meta.get_field("capacity").column)
    return f"({_active_count_sql(key)}) < {table}.{capacity}"


def _session_columns() -> tuple[str, str, str]:
    """The session table, its key (qualified), and SQL on its row: whether the session is live."""
    q, meta = connection.ops.quote_name, WorkerSession._meta
    table = q(meta.db_table)
    live = f"{table}.{q(meta.get_field('disconnected_at').column)} IS NULL"
    return table, f"{table}.{q(meta.pk.column)}", live


def _takes_condition(session: WorkerSession, process_id: str) -> tuple[str, list]:
    """SQL that holds while `session` may take a new job of the process at once: it is live
    and provides the process, it has a free slot, and no job of the process waits."""
    free, free_params = slot_free_condition(session)
    sql = (
        f"EXISTS (SELECT 1 FROM {_live_session_sql()})"
        f" AND {_provides_sql('%s')}"
        f" AND {free} AND NOT {waiting_job_sql('%s')}"
    )
    key = _session_key(session)
    return sql, [key, key, process_id, *free_params, process_id]


def waiting_job_sql(process: str) -> str:
    """SQL: whether a job of `process` (an SQL expression) waits: `in_queue()`, written as the
    queue's partial index has it."""
    table, _, _ = _job_columns()
    process_column = connection.ops.quote_name(Job._meta.get_field("process").column)
    return (
        f"EXISTS (SELECT 1 FROM {table} AS waiting WHERE waiting.{process_column} = {process}"
        f" AND {_in_queue_sql('waiting')})"
    )


def _in_queue_sql(table: str) -> str:
    """SQL on a job row of `table` (its name or alias): `in_queue()`, as the queue's partial
    indexes have it."""
    _, session, status = _job_columns()
    accepted = sql_literal(JobStatus.ACCEPTED, connection.vendor)
    return f"{table}.{status} = {accepted} AND {table}.{session} IS NULL"


def _provides_sql(process: str) -> str:
    """SQL: whether the session given as parameter provides `process` (an SQL expression)."""
    provides, provider, provided = _provides_columns()
    return f"EXISTS (SELECT 1 FROM {provides} WHERE {provider} = %s AND {provided} = {process})"


def _provides_columns() -> tuple[str, str, str]:
    """The table of which sessions provide which processes, and its session and process
    columns (qualified), quoted."""
    q, meta = connection.ops.quote_name, Process.providers.through._meta
    table = q(meta.db_table)
    provider, provided = (
        f"{table}.{q(meta.get_field(name).column)}" for name in ("workersession", "process")
    )
    return table, provider, provided


def slot_handover(*, session: WorkerSession, process_id: str, outbox: Outbox) -> bool:
    """Gives the slot a job's end frees in `session` to the oldest waiting job of the ended
    job's process, in the end's transaction (the caller's); False if that job may not take
    it, and the caller then dispatches as usual.

    With a backlog, a job's end and the dispatch to the slot it freed were two transactions
    and eleven round trips on PostgreSQL. Here the session is neither locked nor its jobs
    counted: the end and the assignment commit together, so the session never holds more
    active jobs than a dispatcher counted under its lock. Nor does it wait for a session's
    end on another instance (a sweep that found its heartbeats stopped) to commit: a job
    handed over then may stay with the ended session after its jobs were requeued, until the
    next sweep requeues it (`_requeue_orphaned`). A handover after such an end commits finds
    the session no longer providing the process (the end clears them), and leaves the slot.
    """
    now = timezone.now()
    waiting = _waiting_jobs((process_id,), 1)
    if not waiting or not _may_take(session.pk, waiting[0], now):
        return False
    _assign(waiting[0], session, now, outbox)
    _assigned_save(waiting)
    logger.info("handed the slot of a finished job to job %s", waiting[0].pk)
    return True


def slot_handover_sql(session: WorkerSession, now: datetime, returning: str) -> tuple[str, list]:
    """`slot_handover` on PostgreSQL, in the statement that writes a job's end: CTEs after its
    `updated` (the ended job's row) that lock the oldest waiting job of the ended job's process
    and assign it to `session`, if the session still provides the process and may take the
    job (`_may_take`). The last, `then_rows`, returns the row of the job assigned, if any, with
    the columns `returning` lists (SQL); the caller sends it (`slot_handed_over`).

    As in `slot_handover`, the session is neither locked nor its jobs counted: the end and the
    assignment commit together. With a backlog, a success first tried its one-statement write,
    which a waiting job made fail, then wrote the end and handed the slot over in a
    transaction of six round trips.
    """
    q, meta = connection.ops.quote_name, Job._meta
    table, session_column, _ = _job_columns()
    pk, process, created, previous, requeued, credential, attempts, dispatched, updated = (
        q(meta.get_field(name).column)
        for name in (
            "id", "process", "created", "previous_session_id", "requeued", "last_credential", "attempts",
            "dispatched", "updated",
        )
    )  # fmt: skip
    sql = (
        f"next_waiting AS (SELECT {pk} FROM {table} WHERE {process} = (SELECT {process} FROM updated)"
        f" AND {_in_queue_sql(table)} ORDER BY {created} LIMIT 1 FOR UPDATE SKIP LOCKED),"
        f" then_rows AS (UPDATE {table} SET {session_column} = %s, {credential} = %s,"
        f" {attempts} = {attempts} + 1, {dispatched} = %s, {updated} = %s"
        f" WHERE {pk} = (SELECT {pk} FROM next_waiting)"
        f" AND {_provides_sql(f'{table}.{process}')}"
        f" AND ({previous} IS DISTINCT FROM %s OR {requeued} IS NULL OR {requeued} <= %s)"
        f" RETURNING {returning})"
    )
    key = _session_key(session)
    retried_after = now - timedelta(seconds=settings.UMS_RETRY_DELAY)
    return sql, [key, session.credential_id, now, now, key, key, retried_after]


def slot_handed_over(job: Job, session: WorkerSession, outbox: Outbox) -> None:
    """Sends `job`, assigned to `session` by `slot_handover_sql`, once committed."""
    job.session = session
    _send(job, session, outbox)
    logger.info("handed the slot of a finished job to job %s", job.pk)


def _assign(job: Job, session: WorkerSession, now: datetime, outbox: Outbox) -> None:
    """Assigns `job` to `session` (the caller saves it) and sends it there once committed."""
    job.session = session
    job.last_credential_id = session.credential_id
    job.attempts += 1
    job.dispatched = job.updated = now
    _send(job, session, outbox)


def _send(job: Job, session: WorkerSession, outbox: Outbox) -> None:
    # `awaited`: its client awaits the end in its response (`end_awaited` in jobs/waiting.py).
    awaited = bool(job.reply_channel)
    outbox.to_session(session.channel_name, "job.execute", frame=execute_event(job), awaited=awaited)


def _waiting(
    queued: Job | None, backlog: bool, providers: dict[str, list], limit: int, slots: int
) -> Generator[Job]:
    """The waiting jobs to offer the free slots, oldest first, then `queued` (close it when
    done). `backlog`: whether jobs may wait."""
    # The usual job is created into an empty queue, and is then the only one to offer. The
    # look at the queue's index that tells comes with the sessions' lock.
    if backlog:
        # As many as there are free slots, which the oldest usually take. Reading the whole
        # batch for the one slot a job's end frees was 60 % of the database thread's CPU in a
        # burst of jobs, and a server-side cursor (PostgreSQL) is three round trips.
        process_ids = tuple(sorted(providers))
        wanted = min(slots, limit)
        first = _waiting_jobs(process_ids, wanted)
        yield from first
        if len(first) == wanted:  # more wait; needed if some of these could not be taken
            seen = {job.pk for job in first}
            more = _waiting_jobs.stream(process_ids, limit, chunk_size=slots)
            try:
                yield from (job for job in more if job.pk not in seen)
            finally:
                more.close()
    if queued is not None:
        yield queued


# Waiting jobs of these processes, oldest first (through the `job_queue_process` index).
# Compiled once per list of processes: the ORM took 1.1 ms of CPU to build it, on the path
# of every job while there is a backlog.
_waiting_jobs = CompiledQuery(
    lambda process_ids, limit: (
        Job.objects.select_for_update(skip_locked=True)
        .filter(in_queue(), process_id__in=process_ids)
        .order_by("created")[:limit]
    )
)


def _assigned_save(assigned: list[Job]) -> None:
    fields = ["session", "last_credential", "attempts", "dispatched", "updated"]
    if len(assigned) == 1:
        # The usual case, a job dispatched as it is created: bulk_update's CASE expressions
        # cost more to build than the one-row UPDATE (a tenth of a job's server CPU), and the
        # ORM's UPDATE more than `job_rows`'.
        job_rows.update(assigned[0], fields)
    else:
        Job.objects.bulk_update(assigned, fields)


def _may_take(session_id, job: Job, now) -> bool:
    """A session that gave the job back gets it again only after a delay: offering it at once
    to a worker that just rejected it would use up its attempts in a few milliseconds."""
    if session_id != job.previous_session_id or job.requeued is None:
        return True
    return job.requeued <= now - timedelta(seconds=settings.UMS_RETRY_DELAY)


def _free_sessions(process_ids: tuple[str, ...] | None) -> QuerySet[WorkerSession]:
    """The live sessions with free slots (that provide one of `process_ids`, unless None),
    each with its `active` jobs as the statement saw them. The count reads the active jobs'
    indexes (`job_session_active`, or `job_session_status` by session and status)."""
    return (
        _of_providers(WorkerSession.objects.live(), process_ids)
        .annotate(
            active=Coalesce(
                Subquery(
                    Job.objects.filter(session=OuterRef("pk"), status__in=ACTIVE_STATUSES)
                    .order_by()
                    .values("session")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            )
        )
        .filter(active__lt=F("capacity"))
        .order_by("pk")
    )


# Compiled once per list of processes (the ORM took 0.7 ms to build it, more than the
# database takes to run it); locked in a fixed order, so that concurrent dispatchers cannot
# deadlock.
_sessions_with_free_slots = CompiledQuery(_free_sessions)
_sessions_with_free_slots_lock = CompiledQuery(lambda ids: _free_sessions(ids).select_for_update())


def _of_providers(sessions: QuerySet[WorkerSession], process_ids: tuple[str, ...] | None) -> QuerySet:
    """The sessions providing one of `process_ids` (all if None), each with `jobs_waiting`:
    whether jobs of those processes wait in the queue (through the `job_queue_process` index)."""
    if process_ids is None:
        return sessions
    # EXISTS, not a join: the lock must not take the providers' rows too.
    provides = Process.providers.through.objects.filter(workersession=OuterRef("pk"), process__in=process_ids)
    waiting = Job.objects.filter(in_queue(), process__in=process_ids)
    return sessions.filter(Exists(provides)).annotate(jobs_waiting=Exists(waiting))


def _free_capacity(process_ids: tuple[str, ...] | None = None, *, recount: bool = True) -> tuple[dict, dict]:
    """The live sessions with free job slots (providing one of `process_ids`, unless None), and
    how many, counted under a lock on their rows (unless `recount` is False and no jobs of
    those processes wait: then as the look that locked them saw them)."""
    # Lock the sessions that look free, then count again: the lock waits for another
    # dispatcher's commit, but the look was made before it (on PostgreSQL a new statement
    # sees that commit).
    locked = {session.pk: session for session in _sessions_with_free_slots_lock(process_ids)}
    if not locked:
        return {}, {}
    if recount or any(session.jobs_waiting for session in locked.values()):
        active = _active_counts(list(locked))
    else:
        active = {pk: session.active for pk, session in locked.items()}
    free = {pk: session.capacity - active.get(pk, 0) for pk, session in locked.items()}
    return locked, {pk: slots for pk, slots in free.items() if slots > 0}


def slot_free_condition(session: WorkerSession) -> tuple[str, list]:
    """SQL that holds while `session` has a free slot (the jobs a statement counts), with its
    parameters: the condition of a job's INSERT assigned on the look of `jobs_assign(recount=False)`."""
    return f"({_active_count_sql()}) < %s", [_session_key(session), session.capacity]


def _session_key(session: WorkerSession) -> Any:
    """The session's key as a statement's parameter."""
    return WorkerSession._meta.pk.get_db_prep_value(session.pk, connection)


def _active_count_sql(session_key: str = "%s") -> str:
    """The number of active jobs of a session (the active jobs' indexes); `session_key`: SQL,
    the parameter by default."""
    table, session, status = _job_columns()
    return (
        f"SELECT COUNT(*) FROM {table} WHERE {table}.{session} = {session_key}"
        f" AND {table}.{status} IN ({active_status_literals()})"
    )


# The next two queries run on every dispatch with a list of sessions, which the ORM would
# compile anew each time (0.5 ms each, against 0.05 ms to run them): written here as SQL.


def _active_counts(session_ids: list) -> dict:
    """The active jobs of these sessions, per session (through the active jobs' indexes)."""
    table, session, status = _job_columns()
    sql = (
        f"SELECT {session}, COUNT(*) FROM {table} WHERE {session} IN ({_placeholders(session_ids)})"
        f" AND {status} IN ({active_status_literals()}) GROUP BY {session}"
    )
    keys = _session_keys(session_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(keys))
        return {keys[key]: count for key, count in cursor.fetchall()}


def _job_columns() -> tuple[str, str, str]:
    """The job table and its session and status columns, quoted."""
    q, meta = connection.ops.quote_name, Job._meta
    return q(meta.db_table), q(meta.get_field("session").column), q(meta.get_field("status").column)


def active_status_literals() -> str:
    """The active statuses as SQL literals, for `IN (…)`: written in, as the status field's
    lookups do (ums_site/literals.py)."""
    return ", ".join(sql_literal(status, connection.vendor) for status in ACTIVE_STATUSES)


def _providers_by_process(session_ids: list) -> dict[str, list]:
    table, session, process = _provides_columns()
    sql = f"SELECT {process}, {session} FROM {table} WHERE {session} IN ({_placeholders(session_ids)})"
    keys = _session_keys(session_ids)
    providers: dict[str, list] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(keys))
        for process_id, key in cursor.fetchall():
            providers[process_id].append(keys[key])
    return providers


def _session_keys(session_ids: list) -> dict:
    """Session ids as the database gives them (text on SQLite), mapped to the ids."""
    pk = WorkerSession._meta.pk
    return {pk.get_db_prep_value(session_id, connection): session_id for session_id in session_ids}


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def job_requeue(job: Job, *, reason: str, outbox: Outbox) -> None:
    """Puts a non-final job back in the queue, or fails it once its attempts are used up.

    The caller holds the job's row lock.
    """
    now = timezone.now()
    # Outputs uploaded by the attempt that ended are not results of the next one.
    outputs_delete(job.results.all())
    job.previous_session_id = job.session_id
    job.requeued = now
    job.session = None
    job.dispatched = None
    if job.attempts >= settings.UMS_JOB_MAX_ATTEMPTS:
        job.status = JobStatus.FAILED
        job.finished = now
        job.message = f"Gave up after {job.attempts} attempt(s): {reason}"
        job.error = {"title": "Job failed", "detail": job.message}
        logger.warning("job %s failed: %s", job.id, job.message)
    else:
        job.status = JobStatus.ACCEPTED
        job.started = None
        job.progress = None
        job.message = f"Requeued: {reason}"
        logger.info("job %s requeued: %s", job.id, reason)
    job.save()
    outbox.job_changed(job)


def session_jobs_requeue(*, session: WorkerSession, reason: str, outbox: Outbox) -> int:
    jobs = list(Job.objects.select_for_update().filter(session=session, status__in=ACTIVE_STATUSES))
    for job in jobs:
        job_requeue(job, reason=reason, outbox=outbox)
    return len(jobs)


def processes_provider_left(processes: QuerySet[Process], *, at) -> None:
    """Records that a provider of these processes left (the queue timeout counts from then).

    Rows another transaction holds are skipped, not waited for: that one registers a provider
    or records a departure itself, and waiting could deadlock with a registration locking the
    same rows in another order.
    """
    with transaction.atomic():
        free = processes.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
        Process.objects.filter(pk__in=list(free)).update(provider_left_at=at)


def session_end(*, session_id, reason: str, outbox: Outbox) -> bool:
    """Marks a session dead and requeues what it held. False if it had already ended."""
    with transaction.atomic():
        session = WorkerSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None or session.disconnected_at is not None:
            return False
        session.disconnected_at = timezone.now()
        session.close_reason = reason[:200]
        session.save(update_fields=["disconnected_at", "close_reason"])
        processes_provider_left(Process.objects.filter(providers=session), at=session.disconnected_at)
        session.processes.clear()
        requeued = session_jobs_requeue(
            session=session, reason=f"worker session ended ({reason})", outbox=outbox
        )
    logger.info("session %s ended (%s); %d job(s) requeued", session_id, reason, requeued)
    return True


def sweep(*, outbox: Outbox) -> None:
    """Recovers from faults nobody signalled: dead sessions, unacknowledged and stale jobs."""
    now = timezone.now()
    dead = WorkerSession.objects.live().filter(
        last_seen_at__lt=now - timedelta(seconds=settings.UMS_HEARTBEAT_TIMEOUT)
    )
    for session_id, channel_name in dead.values_list("pk", "channel_name"):
        if session_end(session_id=session_id, reason="missed heartbeats", outbox=outbox):
            # If the socket is still open somewhere, its consumer closes it.
            outbox.to_session(channel_name, "session.terminate", reason="missed heartbeats")
    _requeue_unacknowledged(now, outbox)
    _requeue_orphaned(outbox)
    _fail_unserved(now, outbox)
    jobs_dispatch(outbox=outbox)


def sessions_end_orphaned(*, started, outbox: Outbox) -> int:
    """Ends, when an instance starts, the sessions that no instance can be holding any more.

    Those recorded under this instance's id before it started belong to a previous life of it
    (with a stable `UMS_INSTANCE_ID`); with the in-memory channel layer, which cannot reach
    across processes, so do those of every other instance. Without this they would wait for
    the heartbeat timeout, and jobs dispatched to them meanwhile for the acknowledgement one.
    """
    orphaned = Q(instance=settings.UMS_INSTANCE_ID, connected_at__lt=started)
    if settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer"):
        orphaned |= ~Q(instance=settings.UMS_INSTANCE_ID)
    sessions = WorkerSession.objects.live().filter(orphaned).values_list("pk", flat=True)
    return sum(session_end(session_id=pk, reason="server restarted", outbox=outbox) for pk in sessions)


def _requeue_unacknowledged(now, outbox: Outbox) -> None:
    deadline = now - timedelta(seconds=settings.UMS_ACK_TIMEOUT)
    with transaction.atomic():
        stale = Job.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=JobStatus.ACCEPTED, session__isnull=False, dispatched__lt=deadline
        )
        for job in stale.select_related("session"):
            outbox.to_session(job.session.channel_name, "job.cancel", job=str(job.id))
            job_requeue(job, reason="the worker did not acknowledge the job in time", outbox=outbox)


def _requeue_orphaned(outbox: Outbox) -> None:
    """Active jobs whose session is gone (deleted by staff) or ended without taking them along."""
    with transaction.atomic():
        # Through the status index this reads the active jobs only. With the status inside the
        # OR, and the default order by creation, SQLite scanned every job ever run, under the
        # write lock (29 ms per sweep at 100,000 jobs).
        orphaned = (
            Job.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                Q(status=JobStatus.RUNNING, session__isnull=True) | Q(session__disconnected_at__isnull=False),
                status__in=ACTIVE_STATUSES,
            )
            .order_by()
        )
        for job in orphaned:
            job_requeue(job, reason="its worker session is gone", outbox=outbox)


def _fail_unserved(now, outbox: Outbox) -> None:
    """Fails jobs whose process nobody has provided for the queue timeout.

    The wait counts from the job's creation or from the moment the last provider left,
    whichever is later.
    """
    deadline = now - timedelta(seconds=settings.UMS_QUEUE_TIMEOUT)
    live_provider = WorkerSession.objects.live().filter(processes=OuterRef("process_id"))
    with transaction.atomic():
        unserved = Job.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            Q(process__provider_left_at__isnull=True) | Q(process__provider_left_at__lt=deadline),
            ~Exists(live_provider),
            in_queue(),
            created__lt=deadline,
        )
        for job in unserved:
            job.status = JobStatus.FAILED
            job.finished = now
            job.message = (
                f"No worker provided process '{job.process_id}' for "
                f"{settings.UMS_QUEUE_TIMEOUT:g} s while the job was queued"
            )
            job.error = {"title": "No worker available", "detail": job.message}
            job.save()
            outbox.job_changed(job)
