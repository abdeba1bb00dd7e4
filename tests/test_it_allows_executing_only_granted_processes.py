"""Under authenticated access, executing a process needs the `registry.execute_process`
permission or a process grant of one of the user's groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from jobs.models import Job
from registry.models import ProcessGrant
from tests.api_users import execute, may_execute_everything, token_client
from tests.factories import ECHO
from tests.ogc_factories import described, provide

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def authenticated_access(settings) -> None:
    settings.UMS_API_AUTH = "authenticated"
    provide(ECHO, described(id="noise-road"), described(id="noise-rail"))


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("planner")


def grant(user, *patterns: str) -> None:
    group = Group.objects.create(name=f"group-{'-'.join(patterns)}")
    ProcessGrant.objects.create(group=group, process_patterns=list(patterns))
    user.groups.add(group)


def test_it_refuses_a_user_without_permission_with_403_and_creates_no_job(user):
    response = execute(token_client(user))
    assert response.status_code == 403
    assert response.json()["detail"] == "You may not execute this process."
    assert not Job.objects.exists()


def test_it_allows_the_processes_a_group_grant_matches(user):
    grant(user, "noise-*")
    client = token_client(user)
    assert execute(client, "noise-road").status_code == 201
    assert execute(client, "noise-rail").status_code == 201
    assert execute(client, "echo").status_code == 403


def test_an_empty_grant_allows_nothing(user):
    grant(user)
    assert execute(token_client(user), "echo").status_code == 403


def test_the_model_permission_allows_every_process(user):
    may_execute_everything(user)
    assert execute(token_client(user), "noise-rail").status_code == 201


def test_an_unknown_process_is_a_404_for_users_who_may_execute_it(user):
    grant(user, "*")
    response = execute(token_client(user), "nothing")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/no-such-process")


def test_under_open_access_anyone_may_execute(settings):
    settings.UMS_API_AUTH = "open"
    assert execute(Client(), "noise-road").status_code == 201
