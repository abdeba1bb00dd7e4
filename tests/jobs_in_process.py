"""Helpers for tests that act as workers on the in-process ASGI app (channels.testing)."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator

from jobs import services
from jobs.models import Job
from jobs.notifications import Outbox, outbox_deliver
from registry.models import Process
from tests.factories import receive, send
from ums_site.db import db_sync_to_async


@db_sync_to_async
def _create(inputs: dict) -> tuple[Job, Outbox]:
    outbox = Outbox()
    job = services.job_create(process=Process.objects.get(pk="echo"), inputs=inputs, outbox=outbox)
    return job, outbox


async def echo_job_create(message: str = "x") -> str:
    """Queues an echo job and dispatches it, as the execute endpoint does; its id."""
    job, outbox = await _create({"message": message})
    await outbox_deliver(outbox)
    return str(job.pk)


async def job_get(job_id: str) -> Job:
    return await db_sync_to_async(Job.objects.get)(pk=job_id)


async def round_trip(ws: WebsocketCommunicator) -> None:
    """Waits until the server has handled every frame sent before (frames are handled in order)."""
    await send(ws, {"type": "unregister", "processes": []})
    assert (await receive(ws))["type"] == "registered"


async def take(ws: WebsocketCommunicator) -> str:
    """Receives a job.execute and starts it; the job id."""
    frame = await receive(ws)
    assert frame["type"] == "job.execute", frame
    await send(ws, {"type": "job.started", "job": frame["job"]})
    await round_trip(ws)
    return frame["job"]
