"""What the tests of status requests that wait for a job's end share."""

from __future__ import annotations

from django.test import AsyncClient

from jobs.models import Job, JobStatus
from tests.ogc_factories import job_make, provide

# Long enough for a request that did not wait to have answered on a busy machine.
SETTLE_SECONDS = 0.2


def running_job() -> Job:
    """A running job of the echo, provided by a session without a socket."""
    provide()
    return job_make(status=JobStatus.RUNNING)


async def status_of(job_id: object) -> str:
    """The status a status request answers."""
    response = await AsyncClient().get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.content
    return response.json()["status"]
