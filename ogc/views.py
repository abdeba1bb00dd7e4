"""The OGC API – Processes endpoints. Thin: selectors read, services write.

Every view answers JSON by default and HTML to browsers (ogc.renderers); every error is a
problem details response (ogc.problems).
"""

from __future__ import annotations

import contextlib
import uuid
from functools import partial
from typing import Any

from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import selectors as job_selectors
from jobs import services as job_services
from jobs.models import Job, JobOutput, JobStatus
from jobs.notifications import Outbox, outbox_deliver
from jobs.waiting import job_read_settled, reply_watch
from ogc.async_views import AsyncAPIView
from ogc.execution import ASYNC, RESPOND_ASYNC, ExecutionMode, execute_request_parse, execution_mode
from ogc.filters import JobFilter
from ogc.links import (
    HTML,
    OPENAPI_JSON,
    REL_CONFORMANCE,
    REL_JOB_LIST,
    REL_PROCESSES,
    base_url,
    link,
    self_links,
    url,
)
from ogc.openapi import EXECUTE_OPERATION, JOB_FILTERS, LIMIT, OFFSET, PROBLEM, ogc_operation
from ogc.pagination import page_get
from ogc.permissions import ExecutionRateThrottle, MayExecuteProcess
from ogc.problems import Problem, invalid_parameter, no_such_job, no_such_process, result_not_ready
from ogc.renderers import EncodingsMixin, HTMLRenderer, RawResultsNegotiation
from ogc.results import output_response, results_document, results_response
from ogc.serializers import ProcessSerializer, ProcessSummarySerializer, StatusInfoSerializer
from registry import selectors as registry_selectors
from registry.models import Process
from registry.process_cache import process_cached, process_forget, process_remember
from ums_site.db import db_sync_to_async

CONFORMANCE_CLASSES = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/callback",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]


class LandingPageView(EncodingsMixin, APIView):
    html_template = "ogc/landing.html"
    permission_classes = [AllowAny]  # discovery: also under authenticated access

    @ogc_operation("getLandingPage", "landingPage", "The landing page")
    def get(self, request):
        base = base_url(request)
        return Response(
            {
                "title": "Urban Model Server",
                "description": "OGC API – Processes for urban simulation models.",
                "links": [
                    *self_links(base, "/", "this document"),
                    link(base, "/api", "service-desc", OPENAPI_JSON, "the API definition"),
                    link(base, "/api.html", "service-doc", HTML, "the API documentation"),
                    link(base, "/conformance", "conformance", title="conformance classes"),
                    link(base, "/conformance", REL_CONFORMANCE, title="conformance classes"),
                    link(base, "/processes", REL_PROCESSES, title="the processes"),
                    link(base, "/jobs", REL_JOB_LIST, title="the jobs"),
                ],
            }
        )


class ConformanceView(EncodingsMixin, APIView):
    html_template = "ogc/conformance.html"
    permission_classes = [AllowAny]  # discovery: also under authenticated access

    @ogc_operation("getConformanceClasses", "confClasses", "The conformance classes")
    def get(self, request):
        return Response(
            {
                "conformsTo": CONFORMANCE_CLASSES,
                "links": self_links(base_url(request), "/conformance", "conformance classes"),
            }
        )


class ProcessListView(EncodingsMixin, APIView):
    html_template = "ogc/process_list.html"

    @ogc_operation("getProcesses", "processList", "The processes", parameters=[LIMIT, OFFSET])
    def get(self, request):
        base = base_url(request)
        page = page_get(registry_selectors.process_list(), request, url(base, "/processes"))
        return Response(
            {
                "processes": ProcessSummarySerializer(page.items, many=True, context={"base": base}).data,
                "links": [*self_links(base, "/processes", "the processes"), *page.links],
            }
        )


class ProcessView(EncodingsMixin, APIView):
    html_template = "ogc/process.html"

    @ogc_operation("getProcessDescription", "process", "The process description")
    def get(self, request, process_id: str):
        process = registry_selectors.process_get(process_id)
        if process is None:
            raise no_such_process(process_id)
        return Response(ProcessSerializer(process, context={"base": base_url(request)}).data)


