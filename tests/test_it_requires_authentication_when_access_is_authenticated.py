"""UMS_API_AUTH=authenticated: the API needs a DRF token or a session; discovery stays open."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Job
from tests.api_users import execute, may_execute_everything, token_client
from tests.ogc_factories import job_make, provide

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def authenticated_access(settings) -> None:
    settings.UMS_API_AUTH = "authenticated"
    provide()


@pytest.mark.parametrize(
    "path", ["/processes", "/processes/echo", "/jobs", "/jobs/{job}", "/jobs/{job}/results"]
)
def test_it_answers_401_problem_details_without_credentials(path):
    job = job_make()
    response = Client().get(path.format(job=job.id))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == 401
    assert "credentials" in response.json()["detail"]


def test_it_refuses_execution_and_dismissal_without_credentials():
    job = job_make()
    assert execute(Client()).status_code == 401
    assert Client().delete(f"/jobs/{job.id}").status_code == 401
    assert Job.objects.get().status == "accepted"  # nothing changed


def test_it_refuses_a_wrong_token():
    response = Client(headers={"Authorization": "Token not-a-token"}).get("/processes")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


@pytest.mark.parametrize("path", ["/", "/conformance", "/api", "/api.html"])
def test_it_keeps_the_discovery_documents_open(path):
    assert Client().get(path).status_code == 200


def test_it_serves_a_token_user(django_user_model):
    user = django_user_model.objects.create_user("analyst")
    may_execute_everything(user)
    client = token_client(user)
    assert client.get("/processes").status_code == 200
    response = execute(client)
    assert response.status_code == 201
    assert Job.objects.get(pk=response.json()["jobID"]).owner == user


def test_it_serves_a_signed_in_browser(django_user_model):
    django_user_model.objects.create_user("analyst", password="a long passphrase")
    client = Client()
    assert client.login(username="analyst", password="a long passphrase")
    assert client.get("/jobs").status_code == 200
