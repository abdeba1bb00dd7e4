"""The read-only WebSocket browsers watch a job on (`/ws/jobs/{id}/`): status and progress."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from jobs.models import Job
from jobs.notifications import job_group
from jobs.selectors import job_get, job_visible_to
from ogc.serializers import iso_datetime
from ums_site.db import db_sync_to_async

CLOSE_NOT_FOUND = 4404


def job_update(job: Job) -> dict[str, Any]:
    """The job's state, with statusInfo's names (a page can show either the same way)."""
    return {
        "type": "job.status",
        "jobID": str(job.id),
        "processID": job.process_id,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "created": _timestamp(job.created),
        "started": _timestamp(job.started),
        "finished": _timestamp(job.finished),
        "updated": _timestamp(job.updated),
    }


def _timestamp(moment: datetime | None) -> str | None:
    # Formatted as the HTTP API's statusInfo formats it.
    return iso_datetime(moment) if moment is not None else None


@db_sync_to_async
def _visible_job(job_id: str, user) -> Job | None:
    job = job_get(job_id)
    return job if job is not None and job_visible_to(job, user) else None


class JobStatusConsumer(AsyncWebsocketConsumer):
    """Pushes the job's status on every change; the same visibility as GET /jobs/{id}."""

    async def connect(self) -> None:
        job_id = self.scope["url_route"]["kwargs"]["job_id"]
        job = await _visible_job(job_id, self.scope.get("user"))
        if job is None:
            # Unknown and invisible jobs look the same, as over HTTP (404).
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.job_id = str(job.id)
        await self.channel_layer.group_add(job_group(self.job_id), self.channel_name)
        await self.accept()
        await self._send_status()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "job_id"):
            await self.channel_layer.group_discard(job_group(self.job_id), self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Read-only: anything a browser sends is ignored."""

    async def job_changed(self, event: dict[str, Any]) -> None:
        # The signal says what changed; the record says what is true now (signals may be late).
        await self._send_status()

    async def _send_status(self) -> None:
        job = await db_sync_to_async(job_get)(self.job_id)
        if job is not None:
            await self.send(text_data=json.dumps(job_update(job)))
