"""Execution: the sync/async decision table, `Prefer`, and every form of results."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy

import pytest
from django.core.files.base import ContentFile
from django.test import AsyncClient, Client

from jobs.models import Job, JobOutput
from ogc.execution import preferences
from tests.factories import receive, send
from tests.ogc_factories import MULTI, described, job_make, provide, schema_errors
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)

BOTH = ["sync-execute", "async-execute"]
RESULTS = {"text": ("plain words", "text/plain"), "table": ({"rows": 2}, "application/json")}


async def execute(body: dict, *, prefer: str | None = None, process: str = "echo"):
    headers = {"Prefer": prefer} if prefer else {}
    return await AsyncClient().post(
        f"/processes/{process}/execution", body, content_type="application/json", headers=headers
    )


async def act_as_worker(ws, outputs: dict) -> dict:
    frame = await receive(ws)
    assert frame["type"] == "job.execute"
    await send(ws, {"type": "job.succeeded", "job": frame["job"], "outputs": outputs})
    return frame


@pytest.mark.parametrize(
    ("options", "prefer", "mode", "applied"),
    [
        (BOTH, None, "sync", False),
        (BOTH, "respond-async", "async", True),
        (["sync-execute"], None, "sync", False),
        (["sync-execute"], "respond-async", "sync", False),
        (["async-execute"], None, "async", False),
        (["async-execute"], "respond-async", "async", True),
    ],
)
async def test_the_decision_table_of_the_standard(connect_worker, options, prefer, mode, applied):
    ws, _ = await connect_worker(processes=[described(jobControlOptions=options)])
    request = asyncio.create_task(execute({"inputs": {"message": "hi"}}, prefer=prefer))
    await act_as_worker(ws, {"echo": {"value": "hi"}})
    response = await request
    assert response.status_code == (200 if mode == "sync" else 201)
    assert ("Preference-Applied" in response.headers) == applied
    if mode == "sync":
        assert response.json() == "hi"
    else:
        status = response.json()
        assert schema_errors("schemas/statusInfo.yaml", status) == []
        assert response.headers["Location"] == f"http://testserver/jobs/{status['jobID']}"
        assert response.headers.get("Preference-Applied", "respond-async") == "respond-async"


@pytest.mark.parametrize(
    "header",
    [
        "respond-async",
        "RESPOND-ASYNC",
        " respond-async ",
        "return=minimal, respond-async; wait=10",
        "wait=5,respond-async",
    ],
)
def test_prefer_is_parsed_tolerantly(header):
    assert "respond-async" in preferences(header)


@pytest.mark.parametrize("header", ["", "return=minimal", "respond-async-later", "wait=respond-async"])
def test_prefer_without_respond_async(header):
    assert "respond-async" not in preferences(header)


async def test_async_execution_answers_201_with_an_absolute_location(connect_worker, settings):
    settings.UMS_PUBLIC_URL = "https://ums.example.org"
    await connect_worker()
    response = await execute({"inputs": {"message": "x"}}, prefer="respond-async")
    status = response.json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"https://ums.example.org/jobs/{status['jobID']}"
    assert (status["status"], status["processID"], status["type"]) == ("accepted", "echo", "process")


async def test_sync_execution_with_document_answers_the_results_document(connect_worker):
    ws, _ = await connect_worker(processes=[MULTI])
    request = asyncio.create_task(execute({"inputs": {"count": 1}, "response": "document"}, process="multi"))
    await act_as_worker(
        ws, {"text": {"value": "words", "mediaType": "text/plain"}, "table": {"value": {"rows": 1}}}
    )
    response = await request
    assert response.status_code == 200
    document = response.json()
    assert schema_errors("schemas/results.yaml", document) == []
    assert document == {
        "table": {"value": {"rows": 1}, "mediaType": "application/json"},
        "text": {"value": "words", "mediaType": "text/plain"},
    }


async def test_sync_raw_with_several_outputs_is_multipart(connect_worker):
    ws, _ = await connect_worker(processes=[MULTI])
    request = asyncio.create_task(execute({"inputs": {"count": 1}}, process="multi"))
    await act_as_worker(
        ws, {"text": {"value": "words", "mediaType": "text/plain"}, "table": {"value": {"rows": 1}}}
    )
    parts = multipart_parts(await request)
    assert parts == {
        "table": ("application/json", b'{"rows": 1}', None),
        "text": ("text/plain", b"words", None),
    }


def multipart_parts(response) -> dict[str, tuple[str, bytes, str | None]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("multipart/related; boundary=")
    message = email.message_from_bytes(
        b"Content-Type: " + response["Content-Type"].encode() + b"\r\n\r\n" + response.content,
        policy=email.policy.HTTP,
    )
    return {
        part["Content-ID"].strip("<>"): (
            part.get_content_type(),
            part.get_payload(decode=True),
            part["Content-Location"],
        )
        for part in message.iter_parts()
    }


def finished_multi(**fields) -> Job:
    provide(MULTI)
    return job_make("multi", "successful", results=RESULTS, **fields)


def test_async_results_as_a_document_follow_the_output_selection():
    job = finished_multi(
        response="document", outputs={"text": {"transmissionMode": "reference"}, "table": {}}
    )
    document = Client().get(f"/jobs/{job.id}/results").json()
    assert schema_errors("schemas/results.yaml", document) == []
    assert document == {
        "text": {"href": f"http://testserver/jobs/{job.id}/results/text", "type": "text/plain"},
        "table": {"value": {"rows": 2}, "mediaType": "application/json"},
    }


def test_async_raw_results_with_one_selected_output_are_that_output():
    job = finished_multi(outputs={"text": {"transmissionMode": "value"}})
    response = Client().get(f"/jobs/{job.id}/results", headers={"Accept": "text/plain"})
    assert (response.status_code, response["Content-Type"], response.content) == (
        200,
        "text/plain",
        b"plain words",
    )


def test_async_raw_results_with_several_outputs_are_multipart_with_references_as_locations():
    job = finished_multi(outputs={"table": {}, "text": {"transmissionMode": "reference"}})
    parts = multipart_parts(Client().get(f"/jobs/{job.id}/results"))
    assert parts == {
        "table": ("application/json", b'{"rows": 2}', None),
        "text": ("text/plain", b"", f"http://testserver/jobs/{job.id}/results/text"),
    }


def test_async_raw_results_all_by_reference_are_204_with_link_headers():
    job = finished_multi(
        outputs={"text": {"transmissionMode": "reference"}, "table": {"transmissionMode": "reference"}}
    )
    response = Client().get(f"/jobs/{job.id}/results")
    assert response.status_code == 204 and response.content == b""
    links = response["Link"].split(", ")
    assert len(links) == 2
    assert links[0].startswith(f"<http://testserver/jobs/{job.id}/results/text>; rel=")
    assert 'type="text/plain"' in links[0]


def test_each_output_is_available_on_its_own():
    job = finished_multi()
    client = Client()
    text = client.get(f"/jobs/{job.id}/results/text", headers={"Accept": "text/plain"})
    assert (text["Content-Type"], text.content) == ("text/plain", b"plain words")
    assert client.get(f"/jobs/{job.id}/results/table").json() == {"rows": 2}
    missing = client.get(f"/jobs/{job.id}/results/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_the_status_of_a_successful_job_links_its_results():
    job = finished_multi()
    status = Client().get(f"/jobs/{job.id}").json()
    assert schema_errors("schemas/statusInfo.yaml", status) == []
    results = [
        link for link in status["links"] if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/results"
    ]
    assert results == [
        {
            "href": f"http://testserver/jobs/{job.id}/results",
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/results",
            "type": "application/json",
            "title": "the job's results",
        }
    ]
    assert set(status) >= {
        "jobID",
        "type",
        "processID",
        "status",
        "message",
        "progress",
        "created",
        "started",
        "finished",
        "updated",
        "links",
    }


async def test_a_job_records_the_execute_request(connect_worker):
    ws, _ = await connect_worker(processes=[MULTI])
    body = {
        "inputs": {"count": 3},
        "outputs": {"text": {"transmissionMode": "reference"}},
        "response": "document",
        "subscriber": {"successUri": "https://callbacks.example.org/done"},
    }
    job_id = (await execute(body, prefer="respond-async", process="multi")).json()["jobID"]
    job = await db_sync_to_async(Job.objects.get)(pk=job_id)
    assert (job.inputs, job.outputs, job.response, job.subscriber) == (
        body["inputs"],
        body["outputs"],
        "document",
        body["subscriber"],
    )
    assert job.links_base == "http://testserver"
    frame = await receive(ws)
    assert frame["outputs"] == body["outputs"]


def test_an_uploaded_file_output_is_streamed_or_embedded_as_asked(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.MEDIA_ROOT = tmp_path
    provide(MULTI)
    job = job_make(
        "multi", "successful", response="document", outputs={"text": {"transmissionMode": "value"}}
    )
    output = JobOutput(job=job, output_id="text", media_type="image/png")
    output.file.save("out.png", ContentFile(b"\x89PNG bytes"))
    client = Client()
    raw = client.get(f"/jobs/{job.id}/results/text")
    assert (raw["Content-Type"], b"".join(raw.streaming_content)) == ("image/png", b"\x89PNG bytes")
    document = client.get(f"/jobs/{job.id}/results").json()
    assert document == {
        "text": {
            "value": base64.b64encode(b"\x89PNG bytes").decode(),
            "mediaType": "image/png",
            "encoding": "base64",
        }
    }
    assert schema_errors("schemas/results.yaml", document) == []


async def test_an_accept_header_for_the_outputs_media_type_is_not_refused(connect_worker):
    ws, _ = await connect_worker()
    request = asyncio.create_task(
        AsyncClient().post(
            "/processes/echo/execution",
            {"inputs": {"message": "hi"}},
            content_type="application/json",
            headers={"Accept": "text/plain"},
        )
    )
    await act_as_worker(ws, {"echo": {"value": "hi", "mediaType": "text/plain"}})
    response = await request
    assert (response.status_code, response["Content-Type"], response.content) == (200, "text/plain", b"hi")
