"""A call on the database threads hands its outcome, a result or an error, to its caller's
future in the caller's event loop; a call cancelled before a thread took it does not run."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


class Refused(Exception):
    pass


def refuse() -> None:
    raise Refused("no")


async def test_a_result_comes_back_from_a_database_thread():
    name = await db_sync_to_async(lambda: threading.current_thread().name)()
    assert name.startswith("ums-db_")


async def test_an_error_reaches_the_caller():
    with pytest.raises(Refused, match="no"):
        await db_sync_to_async(refuse)()


async def test_a_call_cancelled_before_it_started_does_not_run(settings):
    release, ran = threading.Event(), []
    # Every thread held: the next call waits in the queue.
    holding = [
        asyncio.ensure_future(db_sync_to_async(release.wait)()) for _ in range(settings.UMS_DB_THREADS)
    ]
    waiting = asyncio.ensure_future(db_sync_to_async(lambda: ran.append("ran"))())
    await asyncio.sleep(0.05)
    waiting.cancel()
    release.set()
    await asyncio.gather(*holding)
    await db_sync_to_async(lambda: None)()  # after the cancelled call in the queue's order
    assert ran == []
