"""OWSLib (owslib.ogcapi.processes) against a live server: real Daphne, real SDK worker."""

from __future__ import annotations

import httpx
import pytest
from owslib.ogcapi.processes import Processes

from registry.selectors import process_list
from registry.services import credential_create
from tests.live import DaphneServer, WorkerProcess, wait_until
from tests.ogc_factories import schema_errors

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client():
    """OWSLib's client of a server with the demo worker's processes listed."""
    _, token = credential_create(name="owslib")
    with DaphneServer() as server, WorkerProcess(server, token, "ums_worker.demo:worker", name="owslib"):
        wait_until(lambda: process_list().filter(pk="echo").exists(), 30, "the demo processes")
        yield Processes(server.url)


def test_owslib_lists_describes_and_executes(client):
    summaries = client.processes()
    assert {"echo", "sleep"} <= {summary["id"] for summary in summaries}

    description = client.process("echo")
    assert schema_errors("schemas/process.yaml", description) == []
    assert description["inputs"]["message"]["schema"] == {"type": "string"}

    results = client.execute("echo", inputs={"message": "via OWSLib"}, response="document")
    assert results == {"echo": {"value": "via OWSLib", "mediaType": "text/plain"}}


def test_owslib_executes_asynchronously(client):
    status = client.execute("sleep", inputs={"seconds": 0.1, "steps": 2}, response="document", async_=True)
    assert status["status"] in {"accepted", "running"}
    assert client.response_headers["Preference-Applied"] == "respond-async"
    location = client.response_headers["Location"]

    def finished() -> dict | None:
        job = httpx.get(location, timeout=5).json()
        return job if job["status"] in {"successful", "failed"} else None

    assert wait_until(finished, 30, "the job to finish")["status"] == "successful"
    slept = httpx.get(f"{location}/results", timeout=5).json()["slept"]
    assert slept["value"] == pytest.approx(0.1, abs=0.2)
