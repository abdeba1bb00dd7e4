"""The dispatch's look at the queue after a job's end comes once the synchronous execution
waiting for that end has answered: in the same thread hop as the end's write, it ran alongside
the answer, on the other core and for the GIL."""

from __future__ import annotations

import asyncio

import pytest
from django.test import AsyncClient

import ogc.views
import registry.consumers
from tests.factories import receive, send, token_create
from tests.ogc_factories import MULTI

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order(monkeypatch) -> list[str]:
    """The answers from a job's success signal and the looks at the queue, as they happen."""
    happened: list[str] = []
    answer, look = ogc.views._signalled_results, registry.consumers.slot_freed_dispatch

    def answered(*args, **kwargs):
        happened.append("answer")
        return answer(*args, **kwargs)

    def looked(*args, **kwargs):
        happened.append("look")
        return look(*args, **kwargs)

    monkeypatch.setattr(ogc.views, "_signalled_results", answered)
    monkeypatch.setattr(registry.consumers, "slot_freed_dispatch", looked)
    return happened


async def test_the_answer_comes_before_the_look_at_the_queue(connect_worker, order):
    ws, _ = await connect_worker(await token_create("worker"), processes=[MULTI])
    body = {"inputs": {"count": 1}, "outputs": {"text": {}}}
    request = asyncio.create_task(
        AsyncClient().post("/processes/multi/execution", body, content_type="application/json")
    )
    frame = await receive(ws)
    order.clear()  # the looks of the worker's hello
    await send(ws, {"type": "job.succeeded", "job": frame["job"], "outputs": {"text": {"value": "hi"}}})
    assert (await request).status_code == 200
    async with asyncio.timeout(5):
        # The look after the answer runs on a database thread, which cannot set an asyncio
        # event: polled, so that the test's end does not cut it short.
        while "look" not in order:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert order == ["answer", "look"]
