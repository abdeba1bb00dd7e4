"""The job list (job-list conformance class): filters, paging, bad values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.models import Job
from tests.ogc_factories import MULTI, job_make, provide, schema_errors

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def jobs() -> dict[str, Job]:
    """Jobs of two processes in every state, created an hour apart (oldest first)."""
    provide(MULTI, {**MULTI, "id": "other"})
    now = timezone.now()
    made = {
        "queued": job_make("multi", "accepted"),
        "running": job_make("multi", "running", ran_for=300),
        "quick": job_make("other", "successful", ran_for=5),
        "slow": job_make("multi", "successful", ran_for=120),
        "broken": job_make("other", "failed", ran_for=30),
        "dropped": job_make("other", "dismissed", ran_for=1),
    }
    for hours_ago, job in enumerate(reversed(made.values())):
        Job.objects.filter(pk=job.pk).update(created=now - timedelta(hours=hours_ago))
    return made


def listed(jobs: dict[str, Job], **query) -> list[str]:
    response = Client().get("/jobs", query)
    assert response.status_code == 200, response.content
    document = response.json()
    assert schema_errors("schemas/jobList.yaml", document) == []
    names = {str(job.id): name for name, job in jobs.items()}
    return [names[status["jobID"]] for status in document["jobs"]]


def test_all_jobs_newest_first(jobs):
    assert listed(jobs) == ["dropped", "broken", "slow", "quick", "running", "queued"]


def test_filter_by_type(jobs):
    assert len(listed(jobs, type="process")) == 6


def test_filter_by_process_repeatable(jobs):
    assert listed(jobs, processID="other") == ["dropped", "broken", "quick"]
    assert len(listed(jobs, processID=["other", "multi"])) == 6
    assert listed(jobs, processID="unknown") == []


def test_filter_by_status_repeatable(jobs):
    assert listed(jobs, status="successful") == ["slow", "quick"]
    assert listed(jobs, status=["accepted", "failed"]) == ["broken", "queued"]


def test_filter_by_instant_and_intervals(jobs):
    created = {name: job.created for name, job in ((n, Job.objects.get(pk=j.pk)) for n, j in jobs.items())}
    iso = {name: value.isoformat() for name, value in created.items()}
    assert listed(jobs, datetime=iso["slow"]) == ["slow"]
    assert listed(jobs, datetime=f"{iso['quick']}/{iso['slow']}") == ["slow", "quick"]
    assert listed(jobs, datetime=f"../{iso['running']}") == ["running", "queued"]
    assert listed(jobs, datetime=f"{iso['broken']}/..") == ["dropped", "broken"]
    zulu = created["slow"].astimezone(timezone.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert listed(jobs, datetime=zulu) == ["slow"]


def test_filter_by_duration(jobs):
    # Durations: running 300 s so far, slow 120, broken 30, quick 5, dropped 1; queued none.
    assert listed(jobs, minDuration=100) == ["slow", "running"]
    assert listed(jobs, maxDuration=30) == ["dropped", "broken", "quick"]
    assert listed(jobs, minDuration=10, maxDuration=200) == ["broken", "slow"]


def test_filters_combine(jobs):
    assert listed(jobs, processID="multi", status=["successful", "running"], minDuration=200) == ["running"]


def test_paging_keeps_the_filters(jobs):
    client = Client()
    first = client.get("/jobs", {"processID": "other", "limit": 2}).json()
    assert len(first["jobs"]) == 2
    next_href = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "processID=other" in next_href and "limit=2" in next_href
    rest = client.get(next_href).json()
    assert [status["jobID"] for status in rest["jobs"]] == [str(jobs["quick"].id)]
    assert not any(link["rel"] == "next" for link in rest["links"])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "lost"),
        ("type", "coffee"),
        ("datetime", "yesterday"),
        ("datetime", "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z"),
        ("datetime", "../.."),
        ("minDuration", "-1"),
        ("maxDuration", "soon"),
        ("minDuration", "99999999999999"),
        ("datetime", "2026-13-45T00:00:00Z"),
        ("datetime", "0000-01-01T00:00:00Z/.."),
        ("limit", "0"),
        ("limit", "many"),
    ],
)
def test_bad_values_are_a_400_naming_the_parameter(jobs, name, value):
    response = Client().get("/jobs", {name: value})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-parameter")
    assert name in response.json()["detail"]


def test_clients_see_only_their_own_jobs_and_staff_all(jobs, django_user_model):
    someone = django_user_model.objects.create_user("someone")
    Job.objects.filter(pk=jobs["slow"].pk).update(owner=someone)
    anonymous = Client()
    assert "slow" not in listed(jobs)
    assert anonymous.get(f"/jobs/{jobs['slow'].id}").status_code == 404
    assert anonymous.get(f"/jobs/{jobs['slow'].id}/results").status_code == 404
    assert anonymous.delete(f"/jobs/{jobs['slow'].id}").status_code == 404
    owner = Client()
    owner.force_login(someone)
    assert [status["jobID"] for status in owner.get("/jobs").json()["jobs"]] == [str(jobs["slow"].id)]
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("admin", is_staff=True))
    assert len(staff.get("/jobs").json()["jobs"]) == 6
