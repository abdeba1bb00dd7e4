"""JSON nested past the bound is a clear 400 (HTTP) or `error` frame (worker socket), never a
RecursionError: no 500, no crashed consumer, no state change."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Job
from tests.factories import receive
from tests.ogc_factories import provide

pytestmark = pytest.mark.django_db(transaction=True)

TOO_DEEP_FOR_PYTHON = "[" * 100_000 + "]" * 100_000
PAST_THE_BOUND = '{"inputs": {"message": ' + "[" * 100 + "]" * 100 + "}}"


@pytest.mark.parametrize("body", [TOO_DEEP_FOR_PYTHON, PAST_THE_BOUND])
def test_it_answers_400_to_a_deeply_nested_request_body(body):
    provide()
    response = Client().post("/processes/echo/execution", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json()["detail"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "text", [TOO_DEEP_FOR_PYTHON, '{"type": "heartbeat", "x": ' + "[" * 100 + "]" * 100 + "}"]
)
async def test_it_answers_an_error_frame_to_a_deeply_nested_frame(connect_worker, text):
    ws, _ = await connect_worker()
    await ws.send_to(text_data=text)
    answer = await receive(ws)
    assert (answer["type"], answer["code"]) == ("error", "invalid-json")
    assert "nested more than 64 levels" in answer["detail"]
    await ws.send_to(text_data='{"type": "heartbeat"}')  # the socket is still open
    assert await ws.receive_nothing(timeout=0.1)
