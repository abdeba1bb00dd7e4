"""OGC callbacks: POSTs to a job's `subscriber` URIs, off the request path.

A job's change records the callback it owes (`callback_enqueue`, inside the change's
transaction, from the Outbox). Delivery runs in an asyncio task of whichever instance gets
there first: kicked after the change commits, and by every sweep, which also retries failed
POSTs with exponential backoff. Rows are claimed with a lease, so instances do not post the
same callback at once; delivery is at least once.

- successUri: the results document when the job succeeds;
- failedUri: the statusInfo when it fails;
- inProgressUri: the statusInfo when it starts, progresses or is requeued; an undelivered
  one is replaced by the newer report rather than queued behind it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.models import CallbackDelivery, Job, JobStatus

logger = logging.getLogger(__name__)

SUBSCRIBER_KEYS = ("successUri", "inProgressUri", "failedUri")
_KEY_BY_STATUS = {
    JobStatus.SUCCESSFUL: "successUri",
    JobStatus.FAILED: "failedUri",
    JobStatus.ACCEPTED: "inProgressUri",
    JobStatus.RUNNING: "inProgressUri",
}
CLAIM_BATCH = 50
MAX_RETRY_DELAY = 3600.0


def callback_url_problem(uri: Any) -> str:
    """Why `uri` may not receive callbacks ("" if it may). The one place for URL checks."""
    if not isinstance(uri, str) or len(uri) > 2000:
        return "must be a URL of at most 2000 characters"
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL"
    return ""


def callback_enqueue(job: Job) -> bool:
    """Records the callback this change of `job` owes; True if there is one.

    Runs inside the transaction that changed the job.
    """
    uri = job.subscriber.get(_KEY_BY_STATUS.get(job.status, ""))
    if not uri:
        return False
    payload = _payload(job)
    if job.status in (JobStatus.ACCEPTED, JobStatus.RUNNING):
        replaced = CallbackDelivery.objects.filter(job=job, url=uri, pending=True).update(
            payload=payload, revision=F("revision") + 1
        )
        if replaced:
            return True
    CallbackDelivery.objects.create(job=job, url=uri, payload=payload)
    return True


def _payload(job: Job) -> dict[str, Any]:
    # The API's documents; imported here because the OGC app builds on this one.
    from ogc.results import results_document
    from ogc.serializers import StatusInfoSerializer

    base = settings.UMS_PUBLIC_URL or job.links_base
    if job.status == JobStatus.SUCCESSFUL:
        return results_document(job, base)
    return StatusInfoSerializer(job, context={"base": base}).data


@dataclass(frozen=True)
class Claimed:
    pk: int
    url: str
    payload: dict[str, Any]
    revision: int
    attempts: int


@database_sync_to_async
def _claim_due() -> list[Claimed]:
    now = timezone.now()
    lease = timedelta(seconds=settings.UMS_CALLBACK_TIMEOUT * 3)
    with transaction.atomic():
        due = list(
            CallbackDelivery.objects.select_for_update(skip_locked=True)
            .filter(pending=True, due__lte=now)
            .order_by("due")[:CLAIM_BATCH]
        )
        for delivery in due:
            delivery.attempts += 1
            delivery.due = now + lease
        CallbackDelivery.objects.bulk_update(due, ["attempts", "due"])
    return [Claimed(d.pk, d.url, d.payload, d.revision, d.attempts) for d in due]


async def _post(client: httpx.AsyncClient, claimed: Claimed) -> str:
    """Posts one callback; the error text, or "" when the subscriber took it (2xx)."""
    problem = callback_url_problem(claimed.url)
    if problem:
        return f"refused: {problem}"
    try:
        response = await client.post(claimed.url, json=claimed.payload)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "" if response.is_success else f"HTTP {response.status_code}"


@database_sync_to_async
def _record(claimed: Claimed, error: str) -> None:
    now = timezone.now()
    deliveries = CallbackDelivery.objects.filter(pk=claimed.pk)
    if not error:
        # A newer progress report that arrived meanwhile is still owed: post it next.
        if not deliveries.filter(revision=claimed.revision).update(pending=False, delivered=now):
            deliveries.update(due=now)
        return
    if claimed.attempts >= settings.UMS_CALLBACK_ATTEMPTS:
        logger.warning("callback to %s given up after %d attempts: %s", claimed.url, claimed.attempts, error)
        deliveries.update(pending=False, last_error=error[:2000])
        return
    delay = min(settings.UMS_CALLBACK_RETRY_DELAY * 2 ** (claimed.attempts - 1), MAX_RETRY_DELAY)
    deliveries.update(due=now + timedelta(seconds=delay), last_error=error[:2000])


async def callbacks_deliver() -> int:
    """Posts every callback that is due; the number of attempts made."""
    attempts = 0
    async with httpx.AsyncClient(timeout=settings.UMS_CALLBACK_TIMEOUT, follow_redirects=False) as client:
        while claimed := await _claim_due():
            errors = await asyncio.gather(*(_post(client, item) for item in claimed))
            for item, error in zip(claimed, errors, strict=True):
                await _record(item, error)
            attempts += len(claimed)
    return attempts


_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = weakref.WeakKeyDictionary()


def callbacks_kick() -> None:
    """Starts delivery in this event loop unless it is already running; returns at once."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_deliver_logged(), name="ums-callbacks")


async def _deliver_logged() -> None:
    try:
        await callbacks_deliver()
    except Exception:  # the next sweep tries again
        logger.exception("callback delivery failed")
