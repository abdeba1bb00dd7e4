"""UMS_EXECUTE_RATE: execute requests per client, counted in the cache; past it a 429 problem
details response with Retry-After, and no job."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from jobs.models import Job
from tests.api_users import execute, token_client
from tests.ogc_factories import provide

pytestmark = pytest.mark.django_db(transaction=True)

# Each test counts from another address: the cache (Redis under REDIS_URL) outlives tests.
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(autouse=True)
def two_per_minute(settings) -> None:
    settings.UMS_EXECUTE_RATE = "2/minute"
    provide()


def test_it_answers_429_with_retry_after_past_the_rate():
    address = next(_addresses)
    client = Client(REMOTE_ADDR=address)
    assert [execute(client).status_code for _ in range(2)] == [201, 201]
    refused = execute(client)
    assert refused.status_code == 429
    assert refused.json()["status"] == 429
    assert "throttled" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert Job.objects.count() == 2


def test_it_counts_each_client_apart(django_user_model):
    address = next(_addresses)
    for _ in range(2):
        execute(Client(REMOTE_ADDR=address))
    assert execute(Client(REMOTE_ADDR=next(_addresses))).status_code == 201
    user = django_user_model.objects.create_user(f"user-{address}")
    assert execute(token_client(user), REMOTE_ADDR=address).status_code == 201


def test_reading_is_not_limited():
    client = Client(REMOTE_ADDR=next(_addresses))
    assert [client.get("/processes").status_code for _ in range(5)] == [200] * 5
