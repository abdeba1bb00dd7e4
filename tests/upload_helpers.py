"""A worker holding a job, and PUTs of its outputs, for the upload tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from django.test import AsyncClient

from tests.factories import ECHO, receive, token_create


@dataclass
class HeldJob:
    job_id: str
    token: str

    async def put(self, output_id: str, body: bytes, *, token: str | None = None, job_id: str | None = None):
        return await AsyncClient().put(
            f"/jobs/{job_id or self.job_id}/outputs/{output_id}",
            body,
            content_type="text/csv",
            headers={"Authorization": f"Bearer {token or self.token}"},
        )


@pytest.fixture
def held_job(connect_worker, settings, tmp_path) -> Callable[[], Awaitable[HeldJob]]:
    """Makes jobs dispatched to a connected worker; files are stored under a temporary root."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return lambda: _held_job(connect_worker)


async def _held_job(connect_worker) -> HeldJob:
    token = await token_create("uploader")
    ws, _ = await connect_worker(token, processes=[ECHO])
    response = await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "hi"}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    frame = await receive(ws)
    assert frame["type"] == "job.execute" and frame["job"] == response.json()["jobID"]
    return HeldJob(frame["job"], token)
