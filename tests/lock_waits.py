"""Work that waits for a lock another transaction holds: a session's, while a dispatcher
holding it takes a slot, or the queue's (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, connections, transaction

from registry.models import WorkerSession
from tests.scheduler_records import running_job_create

LOCK_WAIT_SECONDS = 10


def while_a_dispatcher_takes_the_slot(session: WorkerSession, work: Callable[[], Any]) -> Future:
    """Runs `work` in a thread once another holds the session's lock, giving a slot of it to a
    job; that one commits once `work` waits for a lock. `work`'s future, done."""

    def take_the_slot() -> None:
        WorkerSession.objects.select_for_update().get(pk=session.pk)
        running_job_create(session)

    return while_held(take_the_slot, work)


def while_held(hold: Callable[[], Any], work: Callable[[], Any]) -> Future:
    """Runs `work` in a thread once another has run `hold` in a transaction, which commits
    once `work` waits for a lock. `work`'s future, done."""
    holding, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        other = pool.submit(_in_thread, _holding, hold, holding, release)
        assert holding.wait(LOCK_WAIT_SECONDS)
        done = pool.submit(_in_thread, work)
        _lock_wait_until()
        release.set()
        other.result()
    return done


def _holding(hold: Callable[[], Any], holding: threading.Event, release: threading.Event) -> None:
    with transaction.atomic():
        hold()
        holding.set()
        assert release.wait(LOCK_WAIT_SECONDS)


def _in_thread(work, *args):
    try:
        return work(*args)
    finally:
        connections.close_all()


def _lock_wait_until() -> None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the work never waited for the session's lock")
