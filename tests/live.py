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


# A server or worker that has not come up by then has failed to start.
STARTUP_SECONDS = 30.0


class ChildProcess:
    """A subprocess stopped on exit: SIGINT first, SIGKILL if it lingers.

    With a `log`, its output goes to that file (in a session of its own, so a signal to the
    test run does not reach it), and `tail` reads it back for a failing test's report.
    """

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path | None = None) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> ChildProcess:
        if self.log is None:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT)
            return self
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log and self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def exited(self) -> str | None:
        """Why the process is gone, with the end of its output; None while it runs."""
        if self.process.poll() is None:
            return None
        return f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"

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
    """Daphne serving `ums_site.asgi:application` (`python -m ums_site.server`) on the test
    database; `start` returns once it answers."""

    def __init__(
        self, port: int | None = None, *, name: str = "server", log: Path | None = None, **env_overrides: str
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "ums_site.server",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            "ums_site.asgi:application",
        ]
        super().__init__(f"{name}-{self.port}", command, server_environment(**env_overrides), log)

    def start(self) -> DaphneServer:
        super().start()
        wait_until(self._answers, STARTUP_SECONDS, f"{self.name} to answer")
        return self

    def _answers(self) -> bool:
        if reason := self.exited():
            raise AssertionError(reason)
        try:
            return httpx.get(self.url + "/conformance", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def execute(self, process_id: str, inputs: dict, client: httpx.Client | None = None) -> str:
        """Creates an asynchronous job; its id."""
        return execute_async(self.url, process_id, inputs, client)


class WorkerProcess(ChildProcess):
    """`python -m ums_worker` serving the given targets (e.g. "ums_worker.demo:worker"), with
    further CLI options among them if need be; `env` adds to its environment."""

    def __init__(
        self,
        server: DaphneServer,
        token: str,
        *targets: str,
        name: str = "e2e",
        log: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        env = server_environment(UMS_SERVER_URL=server.url, UMS_WORKER_TOKEN=token, **(env or {}))
        super().__init__(name, [sys.executable, "-m", "ums_worker", "--name", name, *targets], env, log)
