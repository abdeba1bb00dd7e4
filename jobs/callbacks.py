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

Callbacks are requests the server makes on a client's behalf, so they must not become a way
into the server's own network (SSRF): unless UMS_CALLBACK_ALLOW_PRIVATE is set, a callback
goes only to public addresses. The check is made on the address the connection is actually
opened to, after DNS resolution (a name that resolves to 127.0.0.1 is refused as well), and
redirects are not followed.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import logging
import socket
import weakref
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobs.models import CallbackDelivery, Job, JobStatus
from ums_site.db import db_sync_to_async
from ums_site.literals import Literal

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
    # Names are resolved at delivery (never in the request path); an address literal or
    # localhost can be refused at once, with a clear error.
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return PRIVATE_REFUSED
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return ""
    return "" if address_allowed(str(literal)) else PRIVATE_REFUSED


PRIVATE_REFUSED = "must not point to a private, loopback or link-local address"


def address_allowed(address: str) -> bool:
    """Whether callbacks may connect to this IP address: public ones only, unless allowed."""
    if settings.UMS_CALLBACK_ALLOW_PRIVATE:
        return True
    ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PublicAddressBackend(httpcore.AsyncNetworkBackend):
    """Opens callback connections only to allowed addresses, checked after resolution.

    The connection goes to the very address that was checked, so a name that resolves
    differently the second time (DNS rebinding) cannot slip through. TLS still verifies the
    certificate against the host name of the URL.
    """

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    # The signature is httpcore's (its `timeout` is the connect timeout it enforces).
    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ASYNC109
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = [info[4][0] for info in found]
        if not addresses or not all(address_allowed(address) for address in addresses):
            raise httpcore.ConnectError(f"{host} resolves to a private, loopback or link-local address")
        return await self._backend.connect_tcp(
            addresses[0], port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def callback_client() -> httpx.AsyncClient:
    """The HTTP client of callbacks: public addresses only, no redirects, no proxy from the
    environment (it would connect on our behalf to addresses we never check), short timeouts."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx has no parameter for the network backend: give its pool one.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False), network_backend=PublicAddressBackend()
    )
    return httpx.AsyncClient(
        transport=transport, timeout=settings.UMS_CALLBACK_TIMEOUT, follow_redirects=False, trust_env=False
    )


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


@db_sync_to_async
def _claim_due() -> list[Claimed]:
    now = timezone.now()
    lease = timedelta(seconds=settings.UMS_CALLBACK_TIMEOUT * 3)
    with transaction.atomic():
        due = list(
            CallbackDelivery.objects.select_for_update(skip_locked=True)
            .filter(pending=Literal(True), due__lte=now)  # the `callback_due` index's condition
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


@db_sync_to_async
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
    claimed = await _claim_due()
    if not claimed:  # most sweeps: no client (its TLS context costs milliseconds) for nothing
        return 0
    attempts = 0
    async with callback_client() as client:
        while claimed:
            errors = await asyncio.gather(*(_post(client, item) for item in claimed))
            for item, error in zip(claimed, errors, strict=True):
                await _record(item, error)
            attempts += len(claimed)
            claimed = await _claim_due()
    return attempts


_tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = weakref.WeakKeyDictionary()


def callbacks_kick() -> None:
    """Starts delivery in this event loop unless it is already running; returns at once."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        # A context of its own: it outlives the request that may start it, and with it the
        # request's thread (ums_site/asgi_handler.py).
        _tasks[loop] = loop.create_task(
            _deliver_logged(), name="ums-callbacks", context=contextvars.Context()
        )


async def _deliver_logged() -> None:
    try:
        await callbacks_deliver()
    except Exception:  # the next sweep tries again
        logger.exception("callback delivery failed")
