"""The OGC API – Processes endpoints. Thin: selectors read, services write."""

from __future__ import annotations

import json
from typing import Any

from adrf.views import APIView as AsyncAPIView
from channels.db import database_sync_to_async
from django.conf import settings
from django.http import HttpResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.models import Job, JobStatus
from jobs.notifications import Outbox, outbox_deliver
from jobs.waiting import job_wait_final
from ogc.execution import ASYNC, ExecuteRequest, execute_request_parse, execution_mode
from ogc.links import REL_CONFORMANCE, REL_JOB_LIST, REL_PROCESSES, link, url
from ogc.problems import OGCProblem, no_such_job, no_such_process
from ogc.serializers import (
    ProcessSerializer,
    ProcessSummarySerializer,
    StatusInfoSerializer,
    results_document,
)
from registry import selectors as registry_selectors

CONFORMANCE_CLASSES = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]


class LandingPageView(APIView):
    def get(self, request):
        return Response(
            {
                "title": "Urban Model Server",
                "description": "OGC API – Processes for urban simulation models.",
                "links": [
                    link(request, "/", "self", title="this document"),
                    link(
                        request,
                        "/api",
                        "service-desc",
                        "application/vnd.oai.openapi+json;version=3.0",
                        "the API definition",
                    ),
                    link(request, "/api.html", "service-doc", "text/html", "the API documentation"),
                    link(request, "/conformance", "conformance", title="conformance classes"),
                    link(request, "/conformance", REL_CONFORMANCE, title="conformance classes"),
                    link(request, "/processes", REL_PROCESSES, title="the processes"),
                    link(request, "/jobs", REL_JOB_LIST, title="the jobs"),
                ],
            }
        )


class ConformanceView(APIView):
    def get(self, request):
        return Response({"conformsTo": CONFORMANCE_CLASSES})


class ProcessListView(APIView):
    def get(self, request):
        processes = registry_selectors.process_list()
        return Response(
            {
                "processes": ProcessSummarySerializer(
                    processes, many=True, context={"request": request}
                ).data,
                "links": [link(request, "/processes", "self")],
            }
        )


class ProcessView(APIView):
    def get(self, request, process_id: str):
        process = registry_selectors.process_get(process_id)
        if process is None:
            raise no_such_process(process_id)
        return Response(ProcessSerializer(process, context={"request": request}).data)


@database_sync_to_async
def _create_job(process, execute: ExecuteRequest, owner) -> tuple[Job, Outbox]:
    outbox = Outbox()
    job = job_services.job_create(
        process=process,
        inputs=execute.inputs,
        outputs=execute.outputs,
        response=execute.response,
        subscriber=execute.subscriber,
        owner=owner,
        outbox=outbox,
    )
    return job, outbox


class ExecutionView(AsyncAPIView):
    """Runs a process. Waiting for a synchronous result is awaited, never a blocked thread."""

    async def post(self, request, process_id: str):
        process = await database_sync_to_async(registry_selectors.process_get)(process_id)
        if process is None:
            raise no_such_process(process_id)
        execute = execute_request_parse(process, request.data)
        mode = execution_mode(process, request.headers.get("Prefer", ""))
        job, outbox = await _create_job(process, execute, request.user)
        await outbox_deliver(outbox)
        if mode == ASYNC:
            return _accepted(request, job, preference_applied=True)
        final = await job_wait_final(job.id, settings.UMS_SYNC_TIMEOUT)
        if final is None:
            return _accepted(request, job, preference_applied=False)
        return await database_sync_to_async(_sync_result)(request, final)


def _accepted(request, job: Job, *, preference_applied: bool) -> Response:
    headers = {"Location": url(request, f"/jobs/{job.id}")}
    if preference_applied:
        headers["Preference-Applied"] = "respond-async"
    return Response(StatusInfoSerializer(job, context={"request": request}).data, status=201, headers=headers)


def _sync_result(request, job: Job):
    if job.status == JobStatus.FAILED:
        raise _job_failure(job)
    document = results_document(job, request)
    if job.response == "raw" and len(document) == 1:
        (output,) = job.results.all()
        return _raw_output(output)
    return Response(document)


def _raw_output(output) -> HttpResponse:
    if output.file:
        return HttpResponse(
            output.file.open("rb").read(), content_type=output.media_type or "application/octet-stream"
        )
    value: Any = output.value
    media_type = output.media_type or "application/json"
    if isinstance(value, str) and not media_type.endswith("json"):
        return HttpResponse(value, content_type=media_type)
    return HttpResponse(json.dumps(value), content_type=media_type)


def _job_failure(job: Job) -> OGCProblem:
    error = job.error or {}
    return OGCProblem(
        500, "job-failed", error.get("detail") or job.message, title=error.get("title", "Job failed")
    )


class JobListView(APIView):
    def get(self, request):
        jobs = job_selectors.job_list()[:100]
        return Response(
            {
                "jobs": StatusInfoSerializer(jobs, many=True, context={"request": request}).data,
                "links": [link(request, "/jobs", "self")],
            }
        )


class JobView(APIView):
    def get(self, request, job_id):
        job = job_selectors.job_get(job_id)
        if job is None:
            raise no_such_job(job_id)
        return Response(StatusInfoSerializer(job, context={"request": request}).data)


class JobResultsView(APIView):
    def get(self, request, job_id):
        job = job_selectors.job_get(job_id)
        if job is None:
            raise no_such_job(job_id)
        if job.status == JobStatus.FAILED:
            raise _job_failure(job)
        if job.status != JobStatus.SUCCESSFUL:
            raise OGCProblem(
                404, "result-not-ready", f"Job '{job_id}' has no results yet: it is {job.status}."
            )
        return Response(results_document(job, request))
