"""The Urban Model Server under test: database, Daphne instance(s) and SDK workers."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import HOST, PYTHON, Children, free_port, run_checked, wait_for_port

POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_DATABASE = "ums_bench"
REDIS_URL = "redis://127.0.0.1:6379/5"
# The workers serve pygeoapi's own echo plugin: the very code the baseline runs in-process.
WORKER_TARGET = ["--pygeoapi", "pygeoapi.process.echo.EchoProcessor"]
WORKER_CAPACITY = 4


@dataclass
class UmsStack:
    """A configured deployment; `servers` and `workers` are started and stopped by the benchmarks."""

    group: Children
    env: dict[str, str]
    token: str = ""
    servers: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def base_urls(self) -> list[str]:
        return [url for url, _ in self.servers]

    def manage(self, *args: str) -> str:
        return run_checked([PYTHON, "manage.py", *args], self.env)

    def dbtool(self, *args: str, timeout: float = 600) -> str:
        return run_checked([PYTHON, "-m", "benchmarks.dbtool", *args], self.env, timeout=timeout)

    def start_servers(
        self, count: int, *, module: str = "ums_site.server", env: dict[str, str] | None = None
    ) -> None:
        """Daphne instances (`python -m ums_site.server`, Daphne on uvloop); `module` may be a
        wrapper taking Daphne's arguments (the profiler)."""
        for index in range(count):
            port = free_port()
            # Each its own instance id: one shared would make each take the other's sessions
            # for its own (`sessions_end_orphaned`).
            instance_env = {**self.env, "UMS_INSTANCE_ID": f"bench-{index}", **(env or {})}
            command = [PYTHON, "-m", module, "-b", HOST, "-p", str(port), "ums_site.asgi:application"]
            child = self.group.start(f"daphne-{index}", command, instance_env)
            wait_for_port(port, child)
            self.servers.append((f"http://{HOST}:{port}", child))

    def start_workers(self, count: int, capacity: int = WORKER_CAPACITY) -> None:
        """Starts `count` workers, spread over the instances, and waits until all have a session."""
        for index in range(count):
            server = self.base_urls[index % len(self.servers)]
            env = {**self.env, "UMS_WORKER_TOKEN": self.token}
            command = [
                PYTHON, "-m", "ums_worker", "--server", server, "--name", f"bench-{index}",
                "--capacity", str(capacity), "--log-level", "WARNING", *WORKER_TARGET,
            ]  # fmt: skip
            self.workers.append(self.group.start(f"worker-{len(self.workers)}", command, env))
        self.dbtool("wait-sessions", str(len(self.workers)))

    def stop_workers(self) -> None:
        for worker in self.workers:
            self.group.stop(worker)
        self.workers.clear()
        # The server ends the sessions when the sockets close; the next run starts from none.
        self.dbtool("wait-sessions", "0")


def _server_env(workdir: Path, database_url: str, redis_url: str | None, name: str) -> dict[str, str]:
    # The whole environment of the server processes: a REDIS_URL of the caller must not leak in.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "ums_site.settings",
        "SECRET_KEY": "benchmark-only-secret-key",
        "DEBUG": "0",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "UMS_LOG_LEVEL": "WARNING",
        "UMS_MEDIA_ROOT": str(workdir / "media"),
        "DATABASE_URL": database_url,
        # A prefix of this run's own: nothing else on the Redis database is touched.
        "UMS_CHANNEL_PREFIX": f"{name}-{os.getpid()}",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextlib.contextmanager
def ums_stack(
    group: Children, workdir: Path, *, backend: str, name: str = POSTGRES_DATABASE
) -> Iterator[UmsStack]:
    """A migrated database with a worker token; `backend` is "sqlite" or "postgres". Stacks
    with different names may run at once (their own PostgreSQL database, their own channels)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        database_url, redis_url = f"sqlite:///{workdir / 'ums.sqlite3'}", None
    else:
        database_url, redis_url = f"postgres://postgres@127.0.0.1:5432/{name}", REDIS_URL
    env = _server_env(workdir / backend, database_url, redis_url, name)
    if backend == "postgres":
        _postgres_recreate(name)
    stack = UmsStack(group=group, env=env)
    try:
        stack.manage("migrate", "--verbosity", "0")
        stack.token = stack.manage("create_worker_token", "bench").strip().splitlines()[-1]
        yield stack
    finally:
        for worker in stack.workers:
            group.stop(worker)
        for _, server in stack.servers:
            group.stop(server)
        if backend == "postgres":
            _postgres_drop(name)


def _postgres_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as db:
        db.execute(statement)


def _postgres_recreate(name: str) -> None:
    _postgres_drop(name)
    _postgres_admin(f'CREATE DATABASE "{name}"')


def _postgres_drop(name: str) -> None:
    _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
