"""A synchronous execution whose results are small answers from the signal of the job's
success, which carries them, instead of reading the job back; large results and uploads are
read from the record. Either way the answer is the one `GET /jobs/{id}/results` gives."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer
from django.test import AsyncClient

import ogc.views
from jobs.notifications import SIGNALLED_RESULTS_MAX_CHARS, job_group
from jobs.waiting import job_watch
from tests.factories import receive, send, token_create
from tests.ogc_factories import MULTI

pytestmark = pytest.mark.django_db(transaction=True)


async def _wait_with(message: dict, signalled) -> tuple[str | None, list[str]]:
    """What a watch's wait answers after `message`, and the looks at the record it took."""
    job_id = uuid.uuid4()
    looks: list[str] = []

    def read() -> str:
        looks.append("look")
        return "from the record"

    async with job_watch(job_id) as watch:
        waiting = asyncio.create_task(watch.until_final(read, 60, signalled))
        await asyncio.sleep(0.05)  # listening (the watch subscribed before it was entered)
        await get_channel_layer().group_send(job_group(job_id), message)
        return await asyncio.wait_for(waiting, 5), looks


async def test_a_signal_that_answers_spares_the_look_at_the_record():
    message = {"type": "job.changed", "status": "successful", "results": [["echo", "", "hi"]]}
    answer, looks = await _wait_with(message, lambda signal: signal["results"][0][2])
    assert (answer, looks) == ("hi", [])


async def test_a_signal_that_does_not_answer_is_followed_by_a_look():
    message = {"type": "job.changed", "status": "failed"}
    assert await _wait_with(message, lambda signal: None) == ("from the record", ["look"])


@pytest.fixture
def record_looks(monkeypatch) -> list[str]:
    """The synchronous executions' looks at the record (the real look is still taken)."""
    looks: list[str] = []
    look = ogc.views._final_results

    def counted(*args, **kwargs):
        looks.append("look")
        return look(*args, **kwargs)

    monkeypatch.setattr(ogc.views, "_final_results", counted)
    return looks


async def _execute(
    connect_worker, outputs: dict, response: str, upload: bytes = b""
) -> tuple[object, object]:
    """A synchronous execution of `multi` ending with `outputs` (after uploading `upload` as
    its output `text`, if given); its answer, and then the answer of a request for the job's
    results."""
    token = await token_create("uploader")
    ws, _ = await connect_worker(token, processes=[MULTI])
    body = {"inputs": {"count": 1}, "response": response, "outputs": {"text": {}}}
    request = asyncio.create_task(
        AsyncClient().post("/processes/multi/execution", body, content_type="application/json")
    )
    frame = await receive(ws)
    if upload:
        uploaded = await AsyncClient().put(
            f"/jobs/{frame['job']}/outputs/text",
            upload,
            content_type="text/plain",
            headers={"Authorization": f"Bearer {token}"},
        )
        outputs = {**outputs, "text": {"href": uploaded.json()["href"]}}
    await send(ws, {"type": "job.succeeded", "job": frame["job"], "outputs": outputs})
    answer = await request
    assert answer.status_code == 200, answer.content
    return answer, await AsyncClient().get(f"/jobs/{frame['job']}/results")


@pytest.mark.parametrize("response", ["raw", "document"])
async def test_small_results_come_with_the_signal(connect_worker, record_looks, response):
    outputs = {"text": {"value": "wörds", "mediaType": "text/plain"}, "table": {"value": {"b": 1, "a": [2]}}}
    answer, results = await _execute(connect_worker, outputs, response)
    assert record_looks == []
    assert (answer["Content-Type"], answer.content) == (results["Content-Type"], results.content)
    expected = {"text": {"value": "wörds", "mediaType": "text/plain"}}
    assert answer.json() == expected if response == "document" else answer.content == "wörds".encode()


async def test_large_results_are_read_from_the_record(connect_worker, record_looks):
    text = "x" * SIGNALLED_RESULTS_MAX_CHARS
    answer, results = await _execute(
        connect_worker, {"text": {"value": text, "mediaType": "text/plain"}}, "raw"
    )
    assert record_looks == ["look"]
    assert answer.content == results.content == text.encode()


async def test_results_with_an_upload_are_read_from_the_record(
    connect_worker, record_looks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    answer, results = await _execute(
        connect_worker, {"table": {"value": {"a": 1}}}, "raw", upload=b"uploaded"
    )
    assert record_looks == ["look"]
    assert b"".join(answer.streaming_content) == b"".join(results.streaming_content) == b"uploaded"
