"""Callbacks: a job's subscriber URIs receive POSTs, off the request path, with retries."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from jobs.callbacks import callback_enqueue
from jobs.models import CallbackDelivery, JobStatus
from tests.factories import receive, send
from tests.ogc_factories import job_make, provide, schema_errors

pytestmark = pytest.mark.django_db(transaction=True)


class Subscriber:
    """A local HTTP server recording the callbacks it receives, answering `statuses` in turn."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.statuses: list[int] = []
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                subscriber.received.append((self.path, body))
                status = subscriber.statuses.pop(0) if subscriber.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def uris(self) -> dict[str, str]:
        return {key: f"{self.url}/{key}" for key in ("successUri", "inProgressUri", "failedUri")}

    def at(self, path: str) -> list[dict]:
        return [body for received_path, body in self.received if received_path == path]

    async def wait_for(self, path: str, count: int = 1) -> list[dict]:
        async def arrived() -> list[dict]:
            return self.at(path) if len(self.at(path)) >= count else []

        return await eventually(arrived)


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    server = Subscriber()
    yield server
    server.server.shutdown()
    server.server.server_close()


async def eventually[T](check: Callable[[], Awaitable[T]], seconds: float = 10) -> T:
    """The first true result of `check`, polled (the machine may be slow: generous limit)."""
    for _ in range(int(seconds / 0.02)):
        if result := await check():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing came within {seconds} s")


async def settled(job_id: str) -> CallbackDelivery:
    """The job's callback once it is delivered or given up."""

    @database_sync_to_async
    def done() -> CallbackDelivery | None:
        return CallbackDelivery.objects.filter(job_id=job_id, pending=False).first()

    return await eventually(done)


async def submit(subscriber: Subscriber, **body) -> str:
    response = await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "hi"}, "subscriber": subscriber.uris(), **body},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 201
    return response.json()["jobID"]


async def test_success_posts_the_results_document_and_progress_the_status(connect_worker, subscriber):
    ws, _ = await connect_worker()
    job_id = await submit(subscriber)
    await receive(ws)
    await send(ws, {"type": "job.started", "job": job_id})
    (started,) = await subscriber.wait_for("/inProgressUri")
    assert schema_errors("schemas/statusInfo.yaml", started) == []
    assert (started["jobID"], started["status"]) == (job_id, "running")
    assert started["links"][0]["href"] == f"http://testserver/jobs/{job_id}?f=json"

    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "hi"}}})
    (results,) = await subscriber.wait_for("/successUri")
    assert results == {"echo": "hi"}
    assert schema_errors("schemas/results.yaml", results) == []
    assert subscriber.at("/failedUri") == []


async def test_failure_posts_the_status_to_the_failed_uri(connect_worker, subscriber):
    ws, _ = await connect_worker()
    job_id = await submit(subscriber)
    await receive(ws)
    await send(ws, {"type": "job.failed", "job": job_id, "error": {"title": "Crashed", "detail": "oops"}})
    (status,) = await subscriber.wait_for("/failedUri")
    assert (status["jobID"], status["status"], status["message"]) == (job_id, "failed", "oops")
    assert subscriber.at("/successUri") == []


async def test_a_refused_callback_is_retried_with_backoff(connect_worker, subscriber, settings):
    settings.UMS_CALLBACK_RETRY_DELAY = 0.05
    settings.UMS_SWEEP_INTERVAL = 0.05  # the sweep picks up retries that are due
    subscriber.statuses = [503, 500]
    ws, _ = await connect_worker()
    job_id = await submit(subscriber)
    await receive(ws)
    await send(ws, {"type": "job.succeeded", "job": job_id, "outputs": {"echo": {"value": "hi"}}})
    delivery = await settled(job_id)
    assert subscriber.at("/successUri") == [{"echo": "hi"}] * 3
    assert (delivery.pending, delivery.attempts, delivery.last_error) == (False, 3, "HTTP 500")
    assert delivery.delivered is not None


async def test_a_callback_is_given_up_after_its_attempts(connect_worker, subscriber, settings):
    settings.UMS_CALLBACK_RETRY_DELAY = 0.01
    settings.UMS_SWEEP_INTERVAL = 0.05
    settings.UMS_CALLBACK_ATTEMPTS = 2
    subscriber.statuses = [500] * 10
    ws, _ = await connect_worker()
    job_id = await submit(subscriber)
    await receive(ws)
    await send(ws, {"type": "job.failed", "job": job_id, "error": {"title": "Crashed"}})
    delivery = await settled(job_id)
    await asyncio.sleep(0.2)  # the sweep runs on: nothing more is posted
    assert len(subscriber.at("/failedUri")) == 2
    assert (delivery.pending, delivery.delivered, delivery.last_error) == (False, None, "HTTP 500")


def test_an_undelivered_progress_report_is_replaced_by_the_newer_one():
    provide()
    job = job_make(status="running", subscriber={"inProgressUri": "http://127.0.0.1:9/progress"})
    for progress in (10, 20, 30):
        job.progress = progress
        assert callback_enqueue(job)
    delivery = CallbackDelivery.objects.get()
    assert (delivery.payload["progress"], delivery.revision) == (30, 2)


def test_a_job_without_subscriber_owes_no_callback():
    provide()
    assert not callback_enqueue(job_make(status=JobStatus.SUCCESSFUL))
    assert not CallbackDelivery.objects.exists()
