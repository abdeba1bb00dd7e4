"""PUT /jobs/{id}/outputs/{outputId}: large outputs go over HTTP, then job.succeeded refers to them."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from jobs.models import JobOutput
from tests.factories import ECHO, description, receive, send, token_create
from tests.jobs_in_process import echo_job_create, job_get, round_trip, take
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b"x" * (3 * 1024 * 1024)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


async def upload(job_id: str, token: str | None, output_id: str = "echo", body: bytes = BODY):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await AsyncClient().put(
        f"/jobs/{job_id}/outputs/{output_id}", body, content_type="text/plain", headers=headers
    )


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


async def test_an_uploaded_output_becomes_the_jobs_result(connect_worker, media_root):
    token = await token_create("uploader")
    ws, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(ws)

    response = await upload(job_id, token)

    assert response.status_code == 201
    href = response.json()["href"]
    assert href == response.headers["Location"] == f"http://testserver/jobs/{job_id}/outputs/echo"
    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"href": href}}})
    await round_trip(ws)
    assert (await job_get(job_id)).status == "successful"
    output = await db_sync_to_async(JobOutput.objects.get)(job_id=job_id)
    assert (output.size, output.media_type) == (len(BODY), "text/plain")
    # The server names the file; nothing of the request is in it.
    assert output.file.name.startswith(f"outputs/{job_id}/") and "echo" not in output.file.name
    assert [path.read_bytes() for path in stored_files(media_root)] == [BODY]


async def test_only_a_token_whose_session_holds_the_job_may_upload(connect_worker, media_root):
    ws, _ = await connect_worker(await token_create("holder"))
    other = await token_create("other")
    job_id = await echo_job_create()

    assert (await upload(job_id, None)).status_code == 401
    assert (await upload(job_id, "not-a-token")).status_code == 401
    assert (await upload(job_id, other)).status_code == 403
    assert (await upload("00000000-0000-0000-0000-000000000000", other)).status_code == 404
    assert (await upload("not-a-uuid", other)).status_code == 404
    assert (await AsyncClient().get(f"/jobs/{job_id}/outputs/echo")).status_code == 405
    assert stored_files(media_root) == []


async def test_an_output_the_process_does_not_declare_is_refused(connect_worker, media_root):
    token = await token_create("uploader")
    ws, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(ws)

    response = await upload(job_id, token, output_id="nope")

    assert response.status_code == 404
    assert "has no output" in response.json()["detail"]
    assert stored_files(media_root) == []


async def test_outputs_uploaded_by_an_attempt_that_ended_are_discarded(connect_worker, media_root):
    token = await token_create("uploader")
    first, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(first)
    assert (await upload(job_id, token)).status_code == 201

    await first.disconnect()  # requeued: the next attempt starts from nothing

    assert stored_files(media_root) == []
    assert not await db_sync_to_async(JobOutput.objects.exists)()
    assert (await upload(job_id, token)).status_code == 403, "the job is no longer held by the worker"


async def test_a_reference_to_an_upload_that_was_not_made_is_refused(connect_worker):
    ws, _ = await connect_worker(processes=[description(outputs={**ECHO["outputs"]})])
    job_id = await echo_job_create()
    await take(ws)

    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"href": "/elsewhere"}}})

    error = await receive(ws)
    assert (error["type"], error["code"], error["job"]) == ("error", "invalid-outputs", job_id)
    assert (await job_get(job_id)).status == "running"
