"""PUT /jobs/{id}/outputs/{output}: only with a worker token whose session holds the job; a
refused upload stores nothing."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from jobs.models import JobOutput
from tests.factories import token_create

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_assigned_session_uploads_an_output(held_job):
    job = await held_job()
    response = await job.put("echo", b"a,b\n1,2\n")
    assert response.status_code == 201
    assert response.json()["href"].endswith(f"/jobs/{job.job_id}/results/echo")
    output = await JobOutput.objects.aget(job_id=job.job_id)
    assert (output.output_id, output.size, output.media_type) == ("echo", 8, "text/csv")


async def test_another_workers_token_is_refused(held_job):
    job = await held_job()
    other = await token_create("other-worker")
    response = await job.put("echo", b"forged", token=other)
    assert response.status_code == 403
    assert "not assigned" in response.json()["detail"]
    assert not await JobOutput.objects.aexists()


async def test_no_or_a_wrong_token_is_a_401(held_job):
    job = await held_job()
    anonymous = await AsyncClient().put(f"/jobs/{job.job_id}/outputs/echo", b"x", content_type="text/csv")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert (await job.put("echo", b"x", token="not-a-token")).status_code == 401
    assert not await JobOutput.objects.aexists()


async def test_a_revoked_token_is_refused(held_job):
    job = await held_job()
    from registry.models import WorkerCredential

    await database_sync_to_async(WorkerCredential.objects.update)(is_active=False)
    assert (await job.put("echo", b"x")).status_code == 401


async def test_an_output_the_process_does_not_declare_is_a_400(held_job):
    job = await held_job()
    response = await job.put("secret", b"x")
    assert response.status_code == 400
    assert "has no output 'secret'" in response.json()["detail"]


async def test_an_upload_past_the_limit_is_a_413(held_job, settings):
    settings.UMS_MAX_OUTPUT_BYTES = 1024
    job = await held_job()
    response = await job.put("echo", b"x" * 1025)
    assert response.status_code == 413
    assert "limit of 1024 bytes" in response.json()["detail"]
    assert not await JobOutput.objects.aexists()
