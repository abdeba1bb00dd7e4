"""The baseline: pygeoapi (pip) serving its in-process echo process, TinyDB manager, gunicorn."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import HOST, PYTHON, Children, free_port, run_checked, wait_for_port

# gunicorn's sync workers, as many as the machine has cores (pygeoapi's docs suggest gunicorn).
GUNICORN_WORKERS = 2

CONFIG = """\
server:
  bind: {{host: {host}, port: {port}}}
  url: http://{host}:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  cors: false
  pretty_print: false
  limits: {{default_items: 10, max_items: 100}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: OSM}}
  manager:
    name: TinyDB
    connection: {workdir}/pygeoapi-jobs.db
    output_dir: {workdir}/pygeoapi-outputs
logging:
  level: ERROR
metadata:
  identification:
    title: pygeoapi baseline
    description: pygeoapi echo baseline for the Urban Model Server benchmarks
    keywords: [benchmark]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: http://{host}:{port}
  license: {{name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}}
  provider: {{name: benchmark, url: "http://{host}:{port}"}}
  contact: {{name: benchmark}}
resources:
  echo:
    type: process
    processor:
      name: Echo
"""


@dataclass
class PygeoapiServer:
    base_url: str
    pid: int


def pygeoapi_start(group: Children, workdir: Path) -> PygeoapiServer:
    port = free_port()
    (workdir / "pygeoapi-outputs").mkdir(parents=True, exist_ok=True)
    config = workdir / "pygeoapi-config.yml"
    config.write_text(CONFIG.format(host=HOST, port=port, workdir=workdir))
    openapi = workdir / "pygeoapi-openapi.yml"
    run_checked(
        [
            str(Path(PYTHON).parent / "pygeoapi"),
            "openapi",
            "generate",
            str(config),
            "--output-file",
            str(openapi),
        ]
    )
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    command = [
        PYTHON, "-m", "gunicorn", "--workers", str(GUNICORN_WORKERS), "--bind", f"{HOST}:{port}",
        "--log-level", "warning", "pygeoapi.flask_app:APP",
    ]  # fmt: skip
    child = group.start("pygeoapi", command, env)
    wait_for_port(port, child)
    return PygeoapiServer(base_url=f"http://{HOST}:{port}", pid=child.pid)