@db_sync_to_async
def _create_job(request, process_id: str, base: str, reply_channel: str) -> tuple[Job, ExecutionMode, Outbox]:
    """Checks the request against the process and queues the job, in one thread hop (the
    benchmark profile counted a hop and a database connection for the lookup alone).

    `reply_channel`: where a synchronous execution awaits the job's end (`reply_watch`).

    The process as the last request read it comes first (`registry.process_cache`), its job
    written only if the process is unchanged. If it changed, or if the request fails the
    check, the request is checked again against the process as stored: the description it
    failed may be out of date.
    """
    cached = process_cached(process_id)
    if cached is not None:
        with contextlib.suppress(Problem, job_services.JobCreateConflict):
            return _job_of_request(request, base, cached, reply_channel, optimistic=True)
    process = registry_selectors.process_get(process_id)
    if process is None:
        process_forget(process_id)
        raise no_such_process(process_id)
    process_remember(process)
    return _job_of_request(request, base, process, reply_channel, optimistic=False)


def _job_of_request(
    request, base: str, process: Process, reply_channel: str, *, optimistic: bool
) -> tuple[Job, ExecutionMode, Outbox]:
    execute = execute_request_parse(process, request.data)
    mode = execution_mode(process, request.headers.get("Prefer", ""))
    outbox = Outbox()
    job = job_services.job_create(
        process=process,
        inputs=execute.inputs,
        outputs=execute.outputs,
        response=execute.response,
        subscriber=execute.subscriber,
        owner=request.user,
        links_base=base,
        reply_channel="" if mode.mode == ASYNC else reply_channel,
        outbox=outbox,
        optimistic=optimistic,
    )
    return job, mode, outbox


class ExecutionView(AsyncAPIView):
    """Runs a process. Waiting for a synchronous result is awaited, never a blocked thread."""

    content_negotiation_class = RawResultsNegotiation
    permission_classes = [MayExecuteProcess]
    throttle_classes = [ExecutionRateThrottle]

    @EXECUTE_OPERATION
    async def post(self, request, process_id: str):
        base = base_url(request)
        async with reply_watch() as watch:  # listening before the job can end
            job, mode, outbox = await _create_job(request, process_id, base, watch.channel)
            await outbox_deliver(outbox)
            if mode.mode == ASYNC:
                return _accepted(job, base, applied=RESPOND_ASYNC if mode.preference_applied else None)
            response = await watch.until_final(
                partial(_final_results, job.id, base),
                mode.wait_seconds,
                partial(_signalled_results, job, base),
            )
        if response is None:  # not final in time: answered as an asynchronous execution
            if not await db_sync_to_async(job_services.job_durable)(job):
                raise no_such_job(job.id)
            return _accepted(job, base, applied=None if mode.wait is None else f"wait={mode.wait}")
        return response


def _accepted(job: Job, base: str, *, applied: str | None) -> Response:
    """201 with the job's status; `applied`: the preference this answer honours, if any."""
    headers = {"Location": url(base, f"/jobs/{job.id}")}
    if applied:
        headers["Preference-Applied"] = applied
    return Response(StatusInfoSerializer(job, context={"base": base}).data, status=201, headers=headers)


def _final_results(job_id: uuid.UUID, base: str) -> HttpResponseBase | None:
    """The answer to a synchronous execution once the job is final, in one database hop."""
    job = job_selectors.job_get(job_id)
    if job is not None and not job.is_final:
        return None
    return results_response(_with_results(job, job_id), base)


def _signalled_results(job: Job, base: str, message: dict[str, Any]) -> HttpResponseBase | None:
    """The answer from the signal of the job's success, if its results came with it."""
    if message["status"] != JobStatus.SUCCESSFUL or "results" not in message:
        return None
    outputs = [
        JobOutput(job=job, output_id=output_id, media_type=media_type, value=value)
        for output_id, media_type, value in message["results"]
    ]
    return results_response(job, base, outputs)


