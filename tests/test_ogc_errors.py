"""Every error is problem details (RFC 7807) with its OGC type: JSON, never HTML, never a 500."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from tests.ogc_factories import job_make, provide, schema_errors

pytestmark = pytest.mark.django_db(transaction=True)

OGC = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
HTTP = "https://developer.mozilla.org/docs/Web/HTTP/Status/"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert schema_errors("schemas/exception.yaml", body) == []
    assert (body["type"], body["status"]) == (type_, status)
    assert body["title"] and body["detail"]
    return body


def test_no_such_process():
    body = problem(Client().get("/processes/nope"), 404, OGC + "no-such-process")
    assert "nope" in body["detail"] and body["instance"] == "/processes/nope"


def test_no_such_process_on_execution():
    response = Client().post("/processes/nope/execution", {}, content_type="application/json")
    problem(response, 404, OGC + "no-such-process")


@pytest.mark.parametrize("job_id", [str(uuid.uuid4()), "not-a-uuid"])
@pytest.mark.parametrize("suffix", ["", "/results", "/results/out"])
def test_no_such_job(job_id, suffix):
    problem(Client().get(f"/jobs/{job_id}{suffix}"), 404, OGC + "no-such-job")


def test_no_such_job_to_dismiss():
    problem(Client().delete(f"/jobs/{uuid.uuid4()}"), 404, OGC + "no-such-job")


@pytest.mark.parametrize("status", ["accepted", "running"])
def test_result_not_ready(status):
    provide()
    job = job_make(status=status)
    for path in (f"/jobs/{job.id}/results", f"/jobs/{job.id}/results/echo"):
        problem(Client().get(path), 404, OGC + "result-not-ready")


def test_the_results_of_a_dismissed_job_are_gone():
    provide()
    job = job_make(status="dismissed")
    problem(Client().get(f"/jobs/{job.id}/results"), 404, OGC + "no-such-job")


def test_a_failed_job_answers_with_the_workers_error():
    provide()
    job = job_make(status="failed", error={"title": "Model crashed", "detail": "division by zero"})
    body = problem(Client().get(f"/jobs/{job.id}/results"), 500, HTTP + "500")
    assert (body["title"], body["detail"]) == ("Model crashed", "division by zero")


def test_invalid_parameter():
    problem(Client().get("/jobs", {"status": "lost"}), 400, OGC + "invalid-parameter")


def test_an_unknown_format_is_invalid():
    body = problem(Client().get("/processes", {"f": "xml"}), 400, OGC + "invalid-parameter")
    assert "json, html" in body["detail"]


def test_an_unacceptable_accept_header_is_406():
    problem(Client().get("/conformance", headers={"Accept": "application/xml"}), 406, HTTP + "406")


def test_an_unknown_path_is_a_json_404_even_for_browsers():
    problem(Client().get("/nothing/here", headers={"Accept": BROWSER}), 404, HTTP + "404")


def test_a_browser_gets_errors_as_json_too():
    problem(Client().get("/processes/nope", headers={"Accept": BROWSER}), 404, OGC + "no-such-process")


def test_a_wrong_method_is_405_with_allow():
    response = Client().put("/processes", {}, content_type="application/json")
    problem(response, 405, HTTP + "405")
    assert "GET" in response["Allow"]


def test_problem_json_when_asked_for():
    response = Client().get(
        "/processes/nope", headers={"Accept": "application/json, application/problem+json"}
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
