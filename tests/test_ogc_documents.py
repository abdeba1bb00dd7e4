"""Landing page, conformance, processes: content, links, paging, and the official schemas."""

from __future__ import annotations

import pytest
from django.test import Client

from ogc.views import CONFORMANCE_CLASSES
from tests.ogc_factories import MULTI, described, provide, schema_errors

pytestmark = pytest.mark.django_db(transaction=True)


def rels(document: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in document["links"]}


def test_the_landing_page_links_everything_the_standard_asks_for():
    response = Client().get("/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = response.json()
    assert schema_errors("schemas/landingPage.yaml", document) == []
    links = rels(document)
    assert links["self"]["type"] == "application/json"
    assert links["alternate"]["type"] == "text/html"
    assert links["service-desc"] == {
        "href": "http://testserver/api",
        "rel": "service-desc",
        "type": "application/vnd.oai.openapi+json;version=3.0",
        "title": "the API definition",
    }
    assert links["service-doc"]["href"] == "http://testserver/api.html"
    assert links["conformance"]["href"] == "http://testserver/conformance"
    assert links["http://www.opengis.net/def/rel/ogc/1.0/processes"]["href"] == "http://testserver/processes"
    assert links["http://www.opengis.net/def/rel/ogc/1.0/job-list"]["href"] == "http://testserver/jobs"


def test_links_follow_the_public_url_behind_a_proxy(settings):
    settings.UMS_PUBLIC_URL = "https://models.example.org/ums"
    hrefs = [link["href"] for link in Client().get("/").json()["links"]]
    assert all(href.startswith("https://models.example.org/ums/") for href in hrefs)


def test_the_conformance_declaration_lists_all_eight_classes():
    document = Client().get("/conformance").json()
    assert schema_errors("schemas/confClasses.yaml", document) == []
    assert document["conformsTo"] == CONFORMANCE_CLASSES
    assert {uri.rsplit("/", 1)[1] for uri in document["conformsTo"]} == {
        "core",
        "ogc-process-description",
        "json",
        "html",
        "oas30",
        "job-list",
        "callback",
        "dismiss",
    }


def test_the_process_list_gives_summaries_with_links():
    provide(described(), MULTI)
    document = Client().get("/processes").json()
    assert schema_errors("schemas/processList.yaml", document) == []
    multi = next(summary for summary in document["processes"] if summary["id"] == "multi")
    assert {key: multi[key] for key in ("version", "title", "description")} == {
        "version": "2.0.0",
        "title": "Multi",
        "description": "Several inputs and outputs.",
    }
    assert multi["jobControlOptions"] == ["sync-execute", "async-execute"]
    assert multi["outputTransmission"] == ["value", "reference"]
    assert "inputs" not in multi
    assert rels(multi)["self"]["href"] == "http://testserver/processes/multi?f=json"
    assert rels(multi)["http://www.opengis.net/def/rel/ogc/1.0/execute"]["href"] == (
        "http://testserver/processes/multi/execution"
    )
    assert {"self", "alternate"} <= set(rels(document))


def test_the_process_list_pages_with_limit_and_next_and_prev_links():
    provide(*(described(id=f"p{n:02}") for n in range(5)))
    client = Client()
    first = client.get("/processes", {"limit": 2}).json()
    assert [p["id"] for p in first["processes"]] == ["p00", "p01"]
    assert "prev" not in rels(first)
    second = client.get(rels(first)["next"]["href"]).json()
    assert [p["id"] for p in second["processes"]] == ["p02", "p03"]
    assert "limit=2" in rels(second)["next"]["href"]
    back = client.get(rels(second)["prev"]["href"]).json()
    assert [p["id"] for p in back["processes"]] == ["p00", "p01"]
    last = client.get(rels(second)["next"]["href"]).json()
    assert [p["id"] for p in last["processes"]] == ["p04"] and "next" not in rels(last)
    assert len(client.get("/processes").json()["processes"]) == 5  # default limit 10


@pytest.mark.parametrize("limit", ["0", "10001", "ten", "-1", "2.5"])
def test_a_bad_limit_is_a_400(limit):
    response = Client().get("/processes", {"limit": limit})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-parameter")
    assert "limit" in response.json()["detail"]


def test_a_process_description_is_the_registered_one_with_links():
    provide(MULTI)
    document = Client().get("/processes/multi").json()
    assert schema_errors("schemas/process.yaml", document) == []
    assert document["inputs"] == MULTI["inputs"] and document["outputs"] == MULTI["outputs"]
    assert rels(document)["self"]["href"] == "http://testserver/processes/multi?f=json"
    assert rels(document)["alternate"]["type"] == "text/html"


def test_a_process_without_a_live_provider_is_not_listed():
    session = provide()
    session.disconnected_at = session.last_seen_at
    session.save()
    assert Client().get("/processes").json()["processes"] == []
    assert Client().get("/processes/echo").status_code == 404


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        ({}, None, "application/json"),
        ({}, "*/*", "application/json"),
        ({}, "application/json", "application/json"),
        ({}, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html; charset=utf-8"),
        ({"f": "json"}, "text/html", "application/json"),
        ({"f": "html"}, "application/json", "text/html; charset=utf-8"),
    ],
)
def test_the_encoding_follows_f_then_accept(query, accept, content_type):
    provide()
    headers = {"Accept": accept} if accept else {}
    for path in ("/", "/conformance", "/processes", "/processes/echo", "/jobs"):
        response = Client().get(path, query, headers=headers)
        assert (response.status_code, response["Content-Type"]) == (200, content_type), path
