"""A job executed end to end: HTTP client → server → worker socket → results."""

from __future__ import annotations

import asyncio

import pytest
from django.test import AsyncClient

from tests.factories import receive, send

pytestmark = pytest.mark.django_db(transaction=True)


async def execute(client: AsyncClient, body: dict, *, prefer: str | None = None, process: str = "echo"):
    headers = {"Prefer": prefer} if prefer else {}
    return await client.post(
        f"/processes/{process}/execution", body, content_type="application/json", headers=headers
    )


async def run_echo(ws, message: str | None = None) -> dict:
    """Acts as the worker for one job: start, progress, succeed."""
    frame = await receive(ws)
    assert frame["type"] == "job.execute"
    await send(ws, {"type": "job.started", "job": frame["job"]})
    await send(ws, {"type": "job.progress", "job": frame["job"], "progress": 50, "message": "halfway"})
    value = message if message is not None else frame["inputs"]["message"]
    await send(ws, {"type": "job.succeeded", "job": frame["job"], "outputs": {"echo": {"value": value}}})
    return frame


async def test_async_execution_runs_on_the_worker_and_gives_results(connect_worker):
    ws, _ = await connect_worker()
    client = AsyncClient()
    response = await execute(client, {"inputs": {"message": "hello"}}, prefer="respond-async")
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "respond-async"
    status = response.json()
    assert response.headers["Location"] == f"http://testserver/jobs/{status['jobID']}"
    assert status["status"] == "accepted" and status["type"] == "process"

    frame = await receive(ws)
    assert frame == {
        "type": "job.execute",
        "job": status["jobID"],
        "process": "echo",
        "inputs": {"message": "hello"},
        "outputs": {},
        "attempt": 1,
    }
    await send(ws, {"type": "job.started", "job": frame["job"]})
    await send(ws, {"type": "job.progress", "job": frame["job"], "progress": 40, "message": "working"})
    await send(ws, {"type": "unregister", "processes": []})  # round trip: reports are recorded
    await receive(ws)
    running = (await client.get(f"/jobs/{frame['job']}")).json()
    assert (running["status"], running["progress"], running["message"]) == ("running", 40, "working")

    await send(ws, {"type": "job.succeeded", "job": frame["job"], "outputs": {"echo": {"value": "hello"}}})
    await send(ws, {"type": "unregister", "processes": []})
    await receive(ws)
    done = (await client.get(f"/jobs/{frame['job']}")).json()
    assert done["status"] == "successful" and done["progress"] == 100
    assert any(link["rel"].endswith("/results") for link in done["links"])
    # raw (the default) with one output: the results are that output itself
    assert (await client.get(f"/jobs/{frame['job']}/results")).json() == "hello"


async def test_a_job_reported_only_at_its_end_started_then(connect_worker):
    """`job.started` is optional (the SDK skips it for short jobs): the end says it started."""
    ws, _ = await connect_worker()
    client = AsyncClient()
    job = (await execute(client, {"inputs": {"message": "x"}}, prefer="respond-async")).json()["jobID"]
    await receive(ws)
    await send(ws, {"type": "job.succeeded", "job": job, "outputs": {"echo": {"value": "x"}}})
    await send(ws, {"type": "unregister", "processes": []})
    await receive(ws)
    done = (await client.get(f"/jobs/{job}")).json()
    assert done["status"] == "successful"
    assert done["started"] == done["finished"]


async def test_sync_execution_answers_with_the_raw_result(connect_worker):
    ws, _ = await connect_worker()
    request = asyncio.create_task(execute(AsyncClient(), {"inputs": {"message": "hi"}}))
    await run_echo(ws)
    response = await request
    assert response.status_code == 200
    assert response.json() == "hi"


async def test_sync_execution_past_the_timeout_answers_as_async(connect_worker, settings):
    settings.UMS_SYNC_TIMEOUT = 0.2
    await connect_worker()
    response = await execute(AsyncClient(), {"inputs": {"message": "slow"}})
    assert response.status_code == 201
    assert "Preference-Applied" not in response.headers
    assert response.json()["status"] == "accepted"


async def test_a_failed_job_reports_the_workers_error(connect_worker):
    ws, _ = await connect_worker()
    client = AsyncClient()
    job = (await execute(client, {"inputs": {"message": "x"}}, prefer="respond-async")).json()["jobID"]
    await receive(ws)
    error = {"title": "Model crashed", "detail": "division by zero"}
    await send(ws, {"type": "job.failed", "job": job, "error": error})
    await send(ws, {"type": "unregister", "processes": []})
    await receive(ws)
    assert (await client.get(f"/jobs/{job}")).json()["status"] == "failed"
    problem = (await client.get(f"/jobs/{job}/results")).json()
    assert (problem["title"], problem["detail"]) == ("Model crashed", "division by zero")


async def test_jobs_wait_while_the_worker_is_busy_and_run_oldest_first(connect_worker):
    ws, _ = await connect_worker(capacity=1)
    client = AsyncClient()
    ids = [
        (await execute(client, {"inputs": {"message": str(n)}}, prefer="respond-async")).json()["jobID"]
        for n in range(3)
    ]
    first = await run_echo(ws)
    second = await run_echo(ws)
    third = await run_echo(ws)
    assert [first["job"], second["job"], third["job"]] == ids
    assert await ws.receive_nothing(timeout=0.2)


async def test_a_rejected_job_goes_to_another_worker(connect_worker):
    choosy, _ = await connect_worker()
    client = AsyncClient()
    job = (await execute(client, {"inputs": {"message": "x"}}, prefer="respond-async")).json()["jobID"]
    assert (await receive(choosy))["job"] == job
    willing, _ = await connect_worker()
    await send(choosy, {"type": "job.rejected", "job": job, "reason": "too busy"})
    frame = await run_echo(willing)
    assert (frame["job"], frame["attempt"]) == (job, 2)


async def test_a_job_held_by_a_worker_that_leaves_runs_on_another(connect_worker):
    leaving, _ = await connect_worker()
    client = AsyncClient()
    job = (await execute(client, {"inputs": {"message": "x"}}, prefer="respond-async")).json()["jobID"]
    await receive(leaving)
    await send(leaving, {"type": "job.started", "job": job})
    staying, _ = await connect_worker()
    await leaving.disconnect()
    frame = await run_echo(staying)
    assert (frame["job"], frame["attempt"]) == (job, 2)


async def test_a_job_fails_when_its_attempts_are_used_up(connect_worker, settings):
    settings.UMS_JOB_MAX_ATTEMPTS = 1
    ws, _ = await connect_worker()
    client = AsyncClient()
    job = (await execute(client, {"inputs": {"message": "x"}}, prefer="respond-async")).json()["jobID"]
    await receive(ws)
    await ws.disconnect()
    status = (await client.get(f"/jobs/{job}")).json()
    assert status["status"] == "failed"
    assert "Gave up after 1 attempt(s): worker session ended" in status["message"]


async def test_invalid_inputs_create_no_job(connect_worker):
    ws, _ = await connect_worker()
    client = AsyncClient()
    response = await execute(client, {"inputs": {"message": 5}})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-parameter")
    assert "message" in response.json()["detail"]
    assert await ws.receive_nothing(timeout=0.2)
    assert (await client.get("/jobs")).json()["jobs"] == []


async def test_an_unknown_process_is_404(transactional_db):
    response = await execute(AsyncClient(), {"inputs": {}}, process="nope")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/no-such-process")
