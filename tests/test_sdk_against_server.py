"""The Python worker SDK against a real server: real Daphne and worker processes."""

from __future__ import annotations

import httpx
import pytest

from jobs.models import Job
from registry.models import WorkerSession
from registry.selectors import process_list
from registry.services import credential_create
from tests.live import DaphneServer, WorkerProcess, execute_async, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Fast heartbeats: a worker whose heartbeats stall is declared dead within two seconds.
FAST = {"UMS_HEARTBEAT_INTERVAL": "0.3", "UMS_HEARTBEAT_TIMEOUT": "2", "UMS_SWEEP_INTERVAL": "0.2"}


def listed(*process_ids: str) -> bool:
    return set(process_ids) <= set(process_list().values_list("pk", flat=True))


def final_status(server: DaphneServer, job_id: str, seconds: float = 30) -> dict:
    def final() -> dict | None:
        status = httpx.get(f"{server.url}/jobs/{job_id}", timeout=5).json()
        return status if status["status"] in {"successful", "failed", "dismissed"} else None

    return wait_until(final, seconds, f"job {job_id} to finish")


@pytest.fixture
def token() -> str:
    return credential_create(name="sdk")[1]


def test_progress_reports_show_in_the_job_status(token):
    with DaphneServer() as server, WorkerProcess(server, token, "ums_worker.demo:worker"):
        wait_until(lambda: listed("sleep"), 30, "the demo processes")
        job_id = execute_async(server.url, "sleep", {"seconds": 2, "steps": 4})

        def reporting_progress() -> dict | None:
            status = httpx.get(f"{server.url}/jobs/{job_id}", timeout=5).json()
            return status if 0 < (status.get("progress") or 0) < 100 else None

        running = wait_until(reporting_progress, 20, "a progress report")
        assert running["status"] == "running"
        assert running["message"]
        assert final_status(server, job_id)["status"] == "successful"


def test_an_exception_in_a_handler_fails_the_job_with_its_detail(token):
    with DaphneServer() as server, WorkerProcess(server, token, "ums_worker.demo:worker"):
        wait_until(lambda: listed("fail"), 30, "the demo processes")
        job_id = execute_async(server.url, "fail", {"message": "the river burst its banks"})
        assert final_status(server, job_id)["status"] == "failed"
        problem = httpx.get(f"{server.url}/jobs/{job_id}/results", timeout=5).json()
        assert "ValueError" in problem["detail"] and "the river burst its banks" in problem["detail"]


def test_blocking_handlers_run_capacity_at_once_and_heartbeats_go_on(token):
    demo = ["ums_worker.demo:worker", "--capacity", "2"]
    with DaphneServer(**FAST) as server, WorkerProcess(server, token, *demo):
        wait_until(lambda: listed("sleep"), 30, "the demo processes")
        jobs = [execute_async(server.url, "sleep", {"seconds": 3, "steps": 1}) for _ in range(3)]
        wait_until(lambda: Job.objects.filter(status="running").count() == 2, 20, "two running jobs")
        assert Job.objects.filter(pk__in=jobs, status="accepted", session__isnull=True).count() == 1
        for job_id in jobs:
            assert final_status(server, job_id)["status"] == "successful"
        # Three-second blocking handlers outlived the two-second heartbeat timeout: no requeue.
        assert set(Job.objects.filter(pk__in=jobs).values_list("attempts", flat=True)) == {1}
        assert WorkerSession.objects.live().count() == 1


def test_a_running_job_survives_a_server_restart(token):
    server = DaphneServer()
    with WorkerProcess(server, token, "ums_worker.demo:worker"):
        with server:
            wait_until(lambda: listed("sleep"), 30, "the demo processes")
            job_id = execute_async(server.url, "sleep", {"seconds": 4, "steps": 4})
            started = Job.objects.filter(pk=job_id, status="running")
            wait_until(started.exists, 20, "the job to start")
        # The server is down while the model runs on; the worker reconnects with `resume`.
        with DaphneServer(port=server.port) as restarted:
            status = final_status(restarted, job_id)
    assert status["status"] == "successful"
    assert Job.objects.get(pk=job_id).attempts == 1


def test_pygeoapi_processors_run_through_the_adapter(token):
    adapter = ["--pygeoapi", "pygeoapi.process.hello_world.HelloWorldProcessor"]
    with DaphneServer() as server, WorkerProcess(server, token, *adapter):
        wait_until(lambda: listed("hello-world"), 30, "pygeoapi's hello-world")
        response = httpx.post(
            f"{server.url}/processes/hello-world/execution",
            json={"inputs": {"name": "Ada", "message": "Welcome"}},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert response.json() == "Hello Ada! Welcome"


def test_a_large_output_is_uploaded_over_http_and_served_to_the_client(token, tmp_path):
    with (
        DaphneServer(UMS_MEDIA_ROOT=str(tmp_path)) as server,
        WorkerProcess(server, token, "ums_worker.demo:worker", "--upload-threshold", "65536"),
    ):
        wait_until(lambda: listed("large-output"), 30, "the demo processes")
        response = httpx.post(
            f"{server.url}/processes/large-output/execution", json={"inputs": {"kib": 256}}, timeout=60
        )
        assert response.status_code == 200, response.text[:500]
        assert response.headers["Content-Type"].startswith("text/plain")
        assert response.text == "x" * 256 * 1024
        # The bytes went to storage, not through the socket.
        stored = [path for path in tmp_path.rglob("*") if path.is_file()]
        assert [path.stat().st_size for path in stored] == [256 * 1024]


def test_dismissing_a_job_cancels_it_on_the_worker(token):
    with DaphneServer(**FAST) as server, WorkerProcess(server, token, "ums_worker.demo:worker"):
        wait_until(lambda: listed("sleep"), 30, "the demo processes")
        job_id = execute_async(server.url, "sleep", {"seconds": 30, "steps": 30})
        wait_until(Job.objects.filter(pk=job_id, status="running").exists, 20, "the job to start")
        response = httpx.delete(f"{server.url}/jobs/{job_id}", timeout=10)
        assert response.status_code == 200
        assert response.json()["status"] == "dismissed"
        # The worker stopped the handler: its slot is free again for the next job.
        next_job = execute_async(server.url, "echo", {"message": "after"})
        assert final_status(server, next_job, 20)["status"] == "successful"
        assert Job.objects.get(pk=job_id).status == "dismissed"
