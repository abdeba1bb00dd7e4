"""`Prefer: wait=N` (RFC 7240) shortens how long a synchronous execution waits for its results
before it answers as an asynchronous one; it never lengthens the server's own limit."""

from __future__ import annotations

import time

import pytest
from django.test import AsyncClient

from ogc.execution import preferences

pytestmark = pytest.mark.django_db(transaction=True)


async def execute(prefer: str):
    return await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "slow"}},
        content_type="application/json",
        headers={"Prefer": prefer},
    )


def test_preferences_keep_their_values():
    assert preferences('respond-async, WAIT="10"; p=1, wait=3') == {"respond-async": "", "wait": "10"}


async def test_a_shorter_wait_answers_201_when_it_is_up(connect_worker, settings):
    settings.UMS_SYNC_TIMEOUT = 30
    await connect_worker()  # takes the job and never reports
    started = time.monotonic()
    response = await execute("wait=1")
    assert 1 <= time.monotonic() - started < 10
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "wait=1"
    assert response.json()["status"] == "accepted"


@pytest.mark.parametrize("prefer", ["wait=60", "wait=soon", "wait=-1", "wait=1.5", "wait="])
async def test_a_longer_or_malformed_wait_is_ignored(connect_worker, settings, prefer):
    settings.UMS_SYNC_TIMEOUT = 0.2
    await connect_worker()
    response = await execute(prefer)
    assert response.status_code == 201
    assert "Preference-Applied" not in response.headers


async def test_respond_async_wins_over_wait(connect_worker):
    await connect_worker()
    response = await execute("wait=5, respond-async")
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "respond-async"
