"""Real Daphne servers and real workers, as subprocesses, for fault-injection tests.

The `processes` fixture starts them on free ports against the test database pytest-django
created (so tests must use `django_db(transaction=True)`: rows are committed and visible to the
servers) and stops every one of them at teardown, also when the test failed. Faults are
injected with `kill -9` (`Managed.kill`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.db import connection

from jobs.models import Job
from registry.models import WorkerSession
from registry.services import credential_create

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
IS_POSTGRES = connection.vendor == "postgresql"
HAS_REDIS = bool(settings.REDIS_URL)

# Both settings: several instances need a shared database and a shared channel layer.
scale_out = pytest.mark.skipif(
    not (IS_POSTGRES and HAS_REDIS), reason="needs DATABASE_URL on PostgreSQL and REDIS_URL"
)

# Short enough that faults are noticed within seconds; the sweep notices them.
FAST_SETTINGS = {
    "UMS_HEARTBEAT_INTERVAL": "0.5",
    "UMS_HEARTBEAT_TIMEOUT": "2",
    "UMS_ACK_TIMEOUT": "2",
    "UMS_SWEEP_INTERVAL": "0.2",
    "UMS_JOB_MAX_ATTEMPTS": "3",
}
STARTUP_SECONDS = 30.0


def wait_until[T](condition: Callable[[], T], *, what: str, seconds: float = 30.0) -> T:
    """Polls `condition` until it returns something truthy, which it returns; bounded."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:g} s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the test database pytest-django created, for the subprocesses."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "", safe="") + (
        f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    )
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Managed:
    """One subprocess and its log file."""

    name: str
    popen: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """kill -9: no goodbye, no closing handshake."""
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Server:
    process: Managed
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def execute(self, process: str, inputs: dict[str, Any], client: httpx.Client | None = None) -> str:
        """Creates an asynchronous job; its id."""
        post = (client or httpx).post
        response = post(
            f"{self.url}/processes/{process}/execution",
            json={"inputs": inputs},
            headers={"Prefer": "respond-async"},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()["jobID"]


@dataclass
class Processes:
    """Starts servers and workers; `stop_all` (the fixture's teardown) ends every one."""

    tmp_path: Path
    started: list[Managed] = field(default_factory=list)
    channel_prefix: str = field(default_factory=lambda: f"ums-test-{uuid.uuid4().hex[:8]}")

    @property
    def executions_dir(self) -> Path:
        """Where the test worker (tests/e2e_worker.py) records every job run it starts."""
        path = self.tmp_path / "executions"
        path.mkdir(exist_ok=True)
        return path

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> Managed:
        log = self.tmp_path / f"{name}.log"
        full_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "ums_worker" / "src"), str(ROOT)]),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        with log.open("ab") as out:
            popen = subprocess.Popen(
                command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        managed = Managed(name, popen, log)
        self.started.append(managed)
        return managed

    def server(self, *, port: int | None = None, name: str = "server", **ums_settings: str) -> Server:
        """A Daphne instance on the test database; returns once it answers HTTP."""
        port = port or free_port()
        env = {
            "SECRET_KEY": "test-only-secret-key",
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "UMS_CHANNEL_PREFIX": self.channel_prefix,
            "UMS_MEDIA_ROOT": str(self.tmp_path / "media"),
            **FAST_SETTINGS,
            **ums_settings,
        }
        if HAS_REDIS:
            env["REDIS_URL"] = settings.REDIS_URL
        command = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ums_site.asgi:application"]
        server = Server(self._start(f"{name}-{port}", command, env), port)
        wait_until(
            lambda: self._answers(server), what=f"{name} to answer on port {port}", seconds=STARTUP_SECONDS
        )
        return server

    def _answers(self, server: Server) -> bool:
        if server.process.popen.poll() is not None:
            raise AssertionError(f"{server.process.name} exited:\n{server.process.tail()}")
        try:
            return httpx.get(f"{server.url}/conformance", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def worker(self, server: Server, token: str, *, name: str = "worker", capacity: int = 1) -> Managed:
        """The SDK's CLI serving tests/e2e_worker.py."""
        command = [
            PYTHON, "-m", "ums_worker", "--server", server.url, "--name", name,
            "--capacity", str(capacity), "tests.e2e_worker:worker",
        ]  # fmt: skip
        env = {"UMS_WORKER_TOKEN": token, "UMS_E2E_EXECUTIONS": str(self.executions_dir)}
        return self._connected(self._start(name, command, env))

    def misbehaving_worker(self, server: Server, token: str, *, mode: str) -> Managed:
        """tests/misbehaving_worker.py: a worker that never acknowledges jobs, or rejects them."""
        command = [PYTHON, str(ROOT / "tests" / "misbehaving_worker.py"), server.url, mode]
        return self._connected(self._start(mode, command, {"UMS_WORKER_TOKEN": token}))

    def _connected(self, worker: Managed) -> Managed:
        """Returns once the worker has a live session (its name is the session's)."""

        def connected() -> bool:
            if worker.popen.poll() is not None:
                raise AssertionError(f"{worker.name} exited:\n{worker.tail()}")
            return WorkerSession.objects.live().filter(name=worker.name).exists()

        wait_until(connected, what=f"{worker.name} to connect", seconds=STARTUP_SECONDS)
        return worker

    def executions(self) -> list[dict[str, Any]]:
        """Every job run the test workers started, in order: {"job", "attempt", "pid", "at"}."""
        lines = [line for path in self.executions_dir.iterdir() for line in path.read_text().splitlines()]
        return sorted((json.loads(line) for line in lines), key=lambda run: run["at"])

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()})\n{p.tail()}" for p in self.started)

    def stop_all(self) -> None:
        for managed in reversed(self.started):
            managed.stop()


@pytest.fixture
def processes(transactional_db, tmp_path, request) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(started.logs())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Lets the fixture see whether the test failed, to print the processes' logs."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


def worker_token(name: str = "e2e") -> str:
    return credential_create(name=name)[1]


def job_wait(job_id: str, status: str, *, seconds: float = 30.0) -> Job:
    """The job, once it has this status."""
    return wait_until(
        lambda: Job.objects.filter(pk=job_id, status=status).first(),
        what=f"job {job_id} to be {status}",
        seconds=seconds,
    )


def job_statuses(job_ids: list[str]) -> dict[str, str]:
    return dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "status"))


def all_final(job_ids: list[str]) -> bool:
    statuses = job_statuses(job_ids)
    return len(statuses) == len(job_ids) and all(
        s in {"successful", "failed", "dismissed"} for s in statuses.values()
    )
