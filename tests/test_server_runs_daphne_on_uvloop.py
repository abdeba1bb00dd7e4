"""`python -m ums_site.server` runs Daphne's command line on uvloop's event loop, on asyncio's
own with UMS_EVENT_LOOP=asyncio, and refuses any other value before it listens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry.models import WorkerSession
from registry.services import credential_create
from tests.live import DaphneServer, WorkerProcess, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
# What the launcher does before Daphne's command line, then Daphne's own import, which installs
# a reactor of its own unless it finds one.
PROBE = """
import os
from ums_site.server import reactor_install
reactor_install(os.environ.get("UMS_EVENT_LOOP"))
import daphne.server
from twisted.internet import reactor
print(type(reactor._asyncioEventloop).__module__)
"""


def run(command: list[str], **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "UMS_EVENT_LOOP"} | environment
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_daphne_runs_on_uvloop_by_default():
    probe = run([sys.executable, "-c", PROBE])
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "uvloop"


def test_daphne_runs_on_asyncios_loop_when_asked():
    probe = run([sys.executable, "-c", PROBE], UMS_EVENT_LOOP="asyncio")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().startswith("asyncio.")


def test_it_refuses_an_unknown_event_loop_before_listening():
    port = free_port()
    command = [sys.executable, "-m", "ums_site.server", "-b", "127.0.0.1", "-p", str(port), "x:y"]
    server = run(command, UMS_EVENT_LOOP="tokio")
    assert server.returncode == 1
    assert "UMS_EVENT_LOOP must be one of uvloop, asyncio, not 'tokio'" in server.stderr


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the process's mappings in /proc")
def test_the_instance_and_its_worker_run_with_uvloop_loaded():
    _, token = credential_create(name="loop")
    with DaphneServer() as server, WorkerProcess(server, token, "ums_worker.demo:worker") as worker:
        wait_until(lambda: _sessions_open() == 1, 30, "the worker's session")
        assert "/uvloop/" in Path(f"/proc/{server.pid}/maps").read_text()
        assert "/uvloop/" in Path(f"/proc/{worker.pid}/maps").read_text()


def _sessions_open() -> int:
    return WorkerSession.objects.filter(disconnected_at__isnull=True).count()
