"""Callbacks never reach private, loopback or link-local addresses unless a setting allows it:
address literals are refused in the execute request, names after DNS resolution."""

from __future__ import annotations

import socket

import pytest
from django.test import AsyncClient

from jobs.callbacks import callbacks_deliver
from jobs.models import CallbackDelivery, Job, JobStatus
from tests.ogc_factories import job_make, provide
from ums_site.db import db_sync_to_async

pytestmark = pytest.mark.django_db(transaction=True)

PRIVATE_URIS = [
    "http://127.0.0.1:8000/done",
    "http://localhost/done",
    "http://[::1]/done",
    "http://10.1.2.3/done",
    "http://192.168.0.1/done",
    "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:127.0.0.1]/done",
    "http://0.0.0.0/done",
]


@pytest.mark.parametrize("uri", PRIVATE_URIS)
async def test_it_refuses_a_private_address_in_the_execute_request(uri):
    await db_sync_to_async(provide)()
    response = await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "hi"}, "subscriber": {"successUri": uri}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-parameter")
    assert "private" in response.json()["detail"]
    assert not await Job.objects.aexists()


@pytest.fixture
def resolves_to_loopback(monkeypatch) -> str:
    """A host name that DNS resolves to 127.0.0.1, as an attacker's name could."""
    name = "callbacks.example.test"
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return real("127.0.0.1" if host == name else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return name


async def _deliver_to(url: str) -> CallbackDelivery:
    @db_sync_to_async
    def owed() -> None:
        provide()
        job = job_make(status=JobStatus.FAILED, subscriber={"failedUri": url})
        CallbackDelivery.objects.create(job=job, url=url, payload={"status": "failed"})

    await owed()
    await callbacks_deliver()
    return await CallbackDelivery.objects.aget()


async def test_it_refuses_a_name_that_resolves_to_a_private_address(resolves_to_loopback, subscriber):
    port = subscriber.server.server_address[1]
    delivery = await _deliver_to(f"http://{resolves_to_loopback}:{port}/failedUri")
    assert subscriber.received == []
    assert "private" in delivery.last_error
    assert delivery.pending and delivery.delivered is None  # retried later, then given up


async def test_it_delivers_to_private_addresses_when_the_setting_allows_it(
    resolves_to_loopback, subscriber, settings
):
    settings.UMS_CALLBACK_ALLOW_PRIVATE = True
    port = subscriber.server.server_address[1]
    delivery = await _deliver_to(f"http://{resolves_to_loopback}:{port}/failedUri")
    assert subscriber.at("/failedUri") == [{"status": "failed"}]
    assert delivery.delivered is not None


async def test_it_does_not_follow_redirects(subscriber, settings):
    settings.UMS_CALLBACK_ALLOW_PRIVATE = True
    subscriber.statuses = [302]
    delivery = await _deliver_to(f"{subscriber.url}/failedUri")
    assert len(subscriber.received) == 1
    assert delivery.last_error == "HTTP 302"
