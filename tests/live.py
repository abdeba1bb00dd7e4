"""Real processes for end-to-end tests: Daphne servers and SDK workers on free loopback ports.

Each is a context manager that stops (and, if need be, kills) its process on exit, also when
the test fails. They share the test database: rows the test writes must be committed
(`django_db(transaction=True)`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
WORKER_SRC = ROOT / "ums_worker" / "src"


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test database)."""
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


def server_environment(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SECRET_KEY": "end-to-end-tests",
        "DEBUG": "0",
        "DATABASE_URL": database_url(),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(WORKER_SRC)]),
        "UMS_LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return env


def wait_until(condition: Callable[[], object], seconds: float = 20, message: str = "condition") -> object:
    """Polls until `condition()` is truthy; returns its value. Bounded, never a timed assertion."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.05)


def execute_async(base_url: str, process_id: str, inputs: dict, client: httpx.Client | None = None) -> str:
    """Creates an asynchronous job on a live server; its id."""
    response = (client or httpx).post(
        f"{base_url}/processes/{process_id}/execution",
        json={"inputs": inputs},
        headers={"Prefer": "respond-async"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["jobID"]


class ChildProcess:
    """A subprocess stopped on exit: SIGINT first, SIGKILL if it lingers."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command = command
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> ChildProcess:
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT)
        return self

    def kill(self) -> None:
        """kill -9: no clean shutdown, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ChildProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class DaphneServer(ChildProcess):
    def __init__(self, port: int | None = None, **env_overrides: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            "ums_site.asgi:application",
        ]
        super().__init__(command, server_environment(**env_overrides))

    def start(self) -> DaphneServer:
        super().start()
        wait_until(self._answers, 30, f"Daphne on port {self.port}")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"Daphne exited with {self.process.returncode}")
        try:
            return httpx.get(self.url + "/conformance", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


class WorkerProcess(ChildProcess):
    """`python -m ums_worker` serving the given targets (e.g. "ums_worker.demo:worker")."""

    def __init__(self, server: DaphneServer, token: str, *targets: str, name: str = "e2e") -> None:
        env = server_environment(UMS_SERVER_URL=server.url, UMS_WORKER_TOKEN=token)
        super().__init__([sys.executable, "-m", "ums_worker", "--name", name, *targets], env)
