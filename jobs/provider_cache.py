"""The sessions providing each process, with their free slots as last counted: the guess of
the session a new job of the process goes to, written in one round trip on PostgreSQL
(`jobs.scheduler.job_assign_to_guess`).

The dispatch of a job being created counts its providers' slots under their lock, or without
one (`jobs.scheduler.providers_count`); the counts are kept here, less the slots the dispatch
took. A guess takes a slot from them at once, and counts its session's slots again under its
lock. A guess may be out of date: the job's INSERT checks, once the session is locked, that
it is live, provides the process and still has a free slot.
"""

from __future__ import annotations

from typing import Any

from registry.models import WorkerSession

# Enough for any deployment's processes; past it the cache starts over (it is only a hint).
MAX_PROCESSES = 1024

# By process id: {session key: (session, free slots)}, in the order of the sessions' keys, as
# the dispatch offers them. Database threads share it: each entry is replaced whole, never
# changed in place.
_providers: dict[str, dict[Any, tuple[WorkerSession, int]]] = {}


def providers_remember(process_id: str, sessions: dict[Any, WorkerSession], free: dict[Any, int]) -> None:
    """The live sessions providing the process that the dispatch locked (by key), and their free
    slots once it assigned its jobs (absent: none)."""
    if len(_providers) >= MAX_PROCESSES:
        _providers.clear()
    _providers[process_id] = {key: (session, free.get(key, 0)) for key, session in sorted(sessions.items())}


def provider_guess(process_id: str) -> WorkerSession | None:
    """The session with the most free slots as last counted (the first of them by key, as the
    dispatch chooses), if any has one. The slot is taken from the count at once: a guess made
    meanwhile, on another database thread, goes to another session if one has as many free.
    Concurrent guesses of one instance all went to the same session, and queued for its lock
    (bursts with four workers, A/B: half the lock waits, 5 % more jobs per second)."""
    providers = _providers.get(process_id)
    if not providers:
        return None
    session, free = max(providers.values(), key=lambda provider: provider[1])
    if free <= 0:
        return None
    _providers[process_id] = {**providers, session.pk: (session, free - 1)}
    return session


def provider_counted(process_id: str, session: WorkerSession, free: int | None) -> None:
    """A guessed session's free slots as its lock counted them, less the one its job took if it
    was written; None: the session is no longer live."""
    providers = dict(_providers.get(process_id, {}))
    if free is None:
        providers.pop(session.pk, None)
    else:
        providers[session.pk] = (session, free)
    _providers[process_id] = dict(sorted(providers.items()))
