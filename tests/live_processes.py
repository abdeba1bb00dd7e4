"""Real Daphne servers and real workers, as subprocesses, for fault-injection tests.

Builds on tests/live.py. The `processes` fixture starts them on free ports against the test
database pytest-django created (so tests must use `django_db(transaction=True)`: rows are
committed and visible to the servers), keeps each one's output in a log file (printed when the
test fails) and stops every one of them at teardown, also on failure. Faults are injected with
`kill -9` (`ChildProcess.kill`).
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from jobs.models import Job
from registry.models import WorkerSession
from registry.services import credential_create
from tests.live import (
    ROOT,
    STARTUP_SECONDS,
    ChildProcess,
    DaphneServer,
    WorkerProcess,
    free_port,
    server_environment,
    wait_until,
)

PYTHON = sys.executable
HAS_REDIS = bool(settings.REDIS_URL)

# Several instances need a shared database and a shared channel layer.
scale_out = pytest.mark.skipif(
    not (connection.vendor == "postgresql" and HAS_REDIS),
    reason="needs DATABASE_URL on PostgreSQL and REDIS_URL",
)

# Short enough that faults are noticed within seconds; the sweep notices them.
FAST_SETTINGS = {
    "UMS_HEARTBEAT_INTERVAL": "0.5",
    "UMS_HEARTBEAT_TIMEOUT": "2",
    "UMS_ACK_TIMEOUT": "2",
    "UMS_SWEEP_INTERVAL": "0.2",
    "UMS_JOB_MAX_ATTEMPTS": "3",
    "UMS_LOG_LEVEL": "INFO",
}


@dataclass
class Processes:
    """Starts servers and workers; `stop_all` (the fixture's teardown) ends every one."""

    tmp_path: Path
    started: list[ChildProcess] = field(default_factory=list)
    channel_prefix: str = field(default_factory=lambda: f"ums-test-{uuid.uuid4().hex[:8]}")

    @property
    def executions_dir(self) -> Path:
        """Where the test worker (tests/e2e_worker.py) records every job run it starts."""
        path = self.tmp_path / "executions"
        path.mkdir(exist_ok=True)
        return path

    def _started[P: ChildProcess](self, process: P) -> P:
        self.started.append(process)
        process.start()
        return process

    def server(self, *, port: int | None = None, name: str = "server", **ums_settings: str) -> DaphneServer:
        """A Daphne instance on the test database; returns once it answers HTTP."""
        env = {
            "UMS_CHANNEL_PREFIX": self.channel_prefix,
            "UMS_MEDIA_ROOT": str(self.tmp_path / "media"),
            **FAST_SETTINGS,
            **ums_settings,
        }
        port = port or free_port()
        return self._started(DaphneServer(port, name=name, log=self.tmp_path / f"{name}-{port}.log", **env))

    def worker(
        self,
        server: DaphneServer,
        token: str,
        *,
        name: str = "worker",
        capacity: int = 1,
        log_level: str = "INFO",
    ) -> WorkerProcess:
        """The SDK's CLI serving tests/e2e_worker.py."""
        options = ["--capacity", str(capacity), "--log-level", log_level]
        worker = WorkerProcess(
            server,
            token,
            *options,
            "tests.e2e_worker:worker",
            name=name,
            log=self.tmp_path / f"{name}.log",
            env={"UMS_E2E_EXECUTIONS": str(self.executions_dir)},
        )
        return self._connected(self._started(worker))

    def misbehaving_worker(self, server: DaphneServer, token: str, *, mode: str) -> ChildProcess:
        """tests/misbehaving_worker.py: a worker that never acknowledges jobs, or rejects them."""
        command = [PYTHON, str(ROOT / "tests" / "misbehaving_worker.py"), server.url, mode]
        env = server_environment(UMS_WORKER_TOKEN=token)
        return self._connected(self._started(ChildProcess(mode, command, env, self.tmp_path / f"{mode}.log")))

    def _connected[P: ChildProcess](self, worker: P) -> P:
        """Returns once the worker has a live session (its name is the session's)."""

        def connected() -> bool:
            if reason := worker.exited():
                raise AssertionError(reason)
            return WorkerSession.objects.live().filter(name=worker.name).exists()

        wait_until(connected, STARTUP_SECONDS, f"{worker.name} to connect")
        return worker

    def executions(self) -> list[dict[str, Any]]:
        """Every job run the test workers started, in order: {"job", "attempt", "pid", "at"}."""
        lines = [line for path in self.executions_dir.iterdir() for line in path.read_text().splitlines()]
        return sorted((json.loads(line) for line in lines), key=lambda run: run["at"])

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} (exit {p.process.poll()})\n{p.tail()}" for p in self.started)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


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
        lambda: Job.objects.filter(pk=job_id, status=status).first(), seconds, f"job {job_id} to be {status}"
    )


def job_statuses(job_ids: list[str]) -> dict[str, str]:
    return dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "status"))


def all_final(job_ids: list[str]) -> bool:
    statuses = job_statuses(job_ids)
    return len(statuses) == len(job_ids) and all(
        s in {"successful", "failed", "dismissed"} for s in statuses.values()
    )
