"""Absolute links of the API, based on UMS_PUBLIC_URL behind a proxy or on the request."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings

REL_PROCESSES = "http://www.opengis.net/def/rel/ogc/1.0/processes"
REL_JOB_LIST = "http://www.opengis.net/def/rel/ogc/1.0/job-list"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_EXECUTE = "http://www.opengis.net/def/rel/ogc/1.0/execute"
REL_RESULTS = "http://www.opengis.net/def/rel/ogc/1.0/results"
REL_PROCESS_DESC = "http://www.opengis.net/def/rel/ogc/1.0/process-desc"

JSON = "application/json"
HTML = "text/html"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"


def base_url(request) -> str:
    """The API's root as clients reach it, without a trailing slash."""
    return settings.UMS_PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def url(base: str, path: str, **query: str) -> str:
    """The absolute URL of an API path such as "/jobs/<id>", with an optional query."""
    return base + path + (f"?{urlencode(query)}" if query else "")


def link(base: str, path: str, rel: str, type_: str = JSON, title: str = "", **query: str) -> dict:
    item = {"href": url(base, path, **query), "rel": rel, "type": type_}
    if title:
        item["title"] = title
    return item


def self_links(base: str, path: str, title: str) -> list[dict]:
    """This resource as JSON (self) and as HTML (alternate)."""
    return [
        link(base, path, "self", JSON, f"{title} (JSON)", f="json"),
        link(base, path, "alternate", HTML, f"{title} (HTML)", f="html"),
    ]
