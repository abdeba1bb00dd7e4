"""A job's results in the form its execute request asked for (`response`, `outputs`).

- document: the results JSON, each selected output inline or as a link;
- raw, one output by value: that output's bytes in its media type;
- raw, several outputs: multipart/related, one part per output (by reference: an empty part
  with `Content-Location`);
- raw, every output by reference: 204 with one `Link` header per output.

Outputs with no selection go by value, except uploaded files in a results document, which go
by reference (a raw response streams them: whether a worker uploaded an output is its own
business, so a client that asked for raw values gets the values either way).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.response import Response

from jobs.models import Job, JobOutput, job_output_rows
from ogc.links import REL_RESULTS, url

VALUE, REFERENCE = "value", "reference"


@dataclass(frozen=True)
class SelectedOutput:
    output: JobOutput
    mode: str  # VALUE or REFERENCE

    @property
    def media_type(self) -> str:
        default = "application/octet-stream" if self.output.file else "application/json"
        return self.output.media_type or default


def selected_outputs(job: Job, outputs: Sequence[JobOutput] | None = None) -> list[SelectedOutput]:
    """The outputs the client asked for, in the order of its selection, with their mode;
    `outputs`: the job's, if known already (otherwise read)."""
    outputs = job_output_rows.where("job", job.pk) if outputs is None else outputs
    produced = {output.output_id: output for output in outputs}
    if not job.outputs:
        file_mode = REFERENCE if job.response == "document" else VALUE
        return [
            SelectedOutput(output, file_mode if output.file else VALUE)
            for output in sorted(produced.values(), key=lambda output: output.output_id)
        ]
    return [
        SelectedOutput(produced[output_id], selection.get("transmissionMode", VALUE))
        for output_id, selection in job.outputs.items()
        if output_id in produced
    ]


def output_url(base: str, output: JobOutput) -> str:
    return url(base, f"/jobs/{output.job_id}/results/{output.output_id}")


def results_document(job: Job, base: str, outputs: Sequence[JobOutput] | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for selected in selected_outputs(job, outputs):
        output = selected.output
        if selected.mode == REFERENCE:
            document[output.output_id] = {"href": output_url(base, output), "type": selected.media_type}
        elif output.file:
            document[output.output_id] = _file_value(output, selected.media_type)
        elif output.media_type or isinstance(output.value, dict):
            # Objects must be qualified: the results schema allows no bare object.
            document[output.output_id] = {"value": output.value, "mediaType": selected.media_type}
        else:
            document[output.output_id] = output.value
    return document


def _file_value(output: JobOutput, media_type: str) -> dict[str, Any]:
    content = _output_bytes(output)
    if _is_json(media_type):
        return {"value": json.loads(content), "mediaType": media_type}
    if media_type.startswith("text/"):
        return {"value": content.decode(), "mediaType": media_type}
    return {"value": base64.b64encode(content).decode(), "mediaType": media_type, "encoding": "base64"}


def _is_json(media_type: str) -> bool:
    essence = media_type.split(";")[0].strip()
    return essence == "application/json" or essence.endswith("+json")


def _output_bytes(output: JobOutput) -> bytes:
    if output.file:
        with output.file.open("rb") as file:
            return file.read()
    media_type = output.media_type or "application/json"
    if isinstance(output.value, str) and not _is_json(media_type):
        return output.value.encode()
    return json.dumps(output.value).encode()


def output_response(output: JobOutput) -> HttpResponseBase:
    """One output on its own, in its media type; a stored file is streamed, not read whole."""
    media_type = SelectedOutput(output, VALUE).media_type
    if output.file:
        return FileResponse(output.file.open("rb"), content_type=media_type)
    return HttpResponse(_output_bytes(output), content_type=media_type)


def results_response(job: Job, base: str, outputs: Sequence[JobOutput] | None = None) -> HttpResponseBase:
    """The results of a successful job, as its execute request asked (`outputs`: as for
    `selected_outputs`)."""
    if job.response == "document":
        return Response(results_document(job, base, outputs))
    selected = selected_outputs(job, outputs)
    if all(item.mode == REFERENCE for item in selected):
        response = HttpResponse(status=204)
        if selected:
            response["Link"] = ", ".join(
                f'<{output_url(base, item.output)}>; rel="{REL_RESULTS}"; type="{item.media_type}"; '
                f'title="{item.output.output_id}"'
                for item in selected
            )
        return response
    if len(selected) == 1:
        return output_response(selected[0].output)
    return _multipart(selected, base)


def _multipart(selected: list[SelectedOutput], base: str) -> HttpResponse:
    boundary = uuid.uuid4().hex
    parts = []
    for item in selected:
        headers = [f"Content-ID: <{item.output.output_id}>", f"Content-Type: {item.media_type}"]
        body = b""
        if item.mode == REFERENCE:
            headers.append(f"Content-Location: {output_url(base, item.output)}")
        else:
            body = _output_bytes(item.output)
        parts.append(f"--{boundary}\r\n{'\r\n'.join(headers)}\r\n\r\n".encode() + body + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    root_type = selected[0].media_type
    return HttpResponse(
        b"".join(parts), content_type=f'multipart/related; boundary="{boundary}"; type="{root_type}"'
    )
