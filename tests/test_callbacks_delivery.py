"""Callbacks: a job's subscriber URIs receive POSTs, off the request path, with retries."""

from __future__ import annotations

import asyncio

import pytest
from django.test import AsyncClient

from jobs.callbacks import callback_enqueue
from jobs.models import CallbackDelivery, JobStatus
from tests.callback_receiver import Subscriber, eventually
from tests.factories import receive, send
from tests.ogc_factories import job_make, provide, schema_errors
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _local_callbacks_allowed(settings) -> None:
    # The subscriber below listens on 127.0.0.1, which callbacks may not reach by default.
    settings.UMS_CALLBACK_ALLOW_PRIVATE = True


async def settled(job_id: str) -> CallbackDelivery:
    """The job's callback once it is delivered or given up."""

    @db_sync_to_async
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
