"""The example workers in examples/: the walking-catchments model and the Node.js worker."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sdk_ogc_schema import ogc_description_errors

from ums_worker.context import JobContext
from ums_worker.execution import job_execute

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytest.importorskip("shapely")


def example_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def request() -> dict[str, Any]:
    return json.loads((EXAMPLES / "data" / "walking-catchments-request.json").read_text())["inputs"]


async def execute(inputs: dict[str, Any], cancel_after: int | None = None) -> tuple[Any, list[dict]]:
    module = example_module("walking_catchments")
    process = module.worker.processes["walking-catchments"]
    frames: list[dict[str, Any]] = []
    ctx: JobContext

    def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)
        if cancel_after is not None and len(frames) >= cancel_after:
            ctx.cancel()

    loop = asyncio.get_running_loop()
    ctx = JobContext(job="j", process=process.id, attempt=1, outputs={}, emit=emit, loop=loop)
    if cancel_after == 0:
        ctx.cancel()

    async def no_upload(*args: Any) -> str:
        raise AssertionError("nothing to upload")

    final = await job_execute(process, inputs, ctx, upload=no_upload, upload_threshold=10**7)
    await asyncio.sleep(0.05)  # progress from the handler's thread arrives through the loop
    return final, frames


def test_walking_catchments_description_is_valid_ogc() -> None:
    module = example_module("walking_catchments")
    assert ogc_description_errors(module.worker.processes["walking-catchments"].description) == []


async def test_walking_catchments_computes_coverage_with_progress() -> None:
    final, frames = await execute(request())
    assert final["type"] == "job.succeeded", final
    catchments = final["outputs"]["catchments"]
    assert catchments["mediaType"] == "application/geo+json"
    features = catchments["value"]["features"]
    assert features[0]["properties"]["facility"] == "Ecole Jean Macé"
    assert all(f["geometry"]["type"] == "Polygon" for f in features)
    # 5 min at 4.8 km/h with a detour factor of 1.3: 400 m / 1.3
    assert features[0]["properties"]["radius_m"] == pytest.approx(307.7, abs=0.1)
    assert features[0]["properties"]["area_km2"] == pytest.approx(3.1416 * 0.3077**2, rel=0.01)
    summary = final["outputs"]["summary"]["value"]
    assert summary["facilities"] == 4
    assert summary["homes"] == 120
    assert 0 < summary["homes_covered"] < 120
    assert 0 < summary["population_share"] < 1
    assert [f["type"] for f in frames] == ["job.progress"] * 5
    assert frames[-1]["progress"] == 95


async def test_walking_catchments_defaults_and_no_homes() -> None:
    inputs = request()
    final, _ = await execute({"facilities": inputs["facilities"]})
    summary = final["outputs"]["summary"]["value"]
    assert summary["radius_m"] == pytest.approx(615.4, abs=0.1)  # 10 min, 4.8 km/h, 1.3
    assert summary["population_share"] is None


async def test_walking_catchments_refuses_bad_geojson() -> None:
    final, _ = await execute({"facilities": {"type": "Feature"}})
    assert final["type"] == "job.failed"
    assert "FeatureCollection" in final["error"]["detail"]


async def test_walking_catchments_stops_on_cancel() -> None:
    # Cancelled before it starts: a cancel racing the handler's thread would be nondeterministic,
    # since the thread may run ahead of the loop that delivers its progress.
    final, frames = await execute(request(), cancel_after=0)
    assert final is None
    assert frames == []


JS_WORKER = EXAMPLES / "js-worker"


def test_js_worker_protocol_tests_pass_when_node_is_present() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed")
    if not (JS_WORKER / "node_modules" / "ws").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_WORKER, check=True, timeout=300)
    result = subprocess.run(["npm", "test"], cwd=JS_WORKER, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
