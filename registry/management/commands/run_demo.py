"""`manage.py run_demo`: the server and a demo worker, for `make run`. Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from registry.models import WorkerCredential
from registry.services import credential_create, credential_token_issue

DEMO_CREDENTIAL = "demo"
DEMO_WORKER = [
    "ums_worker.demo:worker",
    # pygeoapi's echo under another id: the demo worker has an echo of its own.
    "--pygeoapi",
    "pygeoapi.process.echo.EchoProcessor=pygeoapi-echo",
    "--pygeoapi",
    "pygeoapi.process.hello_world.HelloWorldProcessor",
]


class Command(BaseCommand):
    help = "Migrates, issues a demo worker token, and runs Daphne with a demo worker until Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        token = self._demo_token()
        base = f"http://{host}:{port}"
        children = [self._start_server(host, port)]
        try:
            _wait_for_port(host, port, children[0])
            children.append(self._start_worker(base, token))
            self._print_urls(base)
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            raise CommandError("a demo process stopped; see its output above")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping.")
        finally:
            _stop(children)

    def _demo_token(self) -> str:
        credential = WorkerCredential.objects.filter(name=DEMO_CREDENTIAL).first()
        if credential is None:
            return credential_create(name=DEMO_CREDENTIAL)[1]
        return credential_token_issue(credential)

    def _start_server(self, host: str, port: int) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "ums_site.server",
            "-b",
            host,
            "-p",
            str(port),
            settings.ASGI_APPLICATION.replace(".application", ":application"),
        ]
        return subprocess.Popen(command)

    def _start_worker(self, base: str, token: str) -> subprocess.Popen:
        # The token goes through the environment, not the command line others can read.
        env = {**os.environ, "UMS_SERVER_URL": base, "UMS_WORKER_TOKEN": token}
        return subprocess.Popen([sys.executable, "-m", "ums_worker", "--name", "demo", *DEMO_WORKER], env=env)

    def _print_urls(self, base: str) -> None:
        self.stdout.write(
            "\nUrban Model Server is running:\n"
            f"  landing page    {base}/\n"
            f"  processes       {base}/processes\n"
            f"  jobs            {base}/jobs\n"
            f"  API docs        {base}/api.html\n"
            f"  admin           {base}/admin/  (python manage.py createsuperuser first)\n"
            "Try:\n"
            f"  curl -X POST {base}/processes/echo/execution -H 'Content-Type: application/json' "
            '-d \'{"inputs": {"message": "hello"}}\'\n'
            "Press Ctrl-C to stop.\n"
        )


def _wait_for_port(host: str, port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"the server did not start (is port {port} free?)")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"the server did not open port {port} within {timeout:g} s")


def _stop(children: list[subprocess.Popen]) -> None:
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
