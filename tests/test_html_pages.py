"""The HTML encoding: every page renders from its template, and its links are <a> elements."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.ogc_factories import MULTI, job_make, provide

pytestmark = pytest.mark.django_db(transaction=True)

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.anchors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self.anchors.append(dict(attrs)["href"] or "")


def page(path: str) -> Page:
    response = Client().get(path, headers=BROWSER)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return Page(response.content.decode())


def json_links(path: str) -> list[str]:
    return [link["href"] for link in Client().get(path, {"f": "json"}).json().get("links", [])]


@pytest.fixture
def finished():
    provide(MULTI)
    return job_make("multi", "successful", results={"text": ("words", "text/plain")})


def test_every_page_renders_with_its_json_links_as_anchors(finished):
    paths = ["/", "/conformance", "/processes", "/processes/multi", "/jobs", f"/jobs/{finished.id}"]
    for path in paths:
        html = page(path)
        for href in json_links(path):
            assert href in html.anchors, (path, href)
        assert f"{path}?f=json" in html.anchors  # the same resource as JSON


def test_the_landing_page_links_the_api_and_its_documentation():
    anchors = page("/").anchors
    assert "http://testserver/api" in anchors and "http://testserver/api.html" in anchors


def test_the_conformance_page_lists_the_classes_as_links():
    anchors = page("/conformance").anchors
    assert "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/html" in anchors


def test_the_process_list_links_each_process(finished):
    assert "/processes/multi?f=html" in page("/processes").anchors


def test_the_process_page_has_an_execute_form(finished):
    html = page("/processes/multi")
    forms = [attrs for tag, attrs in html.tags if tag == "form"]
    assert {"action": "/processes/multi/execution", "method": "post"}.items() <= forms[0].items()
    assert any(tag == "textarea" for tag, _ in html.tags)


def test_the_execute_form_starts_with_the_required_inputs():
    provide()
    response = Client().get("/processes/echo", headers=BROWSER)
    assert "&quot;message&quot;: &quot;&quot;" in response.content.decode()


def test_the_job_list_links_jobs_and_processes_and_has_filters(finished):
    html = page("/jobs")
    assert f"/jobs/{finished.id}?f=html" in html.anchors and "/processes/multi?f=html" in html.anchors
    assert {attrs.get("name") for tag, attrs in html.tags if tag in ("input", "select")} >= {
        "processID",
        "status",
        "limit",
    }


def test_a_running_job_page_shows_progress_updates_itself_and_can_be_dismissed():
    provide()
    job = job_make(status="running", progress=40, message="halfway")
    response = Client().get(f"/jobs/{job.id}", headers=BROWSER)
    html = Page(response.content.decode())
    progress = next(attrs for tag, attrs in html.tags if tag == "progress")
    assert progress["value"] == "40"
    container = next(attrs for tag, attrs in html.tags if "data-ums-job" in attrs)
    assert container["data-ums-job"] == f"/jobs/{job.id}?f=json"
    assert container["data-ums-socket"] == f"/ws/jobs/{job.id}/"  # the job status socket
    assert any("data-ums-dismiss" in attrs for tag, attrs in html.tags if tag == "form")
    assert any(attrs.get("src", "").endswith("ogc/ums.js") for tag, attrs in html.tags if tag == "script")
    assert "halfway" in response.content.decode()


def test_a_successful_job_page_links_its_results(finished):
    assert f"/jobs/{finished.id}/results?f=html" in page(f"/jobs/{finished.id}").anchors


def test_the_results_page_shows_every_output(finished):
    response = Client().get(f"/jobs/{finished.id}/results", headers=BROWSER)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = Page(response.content.decode())
    assert f"/jobs/{finished.id}/results/text" in html.anchors
    assert "words" in response.content.decode()


def test_the_pages_script_and_style_are_served():
    client = Client()
    for path in ("/static/ogc/ums.js", "/static/ogc/ums.css"):
        assert client.get(path).status_code == 200
