"""Absolute links of the API, based on UMS_PUBLIC_URL behind a proxy or on the request."""

from __future__ import annotations

from django.conf import settings

REL_PROCESSES = "http://www.opengis.net/def/rel/ogc/1.0/processes"
REL_JOB_LIST = "http://www.opengis.net/def/rel/ogc/1.0/job-list"
REL_CONFORMANCE = "http://www.opengis.net/def/rel/ogc/1.0/conformance"
REL_EXECUTE = "http://www.opengis.net/def/rel/ogc/1.0/execute"
REL_RESULTS = "http://www.opengis.net/def/rel/ogc/1.0/results"
REL_PROCESS_DESC = "http://www.opengis.net/def/rel/ogc/1.0/process-desc"


def base_url(request) -> str:
    return settings.UMS_PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")


def url(request, path: str) -> str:
    """The absolute URL of an API path such as "/jobs/<id>"."""
    return base_url(request) + path


def link(request, path: str, rel: str, type_: str = "application/json", title: str = "") -> dict:
    item = {"href": url(request, path), "rel": rel, "type": type_}
    if title:
        item["title"] = title
    return item
