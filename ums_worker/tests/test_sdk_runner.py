"""The worker's protocol loop against a fake server: hello, jobs, cancel, reconnect."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from sdk_fake_server import FakeServer, running

from ums_worker import Output, Worker
from ums_worker.demo import worker as demo_worker


def job_id() -> str:
    return str(uuid.uuid4())


def execute(process: str, inputs: dict[str, Any], job: str | None = None) -> dict[str, Any]:
    return {"type": "job.execute", "job": job or job_id(), "process": process, "inputs": inputs,
            "outputs": {}, "attempt": 1}  # fmt: skip


def gated_worker(gate: threading.Event, **options: Any) -> Worker:
    """A worker whose process `gated` ends once `gate` is set, with {"x": "done"}."""
    worker = Worker(**options)

    @worker.process({"id": "gated", "outputs": {"x": {"schema": {"type": "string"}}}})
    def gated(inputs: dict[str, Any]) -> dict[str, Any]:
        gate.wait(10)
        return {"x": "done"}

    return worker


async def test_hello_describes_the_worker(fake_server: FakeServer) -> None:
    async with running(demo_worker, fake_server):
        session = await fake_server.session()
        assert session.hello["type"] == "hello"
        assert session.hello["protocol"] == 1
        assert session.hello["name"] == "demo"
        assert session.hello["capacity"] == 4
        assert session.hello["resume"] == []
        assert {p["id"] for p in session.hello["processes"]} >= {"echo", "sleep", "fail"}


async def test_echo_job_end_to_end(fake_server: FakeServer) -> None:
    async with running(demo_worker, fake_server):
        session = await fake_server.session()
        frame = execute("echo", {"message": "hi"})
        await session.send(frame)
        assert await session.next(skip=("heartbeat", "job.started")) == {
            "type": "job.succeeded",
            "job": frame["job"],
            "outputs": {"echo": {"value": "hi", "mediaType": "text/plain"}},
        }


async def test_heartbeats_are_sent_at_the_welcome_interval(fake_server: FakeServer) -> None:
    async with running(demo_worker, fake_server):
        session = await fake_server.session()
        assert (await session.next(skip=(), wait=2))["type"] == "heartbeat"


async def test_progress_then_success_in_order(fake_server: FakeServer) -> None:
    worker = Worker(name="reporting", started_delay=0)
    worker.include(demo_worker.processes["sleep"])
    async with running(worker, fake_server):
        session = await fake_server.session()
        frame = execute("sleep", {"seconds": 0.2, "steps": 4})
        await session.send(frame)
        kinds = []
        while not kinds or kinds[-1] not in ("job.succeeded", "job.failed"):
            received = await session.next()
            kinds.append(received["type"])
        assert kinds == ["job.started"] + ["job.progress"] * 4 + ["job.succeeded"]
        assert received["outputs"]["slept"]["value"] >= 0.2


async def test_a_job_that_ends_before_the_started_delay_reports_only_its_end(fake_server: FakeServer) -> None:
    worker = Worker(name="quick", started_delay=30)
    worker.include(demo_worker.processes["echo"])
    async with running(worker, fake_server):
        session = await fake_server.session()
        frame = execute("echo", {"message": "hi"})
        await session.send(frame)
        assert (await session.next()) == {
            "type": "job.succeeded",
            "job": frame["job"],
            "outputs": {"echo": {"value": "hi", "mediaType": "text/plain"}},
        }


async def test_a_job_that_outlasts_the_started_delay_reports_its_start(fake_server: FakeServer) -> None:
    gate = threading.Event()
    worker = gated_worker(gate, name="slow", started_delay=0.01)
    async with running(worker, fake_server):
        session = await fake_server.session()
        frame = execute("gated", {})
        await session.send(frame)
        assert await session.next() == {"type": "job.started", "job": frame["job"]}
        gate.set()  # the job ends only once its start was reported
        assert (await session.next())["type"] == "job.succeeded"


async def test_progress_reported_before_the_started_delay_stands_for_the_start(
    fake_server: FakeServer,
) -> None:
    worker = Worker(name="progressing", started_delay=0.01)

    @worker.process({"id": "steps", "outputs": {"x": {"schema": {"type": "string"}}}})
    async def steps(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
        ctx.progress(10, "first step")  # before the handler's first await: before the delay
        await asyncio.sleep(0.2)
        return {"x": "done"}

    async with running(worker, fake_server):
        session = await fake_server.session()
        await session.send(execute("steps", {}))
        assert (await session.next())["type"] == "job.progress"
        assert (await session.next())["type"] == "job.succeeded"


async def test_exception_is_reported_as_failed_without_secrets(fake_server: FakeServer) -> None:
    async with running(demo_worker, fake_server, token="test-token-secret"):
        session = await fake_server.session()
        frame = execute("fail", {"message": "boom with test-token-secret inside"})
        await session.send(frame)
        failed = await session.until("job.failed")
        assert failed["job"] == frame["job"]
        assert failed["error"]["title"] == "Process 'fail' failed"
        assert failed["error"]["detail"] == "ValueError: boom with *** inside"


async def test_unknown_process_is_rejected(fake_server: FakeServer) -> None:
    async with running(demo_worker, fake_server):
        session = await fake_server.session()
        frame = execute("nope", {})
        await session.send(frame)
        rejected = await session.next()
        assert rejected["type"] == "job.rejected"
        assert rejected["job"] == frame["job"]
        assert "nope" in rejected["reason"]


async def test_jobs_beyond_capacity_are_rejected(fake_server: FakeServer) -> None:
    worker = Worker(name="small", capacity=1)
    worker.include(demo_worker.processes["sleep"])
    async with running(worker, fake_server):
        session = await fake_server.session()
        first, second = execute("sleep", {"seconds": 1, "steps": 1}), execute("sleep", {"seconds": 1})
        await session.send(first)
        await session.until("job.progress")  # it runs (its progress stands for its start)
        await session.send(second)
        rejected = await session.until("job.rejected")
        assert rejected["job"] == second["job"]
        assert "capacity" in rejected["reason"]


async def test_blocking_handlers_do_not_stall_the_loop(fake_server: FakeServer) -> None:
    worker = Worker(name="blocking", capacity=2)

    @worker.process({"id": "block", "outputs": {"done": {"schema": {"type": "boolean"}}}})
    def block(inputs: dict[str, Any]) -> dict[str, Any]:
        time.sleep(1.0)  # does not poll anything: a model stuck in C code
        return {"done": True}

    async with running(worker, fake_server):
        session = await fake_server.session()
        await session.send(execute("block", {}))
        await session.send(execute("block", {}))
        started = time.monotonic()
        heartbeats = 0
        while time.monotonic() - started < 0.8:
            heartbeats += (await session.next(skip=("job.started",)))["type"] == "heartbeat"
        assert heartbeats >= 2
        succeeded = [await session.until("job.succeeded"), await session.until("job.succeeded")]
        assert time.monotonic() - started < 1.8  # both ran at once
        assert all(
            s["outputs"] == {"done": {"value": True, "mediaType": "application/json"}} for s in succeeded
        )


@pytest.mark.parametrize("process", ["sleep", "sleep-async"])
async def test_cancel_stops_the_job_and_nothing_is_reported(fake_server: FakeServer, process: str) -> None:
    async with running(demo_worker, fake_server) as runner:
        session = await fake_server.session()
        frame = execute(process, {"seconds": 30, "steps": 30})
        await session.send(frame)
        await session.until("job.progress")
        await session.send({"type": "job.cancel", "job": frame["job"]})
        await asyncio.sleep(1.5)
        assert frame["job"] not in runner.jobs
        while not session.frames.empty():
            assert session.frames.get_nowait()["type"] in ("heartbeat", "job.progress")
        echo = execute("echo", {"message": "still alive"})
        await session.send(echo)
        assert (await session.until("job.succeeded"))["job"] == echo["job"]


async def test_async_cancel_cancels_the_task(fake_server: FakeServer) -> None:
    worker = Worker(name="async")
    cancelled = asyncio.Event()

    @worker.process({"id": "wait", "outputs": {"x": {"schema": {"type": "string"}}}})
    async def wait(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {"x": "never"}

    async with running(worker, fake_server):
        session = await fake_server.session()
        frame = execute("wait", {})
        await session.send(frame)
        await session.until("job.started")
        await session.send({"type": "job.cancel", "job": frame["job"]})
        await asyncio.wait_for(cancelled.wait(), 2)


async def test_reconnects_after_refusal_and_disconnect_and_resumes(fake_server: FakeServer) -> None:
    fake_server.refuse = 2
    gate = threading.Event()
    worker = gated_worker(gate, name="resumer", capacity=2)
    async with running(worker, fake_server):
        first = await fake_server.session()
        frame = execute("gated", {})
        await first.send(frame)
        await first.until("job.started")
        await first.ws.close()
        gate.set()  # the job finishes while the worker is disconnected
        second = await fake_server.session()
        assert second.hello["resume"] == [frame["job"]]
        succeeded = await second.until("job.succeeded")
        assert succeeded["job"] == frame["job"]
        assert succeeded["outputs"]["x"]["value"] == "done"


async def test_server_error_frames_are_logged(
    fake_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(demo_worker, fake_server):
        session = await fake_server.session()
        await session.send({"type": "error", "code": "invalid-frame", "detail": "bad things"})
        await session.send({"type": "mystery"})
        await session.send(execute("echo", {"message": "after"}))
        await session.until("job.succeeded")
    assert "bad things" in caplog.text
    assert "mystery" in caplog.text


async def test_large_outputs_are_uploaded(fake_server: FakeServer) -> None:
    uploads: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        uploads.append(request)
        return httpx.Response(201, json={"href": "/jobs/x/outputs/data/file"})

    worker = Worker(name="big", upload_threshold=100)

    @worker.process(
        {"id": "big", "outputs": {"data": {"schema": {"type": "string"}}, "small": {"schema": {}}}}
    )
    def big(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"data": Output("y" * 500, "text/csv"), "small": [1, 2]}

    async with running(worker, fake_server) as runner:
        session = await fake_server.session()
        runner._http = httpx.AsyncClient(transport=httpx.MockTransport(respond))
        frame = execute("big", {})
        await session.send(frame)
        succeeded = await session.until("job.succeeded")
    assert succeeded["outputs"] == {
        "data": {"href": "/jobs/x/outputs/data/file", "mediaType": "text/csv"},
        "small": {"value": [1, 2], "mediaType": "application/json"},
    }
    (request,) = uploads
    assert request.method == "PUT"
    assert request.url == f"{fake_server.url}/jobs/{frame['job']}/outputs/data"
    assert request.headers["Authorization"] == "Bearer test-token-secret"
    assert request.headers["Content-Type"] == "text/csv"
    assert request.content == b"y" * 500


async def test_stopping_closes_with_going_away(fake_server: FakeServer) -> None:
    async with running(demo_worker, fake_server):
        session = await fake_server.session()
    await asyncio.wait_for(session.closed.wait(), 3)
    assert session.ws.close_code == 1001


async def test_a_job_sent_again_after_it_finished_is_reported_not_rerun(fake_server: FakeServer) -> None:
    calls = []
    worker = Worker(name="once")

    @worker.process({"id": "count", "outputs": {"n": {"schema": {"type": "integer"}}}})
    def count(inputs: dict[str, Any]) -> dict[str, Any]:
        calls.append(1)
        return {"n": len(calls)}

    async with running(worker, fake_server) as runner:
        session = await fake_server.session()
        frame = execute("count", {})
        await session.send(frame)
        await session.until("job.succeeded")
        runner.finals[frame["job"]] = {"type": "job.succeeded", "job": frame["job"], "outputs": {}}
        await session.send(frame)
        again = await session.until("job.succeeded")
        assert again["job"] == frame["job"]
        assert calls == [1]
