"""A synchronous execution on one instance gets the result of a worker connected to another:
dispatch and the job's signals cross instances through Redis, the record through PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.live_processes import scale_out, worker_token

pytestmark = [pytest.mark.e2e, scale_out, pytest.mark.django_db(transaction=True)]


def test_a_sync_execution_answers_with_the_result_of_a_worker_on_another_instance(processes):
    front, back = processes.server(name="front"), processes.server(name="back")
    processes.worker(back, worker_token())

    response = httpx.post(
        f"{front.url}/processes/work/execution",
        json={"inputs": {"message": "across", "seconds": 0.5}},
        timeout=60,
    )

    assert response.status_code == 200, response.text
    assert (response.text, response.headers["Content-Type"]) == ("across", "text/plain")
