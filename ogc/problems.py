"""RFC 7807 problem details with the OGC exception types, for every error the API gives."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

OGC_EXCEPTIONS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
HTTP_TYPES = "https://developer.mozilla.org/docs/Web/HTTP/Status/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class OGCProblem(exceptions.APIException):
    """An error of the OGC API with its exception type, e.g. `no-such-process`."""

    def __init__(self, status_code: int, ogc_type: str, detail: str, title: str | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.type_uri = OGC_EXCEPTIONS + ogc_type
        self.title = title or ogc_type.replace("-", " ").capitalize()


def no_such_process(process_id: str) -> OGCProblem:
    return OGCProblem(404, "no-such-process", f"There is no process '{process_id}'.")


def no_such_job(job_id: object) -> OGCProblem:
    return OGCProblem(404, "no-such-job", f"There is no job '{job_id}'.")


def invalid_parameter(detail: str) -> OGCProblem:
    return OGCProblem(400, "invalid-parameter", detail, title="Invalid parameter")


def problem_body(status_code: int, type_uri: str, title: str, detail: str, instance: str = "") -> dict:
    body = {"type": type_uri, "title": title, "status": status_code, "detail": detail}
    if instance:
        body["instance"] = instance
    return body


def problem_exception_handler(exc, context):
    """DRF's exception handler, answering problem details instead of {"detail": ...}."""
    request = context.get("request")
    instance = request.build_absolute_uri() if request is not None else ""
    if isinstance(exc, OGCProblem):
        body = problem_body(exc.status_code, exc.type_uri, exc.title, str(exc.detail), instance)
        return Response(body, status=exc.status_code, content_type="application/json")
    response = exception_handler(exc, context)
    if response is None:
        return None  # Django's handler500 answers with a problem too
    detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
    response.data = problem_body(
        response.status_code,
        HTTP_TYPES + str(response.status_code),
        _reason(response.status_code),
        str(detail),
        instance,
    )
    response.content_type = "application/json"
    return response


def _reason(status_code: int) -> str:
    return HTTPStatus(status_code).phrase


def problem_response(request, status_code: int, detail: str) -> JsonResponse:
    body = problem_body(
        status_code, HTTP_TYPES + str(status_code), _reason(status_code), detail, request.build_absolute_uri()
    )
    return JsonResponse(body, status=status_code)


def handler404(request, exception=None) -> JsonResponse:
    return problem_response(request, 404, "There is nothing at this address.")


def handler500(request) -> JsonResponse:
    return problem_response(request, 500, "The server failed to answer this request; it has been logged.")


def handler400(request, exception=None) -> JsonResponse:
    return problem_response(request, 400, "The request is malformed.")


def handler403(request, exception=None) -> JsonResponse:
    return problem_response(request, 403, "You may not do this.")
