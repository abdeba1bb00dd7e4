"""Stored output files are named by the server: hostile output or job ids in the upload URL
never reach a path."""

from __future__ import annotations

import pytest
from django.conf import settings

from jobs.models import JobOutput

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_OUTPUT_IDS = ["..%2Fx", "..%2F..%2Fetc%2Fpasswd", "%2Ftmp%2Fx", "echo%00", "..", "C:%5Cx"]


@pytest.mark.parametrize("output_id", HOSTILE_OUTPUT_IDS)
async def test_it_refuses_hostile_output_ids_and_writes_nothing(held_job, output_id):
    job = await held_job()
    response = await job.put(output_id, b"pwned")
    assert response.status_code in (400, 404)
    assert not await JobOutput.objects.aexists()
    assert not settings.MEDIA_ROOT.exists() or not any(settings.MEDIA_ROOT.rglob("*"))


@pytest.mark.parametrize("job_id", ["..%2F..%2Fx", "not-a-uuid"])
async def test_it_refuses_hostile_job_ids(held_job, job_id):
    job = await held_job()
    response = await job.put("echo", b"pwned", job_id=job_id)
    assert response.status_code == 404
    assert not await JobOutput.objects.aexists()


async def test_the_stored_name_comes_from_the_server(held_job):
    job = await held_job()
    assert (await job.put("echo", b"data")).status_code == 201
    output = await JobOutput.objects.aget()
    directory, name = output.file.name.rsplit("/", 1)
    assert directory == f"outputs/{job.job_id}"
    assert len(name) == 32 and "echo" not in name
