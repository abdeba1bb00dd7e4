"""The OpenAPI 3.0 document (oas30) and the Swagger UI, both generated at request time."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema

from tests.ogc_factories import MULTI, provide

pytestmark = pytest.mark.django_db(transaction=True)

OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"


def openapi(**query) -> dict:
    response = Client().get("/api", query)
    assert response.status_code == 200
    assert response["Content-Type"] == OPENAPI_JSON
    return response.json()


def test_the_document_is_valid_openapi_3_0_with_every_endpoint():
    document = openapi()
    validate_schema(document)
    assert document["openapi"].startswith("3.0")
    assert {
        "/",
        "/conformance",
        "/processes",
        "/processes/{process_id}",
        "/processes/{process_id}/execution",
        "/jobs",
        "/jobs/{job_id}",
        "/jobs/{job_id}/results",
        "/jobs/{job_id}/results/{output_id}",
    } <= set(document["paths"])
    assert "delete" in document["paths"]["/jobs/{job_id}"]


def test_responses_refer_to_the_official_schemas():
    document = openapi()
    schemas = document["components"]["schemas"]
    assert {"statusInfo", "jobList", "process", "processList", "results", "execute", "exception"} <= set(
        schemas
    )
    job = document["paths"]["/jobs/{job_id}"]["get"]["responses"]
    assert job["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/statusInfo"}
    assert job["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/exception"}
    job_list = document["paths"]["/jobs"]["get"]
    assert {p["name"] for p in job_list["parameters"]} >= {
        "type",
        "processID",
        "status",
        "datetime",
        "minDuration",
        "maxDuration",
        "limit",
    }


def test_every_live_process_gets_its_execute_request_schema():
    provide(MULTI)
    document = openapi()
    validate_schema(document)
    operation = document["paths"]["/processes/multi/execution"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    inputs = body["properties"]["inputs"]
    assert set(inputs["properties"]) == set(MULTI["inputs"])
    assert inputs["required"] == ["count"]
    assert MULTI["inputs"]["count"]["schema"] in inputs["properties"]["count"]["anyOf"]
    assert {"type": "object", "x-contentMediaType": "application/geo+json"} in (
        inputs["properties"]["geometry"]["anyOf"]
    )
    assert set(body["properties"]["outputs"]["properties"]) == {"text", "table"}


def test_the_document_follows_the_workers_at_request_time():
    assert "/processes/multi/execution" not in openapi()["paths"]
    provide(MULTI)
    assert "/processes/multi/execution" in openapi()["paths"]


def test_an_unknown_format_of_the_document_is_invalid():
    response = Client().get("/api", {"f": "html"})
    assert response.status_code == 400
    assert response.json()["detail"].endswith("available as json, yaml.")


def test_the_document_is_also_served_as_plain_json_and_yaml():
    assert Client().get("/api", headers={"Accept": "application/json"})["Content-Type"] == "application/json"
    yaml = Client().get("/api", headers={"Accept": "application/vnd.oai.openapi"})
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi") and b"openapi: 3.0" in yaml.content


def test_swagger_ui_is_served_offline_from_the_sidecar():
    client = Client()
    page = client.get("/api.html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # Every script and stylesheet is this server's own: nothing from a CDN. (Not a search for
    # "cdn" in the page: its random CSRF token contains those letters now and then.)
    sources = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert (
        client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    )


def test_the_views_are_described_without_warnings_also_offline(tmp_path):
    # --fail-on-warn: every view has an operation id and typed responses.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "openapi.yaml"))
    assert "/jobs/{job_id}/results" in (tmp_path / "openapi.yaml").read_text()
