"""The periodic sweep each server instance runs (see jobs.scheduler.sweep).

Daphne does not speak the ASGI lifespan protocol, so the sweep starts with the first
connection or request an instance serves, once per event loop. Every instance sweeps: any
survivor recovers the sessions and jobs of an instance that died.
"""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings
from django.utils import timezone

from jobs.callbacks import callbacks_kick
from jobs.notifications import Outbox, outbox_deliver
from jobs.scheduler import sessions_end_orphaned, sweep
from ums_site.db import db_sync_to_async

logger = logging.getLogger(__name__)


# Sessions recorded under this instance's id before this moment are from a previous life.
STARTED = timezone.now()


@db_sync_to_async
def _sweep_once() -> Outbox:
    outbox = Outbox()
    sweep(outbox=outbox)
    return outbox


@db_sync_to_async
def _orphans_end() -> Outbox:
    outbox = Outbox()
    sessions_end_orphaned(started=STARTED, outbox=outbox)
    return outbox


async def sweep_forever() -> None:
    try:
        await outbox_deliver(await _orphans_end())
    except Exception:  # the heartbeat timeout ends them too, only later
        logger.exception("could not end the sessions of a previous run")
    while True:
        try:
            await outbox_deliver(await _sweep_once())
            callbacks_kick()  # retries, and callbacks whose first kick was lost
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end recovery for good
            logger.exception("sweep failed; trying again")
        await asyncio.sleep(settings.UMS_SWEEP_INTERVAL)


class SweeperStarter:
    """ASGI middleware that starts `sweep_forever` in the event loop it is first called in."""

    def __init__(self, app) -> None:
        self.app = app
        self._tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}

    async def __call__(self, scope, receive, send):
        loop = asyncio.get_running_loop()
        if scope["type"] != "lifespan" and loop not in self._tasks:
            # Forget loops that have closed (one per test in test suites).
            self._tasks = {lp: task for lp, task in self._tasks.items() if not lp.is_closed()}
            self._tasks[loop] = loop.create_task(sweep_forever(), name="ums-sweeper")
        return await self.app(scope, receive, send)
