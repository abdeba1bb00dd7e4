"""Execute requests are validated against the process description before a job exists."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from jobs.models import Job
from tests.ogc_factories import MULTI, provide

pytestmark = pytest.mark.django_db(transaction=True)

TIFF = base64.b64encode(b"II*\x00 pretend tiff").decode()


@pytest.fixture
def multi():
    provide(MULTI)


def execute(body, content_type: str = "application/json"):
    return Client().post(
        "/processes/multi/execution", body, content_type=content_type, headers={"Prefer": "respond-async"}
    )


def assert_refused(body, *words: str) -> None:
    response = execute(body)
    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["type"] == "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/invalid-parameter"
    for word in words:
        assert word in problem["detail"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({}, ("'count'", "required")),
        ({"count": 0}, ("'count'", "minimum")),
        ({"count": "1"}, ("'count'", "not of type 'integer'")),
        ({"count": 1, "colour": "red"}, ("Unknown input", "colour")),
        ({"count": 1, "names": ["a", "b", "c"]}, ("'names'", "between 0 and 2", "3 given")),
        ({"count": 1, "names": ["a", 2]}, ("'names'", "not of type 'string'")),
        ({"count": 1, "area": {"bbox": [1, 2, 3]}}, ("'area['bbox']'", "too short")),
        ({"count": 1, "area": {"crs": "x"}}, ("'area'", "'bbox' is a required property")),
        ({"count": 1, "grid": {"value": "not base64!", "mediaType": "image/tiff"}}, ("'grid'", "byte")),
        (
            {"count": 1, "grid": {"value": TIFF, "mediaType": "image/png"}},
            ("'grid'", "image/png", "image/tiff"),
        ),
        ({"count": 1, "grid": {"href": "file:///etc/passwd"}}, ("'grid'", "http(s) URL")),
        ({"count": {"value": "1", "mediaType": "application/json"}}, ("'count'", "not of type 'integer'")),
    ],
)
def test_it_rejects_invalid_inputs_naming_them(multi, inputs, words):
    assert_refused({"inputs": inputs}, *words)


@pytest.mark.parametrize(
    "inputs",
    [
        {"count": 1},
        {"count": 1, "names": "one"},
        {"count": 1, "names": ["one", "two"]},
        {"count": {"value": 2}},
        {
            "count": 1,
            "area": {"bbox": [5.9, 45.8, 10.5, 47.8], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        },
        {"count": 1, "grid": {"value": TIFF, "mediaType": "image/tiff"}},
        {"count": 1, "grid": TIFF},
        {"count": 1, "grid": {"href": "https://data.example.org/dem.tif", "type": "image/tiff"}},
        {
            "count": 1,
            "geometry": {
                "value": {"type": "Point", "coordinates": [1, 2]},
                "mediaType": "application/geo+json",
            },
        },
        {"count": 1, "geometry": {"type": "Point", "coordinates": [1, 2]}},
    ],
)
def test_it_accepts_valid_inputs(multi, inputs):
    response = execute({"inputs": inputs})
    assert response.status_code == 201, response.content
    assert Job.objects.get().inputs == inputs


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"inputs": {"count": 1}, "outputs": {"nope": {}}}, ("Unknown output", "nope")),
        (
            {"inputs": {"count": 1}, "outputs": {"text": {"transmissionMode": "carrier-pigeon"}}},
            ("text", "transmissionMode"),
        ),
        ({"inputs": {"count": 1}, "outputs": {"text": "value"}}, ("text", "object")),
        ({"inputs": {"count": 1}, "outputs": {"text": {"format": {"mediaType": 3}}}}, ("text", "format")),
        ({"inputs": {"count": 1}, "response": "everything"}, ("response",)),
        ({"inputs": [1]}, ("inputs",)),
        (
            {"inputs": {"count": 1}, "subscriber": {"successUrl": "http://example.org"}},
            ("successUrl", "successUri"),
        ),
        (
            {"inputs": {"count": 1}, "subscriber": {"successUri": "ftp://example.org"}},
            ("successUri", "http(s)"),
        ),
        ([1, 2], ("JSON object",)),
    ],
)
def test_it_rejects_bad_execute_requests(multi, body, words):
    assert_refused(body, *words)


def test_a_process_that_only_sends_values_refuses_references():
    provide({**MULTI, "outputTransmission": ["value"]})
    assert_refused({"inputs": {"count": 1}, "outputs": {"text": {"transmissionMode": "reference"}}}, "value")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [("{not json", "application/json", 400), ("count=1", "application/x-www-form-urlencoded", 415)],
)
def test_a_body_that_is_not_json_is_refused(multi, body, content_type, status):
    response = execute(body, content_type)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == status
    assert not Job.objects.exists()
