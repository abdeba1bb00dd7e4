"""Facts about the machine and software a run measured on, recorded with its figures."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

from benchmarks.harness import ROOT

PACKAGES = [
    "Django", "channels", "daphne", "uvloop", "channels-redis", "djangorestframework", "psycopg", "pygeoapi",
    "gunicorn", "TinyDB", "websockets", "httpx", "ums-worker",
]  # fmt: skip


def machine_facts() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "shared_machine": True,
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None
