"""Jobs record their creator; without staff rights a user sees and dismisses only their own
(another user's job is a 404 no-such-job), under either access setting."""

from __future__ import annotations

import pytest

from jobs.models import Job, JobStatus
from tests.api_users import execute, may_execute_everything, token_client
from tests.ogc_factories import provide

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("access", ["open", "authenticated"])
def test_it_hides_other_users_jobs(settings, django_user_model, access):
    settings.UMS_API_AUTH = access
    provide()
    alice, bob = (django_user_model.objects.create_user(name) for name in ("alice", "bob"))
    for user in (alice, bob):
        may_execute_everything(user)
    job_id = execute(token_client(alice)).json()["jobID"]
    assert Job.objects.get(pk=job_id).owner == alice

    intruder = token_client(bob)
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/results", f"/jobs/{job_id}/results/echo"):
        response = intruder.get(path)
        assert response.status_code == 404
        assert response.json()["type"].endswith("/no-such-job")
    assert intruder.get("/jobs").json()["jobs"] == []
    assert intruder.delete(f"/jobs/{job_id}").status_code == 404
    assert Job.objects.get(pk=job_id).status == JobStatus.ACCEPTED

    owner = token_client(alice)
    assert [job["jobID"] for job in owner.get("/jobs").json()["jobs"]] == [job_id]
    assert owner.delete(f"/jobs/{job_id}").json()["status"] == "dismissed"
