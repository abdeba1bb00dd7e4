"""Revoking a worker token takes effect at once: its sessions close, their jobs requeue."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient, Client

from jobs.models import Job
from registry.models import WorkerCredential
from tests.factories import communicator, receive, send, token_create
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


def admin_revokes(name: str) -> None:
    staff = User.objects.create_superuser("staff", password="x")
    client = Client()
    client.force_login(staff)
    credential = WorkerCredential.objects.get(name=name)
    response = client.post(
        "/admin/registry/workercredential/",
        {"action": "revoke", "_selected_action": [credential.pk]},
    )
    assert response.status_code == 302


async def test_revoking_closes_the_session_requeues_its_job_and_refuses_the_token(connect_worker):
    token = await token_create("revoked-lab")
    ws, _ = await connect_worker(token)
    response = await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "m"}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    job_id = response.json()["jobID"]
    await send(ws, {"type": "job.started", "job": (await receive(ws))["job"]})
    await send(ws, {"type": "unregister", "processes": []})
    await receive(ws)

    await sync_to_async(admin_revokes)("revoked-lab")

    assert (await ws.receive_output(timeout=5))["type"] == "websocket.close"
    job = await db_sync_to_async(Job.objects.get)(pk=job_id)
    assert (job.status, job.session_id) == ("accepted", None)
    assert "token revoked" in job.message
    connected, _ = await communicator(token).connect()
    assert not connected
