"""Dismiss (DELETE /jobs/{id}): the job ends as dismissed and its worker is told to stop."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from tests.factories import receive, send
from tests.ogc_factories import schema_errors

pytestmark = pytest.mark.django_db(transaction=True)


async def start_job(ws, client: AsyncClient) -> str:
    response = await client.post(
        "/processes/echo/execution",
        {"inputs": {"message": "long"}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    job_id = response.json()["jobID"]
    assert (await receive(ws))["job"] == job_id
    await send(ws, {"type": "job.started", "job": job_id})
    return job_id


async def test_dismissing_a_running_job_stops_its_worker(connect_worker):
    ws, _ = await connect_worker()
    client = AsyncClient()
    job_id = await start_job(ws, client)
    response = await client.delete(f"/jobs/{job_id}")
    assert response.status_code == 200
    status = response.json()
    assert schema_errors("schemas/statusInfo.yaml", status) == []
    assert (status["jobID"], status["status"]) == (job_id, "dismissed")
    assert await receive(ws) == {"type": "job.cancel", "job": job_id}
    assert (await client.get(f"/jobs/{job_id}")).json()["status"] == "dismissed"


async def test_dismissing_twice_is_safe(connect_worker):
    ws, _ = await connect_worker()
    client = AsyncClient()
    job_id = await start_job(ws, client)
    first = await client.delete(f"/jobs/{job_id}")
    second = await client.delete(f"/jobs/{job_id}")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "dismissed"
    assert await receive(ws) == {"type": "job.cancel", "job": job_id}
    assert await ws.receive_nothing(timeout=0.2)


async def test_a_late_result_of_a_dismissed_job_is_dropped(connect_worker):
    ws, _ = await connect_worker()
    client = AsyncClient()
    job_id = await start_job(ws, client)
    await client.delete(f"/jobs/{job_id}")
    await receive(ws)
    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "late"}}})
    await send(ws, {"type": "unregister", "processes": []})
    assert (await receive(ws))["type"] == "registered"
    assert (await client.get(f"/jobs/{job_id}")).json()["status"] == "dismissed"
    assert (await client.get(f"/jobs/{job_id}/results")).status_code == 404
