"""End to end: a real Daphne process, a real SDK worker process, an HTTP client."""

from __future__ import annotations

import httpx
import pytest

from registry.selectors import process_list
from registry.services import credential_create
from tests.live import DaphneServer, WorkerProcess, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served():
    """A server with the demo worker connected and its processes listed."""
    _, token = credential_create(name="e2e")
    with DaphneServer() as server, WorkerProcess(server, token, "ums_worker.demo:worker"):
        wait_until(lambda: process_list().filter(pk="echo").exists(), 30, "the worker's processes")
        yield server


def test_sync_execution_returns_the_result(served):
    response = httpx.post(
        f"{served.url}/processes/echo/execution", json={"inputs": {"message": "over the wire"}}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == "over the wire"


def test_async_execution_gives_a_job_to_poll_until_its_results(served):
    response = httpx.post(
        f"{served.url}/processes/sleep/execution",
        json={"inputs": {"seconds": 0.3, "steps": 3}, "response": "document"},
        headers={"Prefer": "respond-async"},
        timeout=30,
    )
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location.startswith(served.url + "/jobs/")

    def finished() -> dict | None:
        status = httpx.get(location, timeout=5).json()
        return status if status["status"] in {"successful", "failed"} else None

    status = wait_until(finished, 30, "the job to finish")
    assert status["status"] == "successful", status
    slept = httpx.get(f"{location}/results", timeout=5).json()["slept"]
    # Inline, or qualified with its media type.
    assert (slept["value"] if isinstance(slept, dict) else slept) == pytest.approx(0.3, abs=0.2)
