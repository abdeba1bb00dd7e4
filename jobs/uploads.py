"""`PUT /jobs/{jobId}/outputs/{outputId}`: a worker uploads a large output over HTTP, then
refers to it in `job.succeeded`. WebSocket frames stay small.

Only a worker token whose live session holds the job may upload (checked before the body is
stored and again, under the job's lock, before it is recorded). The file name is the server's
own; nothing from the request goes into it.
"""

from __future__ import annotations

import tempfile
from typing import IO

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from jobs import services
from jobs.outputs import output_file_store, output_files_delete
from ogc.problems import problem_json
from registry.auth import bearer_token
from registry.models import WorkerCredential
from registry.services import credential_authenticate
from ums_site.db import db_sync_to_async

CHUNK = 1024 * 1024


@csrf_exempt  # token authentication; workers send no cookies
async def output_upload(request: HttpRequest, job_id: str, output_id: str) -> HttpResponse:
    if request.method != "PUT":
        response = problem_json(request, 405, "Workers upload outputs with PUT.")
        response["Allow"] = "PUT"
        return response
    credential = await _credential(request)
    if credential is None:
        response = problem_json(request, 401, "A valid worker token is required (Authorization: Bearer).")
        response["WWW-Authenticate"] = "Bearer"
        return response
    try:
        await _receive(request, credential=credential, job_id=job_id, output_id=output_id)
    except services.UploadRefused as refused:
        return problem_json(request, refused.status, refused.detail)
    href = request.build_absolute_uri()
    return JsonResponse({"href": href}, status=201, headers={"Location": href})


async def _credential(request: HttpRequest) -> WorkerCredential | None:
    token = bearer_token(request.scope.get("headers", []))
    return await db_sync_to_async(credential_authenticate)(token) if token else None


async def _receive(
    request: HttpRequest, *, credential: WorkerCredential, job_id: str, output_id: str
) -> None:
    target = {"credential": credential, "job_id": job_id, "output_id": output_id}
    await db_sync_to_async(services.job_output_upload_check)(**target)
    # Storage is slow I/O (disk, S3): not in the one thread that does the database work.
    file_name, size = await sync_to_async(_store, thread_sensitive=False)(request, job_id)
    try:
        await db_sync_to_async(services.job_output_record)(
            **target,
            file_name=file_name,
            size=size,
            media_type=request.content_type or "application/octet-stream",
        )
    except services.UploadRefused:
        output_files_delete([file_name])
        raise


def _store(request: HttpRequest, job_id: str) -> tuple[str, int]:
    with tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE) as body:
        size = _copy_limited(request, body)
        body.seek(0)
        return output_file_store(job_id=job_id, content=body), size


def _copy_limited(source: HttpRequest, target: IO[bytes]) -> int:
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > settings.UMS_MAX_UPLOAD_BYTES:
            raise services.UploadRefused(
                413, f"Outputs are limited to {settings.UMS_MAX_UPLOAD_BYTES} bytes."
            )
        target.write(chunk)
    return size
