"""Property-based fuzzing of the HTTP API: any execute request or query gets an answer, 400
problem details when it is wrong, never a 500, and only a valid request creates a job."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.models import Job
from tests.ogc_factories import MULTI, provide

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
input_values = json_values | st.fixed_dictionaries(
    {}, optional={"value": json_values, "mediaType": json_values, "href": json_values}
)
execute_requests = json_values | st.fixed_dictionaries(
    {},
    optional={
        "inputs": json_values | st.dictionaries(st.sampled_from([*MULTI["inputs"], "other"]), input_values),
        "outputs": json_values
        | st.dictionaries(
            st.sampled_from([*MULTI["outputs"], "other"]),
            st.fixed_dictionaries({}, optional={"transmissionMode": json_values, "format": json_values}),
        ),
        "response": json_values | st.sampled_from(["raw", "document"]),
        "subscriber": json_values
        | st.dictionaries(st.sampled_from(["successUri", "failedUri", "inProgressUri"]), json_values),
    },
)
query_values = st.text(max_size=30) | st.integers(min_value=-(10**20), max_value=10**20).map(str)
queries = st.dictionaries(
    st.sampled_from(
        ["limit", "offset", "f", "type", "processID", "status", "datetime", "minDuration", "maxDuration"]
    ),
    st.lists(query_values, min_size=1, max_size=2),
)


@pytest.fixture
def multi():
    provide(MULTI, capacity=1000)


@FUZZ
@given(body=execute_requests)
def test_any_execute_request_is_answered_201_or_400(multi, body):
    jobs_before = Job.objects.count()
    response = Client().post(
        "/processes/multi/execution",
        json.dumps(body),
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code in (201, 400), response.content
    assert response["Content-Type"] == "application/json"
    assert Job.objects.count() == jobs_before + (response.status_code == 201)


@FUZZ
@given(query=queries, path=st.sampled_from(["/jobs", "/processes"]))
def test_any_query_is_answered_200_or_400(multi, query, path):
    response = Client().get(path, query)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["type"].endswith("/invalid-parameter")
