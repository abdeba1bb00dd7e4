"""Staff see credentials, sessions, processes and jobs in the admin, with readable JSON."""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs.models import Job, JobOutput
from registry.models import Process, WorkerSession
from registry.services import credential_create
from tests.factories import ECHO

pytestmark = pytest.mark.django_db


@pytest.fixture
def job() -> Job:
    credential, _ = credential_create(name="lab")
    session = WorkerSession.objects.create(
        credential=credential, name="w", channel_name="c", instance="i", last_seen_at=timezone.now()
    )
    process = Process.objects.create(pk="echo", version="1.0.0", description=ECHO)
    process.providers.add(session)
    job = Job.objects.create(
        process=process, inputs={"message": "città"}, status="successful", session=session
    )
    Job.objects.create(process=process, status="running", session=session, message="held")
    JobOutput.objects.create(job=job, output_id="echo", value={"nested": [1, 2]})
    return job


@pytest.mark.parametrize(
    "model", ["registry/workercredential", "registry/workersession", "registry/process", "jobs/job"]
)
def test_every_changelist_renders(admin_client, job, model):
    assert admin_client.get(f"/admin/{model}/").status_code == 200


def test_jobs_filter_by_status_and_process_and_search_by_id(admin_client, job):
    assert str(job.id) in admin_client.get("/admin/jobs/job/?status=successful&process__id__exact=echo").text
    assert str(job.id) not in admin_client.get("/admin/jobs/job/?status=failed").text
    assert str(job.id) in admin_client.get(f"/admin/jobs/job/?q={job.id}").text


def test_a_job_shows_its_inputs_and_outputs_as_readable_json(admin_client, job):
    page = admin_client.get(f"/admin/jobs/job/{job.id}/change/").text
    assert "&quot;message&quot;: &quot;città&quot;" in page
    assert "&quot;nested&quot;: [\n" in page


def test_a_new_credential_shows_its_token_once(admin_client):
    response = admin_client.post(
        "/admin/registry/workercredential/add/",
        {"name": "traffic", "process_patterns": '["traffic-*"]', "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(message) for message in response.context["messages"]]
    assert any("ums_" in message and "not shown again" in message for message in messages)


def test_sessions_show_capacity_jobs_held_and_last_seen(admin_client, job):
    changelist = admin_client.get("/admin/registry/workersession/")
    row = changelist.context["cl"].result_list.get()
    assert (row.capacity, row.jobs_held) == (1, 1)
    assert "Last seen at" in changelist.text
    page = admin_client.get(f"/admin/registry/workersession/{job.session_id}/change/").text
    held = Job.objects.get(message="held")
    assert f"/admin/jobs/job/{held.pk}/change/" in page  # the job it holds, linked
    assert "/admin/registry/process/echo/change/" in page


def test_processes_show_their_providers(admin_client, job):
    changelist = admin_client.get("/admin/registry/process/")
    assert changelist.context["cl"].result_list.get().provider_count == 1
    page = admin_client.get("/admin/registry/process/echo/change/").text
    assert f"/admin/registry/workersession/{job.session_id}/change/" in page
    assert "&quot;title&quot;: &quot;Echo&quot;" in page


def test_a_job_shows_its_owner_timing_and_a_link_to_its_page(admin_client, job):
    page = admin_client.get(f"/admin/jobs/job/{job.id}/change/").text
    for label in ("Owner", "Created", "Started", "Finished", "Run time", "Progress", "Error"):
        assert f"<label>{label}:</label>" in page
    assert f"/jobs/{job.id}?f=html" in page  # view on site
