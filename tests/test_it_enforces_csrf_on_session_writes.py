"""A browser session may only write (execute, dismiss) with the CSRF token; a token client
needs none (it sends no cookies a foreign site could ride on)."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Job, JobStatus
from tests.api_users import execute, may_execute_everything, token_client
from tests.ogc_factories import job_make, provide

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session(django_user_model) -> tuple[Client, object]:
    provide()
    user = django_user_model.objects.create_user("browser")
    may_execute_everything(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client, user


def test_it_refuses_session_writes_without_the_csrf_token(session):
    client, user = session
    job = job_make(owner=user)
    response = execute(client)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert client.delete(f"/jobs/{job.id}").status_code == 403
    assert list(Job.objects.values_list("status", flat=True)) == [JobStatus.ACCEPTED]


def test_it_accepts_session_writes_with_the_csrf_token(session):
    client, _ = session
    client.get("/processes/echo?f=html")  # the page with the execute form sets the cookie
    response = execute(client, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 201


def test_a_token_client_needs_no_csrf_token(session):
    _, user = session
    assert execute(token_client(user)).status_code == 201
