"""JSON nested past the bound, or holding a NUL character (which PostgreSQL cannot store), is a
clear 400 (HTTP) or `error` frame (worker socket): no 500, no crashed consumer, no state
change."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Job
from tests.factories import receive
from tests.ogc_factories import provide

pytestmark = pytest.mark.django_db(transaction=True)

NESTED, NUL = "nested more than 64 levels", "NUL character"
TOO_DEEP_FOR_PYTHON = "[" * 100_000 + "]" * 100_000
PAST_THE_BOUND = "[" * 100 + "]" * 100


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (TOO_DEEP_FOR_PYTHON, NESTED),
        ('{"inputs": {"message": ' + PAST_THE_BOUND + "}}", NESTED),
        ('{"inputs": {"message": "a\\u0000b"}}', NUL),
        ('{"inputs": {"message": "hi"}, "x\\u0000": 1}', NUL),
    ],
)
def test_it_answers_400_to_a_request_body_past_the_bounds(body, detail):
    provide()
    response = Client().post("/processes/echo/execution", body, content_type="application/json")
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (TOO_DEEP_FOR_PYTHON, NESTED),
        ('{"type": "heartbeat", "x": ' + PAST_THE_BOUND + "}", NESTED),
        ('{"type": "heartbeat", "x": "\\u0000"}', NUL),
    ],
)
async def test_it_answers_an_error_frame_to_a_frame_past_the_bounds(connect_worker, text, detail):
    ws, _ = await connect_worker()
    await ws.send_to(text_data=text)
    answer = await receive(ws)
    assert (answer["type"], answer["code"]) == ("error", "invalid-json")
    assert detail in answer["detail"]
    await ws.send_to(text_data='{"type": "heartbeat"}')  # the socket is still open
    assert await ws.receive_nothing(timeout=0.1)
