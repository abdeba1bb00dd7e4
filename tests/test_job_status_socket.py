"""Browsers watch a job on /ws/jobs/{id}/: status and progress pushed, same visibility as HTTP."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.test import AsyncClient

from jobs.models import Job
from tests.factories import Communicator, application, receive, send, submitted
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


def browser(job_id: str, origin: bytes = b"http://localhost") -> Communicator:
    return Communicator(application, f"/ws/jobs/{job_id}/", headers=[(b"origin", origin)])


async def test_it_pushes_status_and_progress_as_the_worker_reports(connect_worker):
    ws, _ = await connect_worker()
    job_id = await submitted()
    page = browser(job_id)
    connected, _ = await page.connect()
    assert connected
    try:
        first = await receive(page)
        assert (first["type"], first["jobID"], first["status"]) == ("job.status", job_id, "accepted")
        await receive(ws)  # job.execute
        await send(ws, {"type": "job.progress", "job": job_id, "progress": 30, "message": "routing"})
        update = await receive(page)
        assert (update["status"], update["progress"], update["message"]) == ("running", 30, "routing")
        await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "m"}}})
        final = await receive(page)
        assert final["status"] == "successful"
        # The timestamps as the HTTP status has them, so a page shows either the same way.
        status = (await AsyncClient().get(f"/jobs/{job_id}")).json()
        assert {key: final[key] for key in ("started", "finished")} == {
            key: status[key] for key in ("started", "finished")
        }
    finally:
        await page.disconnect()


async def test_an_unknown_job_is_refused(transactional_db):
    connected, code = await browser(str(uuid.uuid4())).connect()
    assert not connected and code == 4404


async def test_another_users_job_is_refused_like_an_unknown_one(connect_worker):
    await connect_worker()
    job_id = await submitted()
    owner = await db_sync_to_async(User.objects.create_user)("someone")
    await db_sync_to_async(Job.objects.filter(pk=job_id).update)(owner=owner)
    connected, code = await browser(job_id).connect()
    assert not connected and code == 4404


async def test_a_foreign_origin_is_refused(connect_worker):
    await connect_worker()
    job_id = await submitted()
    connected, _ = await browser(job_id, origin=b"https://evil.example").connect()
    assert not connected