def _with_results(job: Job | None, job_id: object) -> Job:
    """The job if it succeeded; otherwise the problem a results request gets."""
    if job is None or job.status == JobStatus.DISMISSED:
        raise no_such_job(job_id)
    if job.status in (JobStatus.ACCEPTED, JobStatus.RUNNING):
        raise result_not_ready(job.id, job.status)
    if job.status == JobStatus.FAILED:
        # The process failed on the server side: the worker's own words, status 500.
        error = job.error or {}
        raise Problem(500, error.get("detail") or job.message, title=error.get("title") or "Job failed")
    return job


class JobListView(EncodingsMixin, APIView):
    html_template = "ogc/job_list.html"
    statuses = JobStatus.values  # for the HTML filter form

    @ogc_operation("getJobs", "jobList", "The jobs", parameters=[*JOB_FILTERS, LIMIT, OFFSET])
    def get(self, request):
        base = base_url(request)
        jobs = JobFilter(request.query_params, queryset=job_selectors.jobs_visible_to(request.user))
        if not jobs.is_valid():
            raise invalid_parameter(
                " ".join(f"{name}: {' '.join(errors)}" for name, errors in jobs.errors.items())
            )
        page = page_get(jobs.qs, request, url(base, "/jobs"))
        return Response(
            {
                "jobs": StatusInfoSerializer(page.items, many=True, context={"base": base}).data,
                "links": [*self_links(base, "/jobs", "the jobs"), *page.links],
            }
        )


@db_sync_to_async
def _dismiss(job_id: str) -> tuple[Job | None, Outbox]:
    outbox = Outbox()
    return job_services.job_dismiss(job_id=job_id, outbox=outbox), outbox


class JobView(EncodingsMixin, AsyncAPIView):
    html_template = "ogc/job.html"

    @ogc_operation("getStatus", "statusInfo", "The status of the job")
    async def get(self, request, job_id: str):
        # An end this instance holds is answered, not "running".
        job = await job_read_settled(
            job_id,
            partial(job_selectors.job_get_visible, job_id, request.user),
            partial(job_selectors.job_visible_to, user=request.user),
        )
        if job is None:
            raise no_such_job(job_id)
        return Response(StatusInfoSerializer(job, context={"base": base_url(request)}).data)

    @ogc_operation("dismiss", "statusInfo", "The job, dismissed")
    async def delete(self, request, job_id: str):
        """Dismisses the job (the dismiss conformance class); safe to repeat."""
        if await db_sync_to_async(job_selectors.job_get_visible)(job_id, request.user) is None:
            raise no_such_job(job_id)
        job, outbox = await _dismiss(job_id)
        await outbox_deliver(outbox)
        return Response(StatusInfoSerializer(job, context={"base": base_url(request)}).data)


class JobResultsView(EncodingsMixin, APIView):
    html_template = "ogc/results.html"
    content_negotiation_class = RawResultsNegotiation

    @ogc_operation("getResult", "results", "The results, raw or as a document as the job asked")
    def get(self, request, job_id: str):
        base = base_url(request)
        job = _with_results(job_selectors.job_get_visible(job_id, request.user), job_id)
        if isinstance(request.accepted_renderer, HTMLRenderer):
            status = StatusInfoSerializer(job, context={"base": base}).data
            return Response({"job": status, "results": results_document(job, base)})
        return results_response(job, base)


class JobOutputView(APIView):
    """One output of a successful job, in its own media type."""

    content_negotiation_class = RawResultsNegotiation

    @extend_schema(
        operation_id="getResultOutput", responses={200: OpenApiTypes.BINARY, 404: PROBLEM, 500: PROBLEM}
    )
    def get(self, request, job_id: str, output_id: str):
        job = _with_results(job_selectors.job_get_visible(job_id, request.user), job_id)
        output = job_selectors.job_output_get(job=job, output_id=output_id)
        if output is None:
            raise Problem(404, f"Job '{job_id}' has no output '{output_id}'.")
        return output_response(output)
