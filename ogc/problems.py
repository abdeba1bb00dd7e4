"""RFC 7807 problem details with the OGC exception types, for every error the API gives."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

OGC_EXCEPTIONS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
HTTP_TYPES = "https://developer.mozilla.org/docs/Web/HTTP/Status/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(exceptions.APIException):
    """An error answered as problem details; its type is the HTTP status unless given."""

    def __init__(self, status_code: int, detail: str, *, type_uri: str = "", title: str = "") -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.type_uri = type_uri or HTTP_TYPES + str(status_code)
        self.title = title or _reason(status_code)


def ogc_problem(status_code: int, ogc_type: str, detail: str) -> Problem:
    """An error of the OGC API with its exception type, e.g. `no-such-process`."""
    title = ogc_type.replace("-", " ").capitalize()
    return Problem(status_code, detail, type_uri=OGC_EXCEPTIONS + ogc_type, title=title)


def no_such_process(process_id: str) -> Problem:
    return ogc_problem(404, "no-such-process", f"There is no process '{process_id}'.")


def no_such_job(job_id: object) -> Problem:
    return ogc_problem(404, "no-such-job", f"There is no job '{job_id}'.")


def result_not_ready(job_id: object, status: str) -> Problem:
    return ogc_problem(404, "result-not-ready", f"Job '{job_id}' has no results yet: it is {status}.")


def invalid_parameter(detail: str) -> Problem:
    return ogc_problem(400, "invalid-parameter", detail)


def problem_body(status_code: int, type_uri: str, title: str, detail: str, instance: str = "") -> dict:
    body = {"type": type_uri, "title": title, "status": status_code, "detail": detail}
    if instance:
        body["instance"] = instance
    return body


def problem_exception_handler(exc, context):
    """DRF's exception handler, answering problem details instead of {"detail": ...}.

    The answer is a plain JSON response whatever encoding was negotiated, so an error is
    never an HTML page.
    """
    request = context.get("request")
    if isinstance(exc, Problem):
        return problem_json(request, exc.status_code, str(exc.detail), exc.type_uri, exc.title)
    response = exception_handler(exc, context)
    if response is None:
        return None  # Django's handler500 answers with a problem too
    problem = problem_json(request, response.status_code, _detail_text(response.data))
    for header, value in response.headers.items():
        if header.lower() in {"allow", "www-authenticate", "retry-after"}:
            problem[header] = value
    return problem


def _detail_text(data: object) -> str:
    """DRF's error data (a detail, or fields with their messages) as one sentence."""
    if isinstance(data, dict) and set(data) == {"detail"}:
        return str(data["detail"])
    if isinstance(data, dict):
        return "; ".join(f"{key}: {_detail_text(value)}" for key, value in data.items())
    if isinstance(data, list):
        return " ".join(_detail_text(item) for item in data)
    return str(data)


def problem_json(request, status_code: int, detail: str, type_uri: str = "", title: str = "") -> JsonResponse:
    """A problem details response; `application/problem+json` only for clients that ask for it."""
    # A relative reference: building an absolute one could fail again on a bad Host header.
    instance = request.get_full_path() if request is not None else ""
    body = problem_body(
        status_code,
        type_uri or HTTP_TYPES + str(status_code),
        title or _reason(status_code),
        detail,
        instance,
    )
    accept = request.headers.get("Accept", "") if request is not None else ""
    content_type = PROBLEM_MEDIA_TYPE if PROBLEM_MEDIA_TYPE in accept else "application/json"
    return JsonResponse(body, status=status_code, content_type=content_type)


def _reason(status_code: int) -> str:
    return HTTPStatus(status_code).phrase


def handler404(request, exception=None) -> JsonResponse:
    return problem_json(request, 404, "There is nothing at this address.")


def handler500(request) -> JsonResponse:
    return problem_json(request, 500, "The server failed to answer this request; it has been logged.")


def handler400(request, exception=None) -> JsonResponse:
    return problem_json(request, 400, "The request is malformed.")


def handler403(request, exception=None) -> JsonResponse:
    return problem_json(request, 403, "You may not do this.")
