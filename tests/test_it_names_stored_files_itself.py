"""Stored output files are named by the server: hostile output or job ids in the upload URL
never reach a path, and nothing is written for them."""

from __future__ import annotations

import pytest

from jobs.models import JobOutput
from tests.factories import token_create
from tests.jobs_in_process import echo_job_create, take
from tests.test_uploads_worker_uploads_a_large_output import media_root, stored_files, upload  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_OUTPUT_IDS = ["..%2Fx", "..%2F..%2Fetc%2Fpasswd", "%2Ftmp%2Fx", "echo%00", "..", "C:%5Cx"]


@pytest.mark.parametrize("output_id", HOSTILE_OUTPUT_IDS)
async def test_it_refuses_hostile_output_ids_and_writes_nothing(connect_worker, media_root, output_id):  # noqa: F811
    token = await token_create("uploader")
    ws, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(ws)
    response = await upload(job_id, token, output_id=output_id, body=b"pwned")
    assert response.status_code in (400, 404)
    assert stored_files(media_root) == []
    assert not await JobOutput.objects.aexists()


async def test_the_stored_name_comes_from_the_server(connect_worker, media_root):  # noqa: F811
    token = await token_create("uploader")
    ws, _ = await connect_worker(token)
    job_id = await echo_job_create()
    await take(ws)
    assert (await upload(job_id, token, body=b"data")).status_code in (200, 201)
    (stored,) = stored_files(media_root)
    assert stored.parent.name == job_id and "echo" not in stored.name
