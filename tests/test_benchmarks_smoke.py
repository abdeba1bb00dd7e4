"""The benchmark harness runs (tiny counts; no timing is asserted) and judges targets right."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import report_markdown, targets

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.e2e
def test_a_quick_run_writes_results_and_a_report(tmp_path):
    doc = tmp_path / "performance.md"
    command = [sys.executable, "-m", "benchmarks", "--quick", "--sections", "ws_echo", "ums_sqlite",
               "stored_sqlite", "--results-dir", str(tmp_path), "--doc", str(doc)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (results_file,) = tmp_path.glob("*.json")
    results = json.loads(results_file.read_text())["results"]
    assert results["ws_echo"]["n"] > 0
    assert results["ums_sqlite"]["sync_latency"]["n"] > 0
    assert results["ums_sqlite"]["throughput_by_workers"]["1"]["async_burst"]["errors"] == 0
    alongside = results["ums_sqlite"]["pygeoapi_alongside"]  # measured in turn with ours
    assert alongside["sync_latency"]["n"] == results["ums_sqlite"]["sync_latency"]["n"]
    assert alongside["async_burst"]["errors"] == 0
    assert list(results["stored_sqlite"]["by_stored_jobs"]) == ["1", "100", "200"]
    assert results["stored_sqlite"]["by_stored_jobs"]["200"]["sync_execute"]["errors"] == 0
    assert "## Targets" in doc.read_text()


def _latency(median: float) -> dict:
    return {"n": 1, "median_ms": median, "p95_ms": median, "mean_ms": median}


def test_targets_are_ratios_of_figures_of_the_same_run():
    results = {
        "pygeoapi": {
            "sync_latency": _latency(6.0),
            "async_latency": _latency(40.0),
            "async_burst": {"jobs_per_s": 20},
        },
        "ums_sqlite": {
            "sync_latency": _latency(3.0),
            "async_latency": _latency(20.0),
            "throughput_by_workers": {"1": {"async_burst": {"jobs_per_s": 100}}},
        },
        "idle_workers": {"workers": 1000, "connected": 1000, "still_open_after_hold": 999},
    }
    judged = {row["target"]: (row["ratio"], row["met"]) for row in targets(results)}
    assert judged["sync execute median vs pygeoapi in-process sync (SQLite, 1 instance)"] == (0.5, True)
    assert judged["pygeoapi async latency / ours (SQLite, 1 instance)"] == (2.0, False)
    assert judged["async jobs/s vs pygeoapi async (SQLite, 1 instance, 1 worker(s))"] == (5.0, True)
    assert judged["idle workers connected and open on one instance (of 1000)"] == (1.0, False)


def test_a_setup_is_compared_with_the_pygeoapi_measured_alongside_it():
    results = {
        "pygeoapi": {"sync_latency": _latency(6.0), "async_latency": _latency(40.0)},
        "ums_sqlite": {
            "sync_latency": _latency(3.0),
            "async_latency": _latency(20.0),
            "pygeoapi_alongside": {"sync_latency": _latency(2.0), "async_latency": _latency(100.0)},
        },
    }
    judged = {row["target"]: row["ratio"] for row in targets(results)}
    assert judged["sync execute median vs pygeoapi in-process sync (SQLite, 1 instance)"] == 1.5
    assert judged["pygeoapi async latency / ours (SQLite, 1 instance)"] == 5.0


def test_each_burst_is_compared_with_the_pygeoapi_burst_just_before_it():
    alongside = {
        "sync_latency": _latency(6.0),
        "async_latency": _latency(40.0),
        "async_burst": {"jobs_per_s": 20},
    }
    results = {
        "ums_sqlite": {
            "sync_latency": _latency(3.0),
            "async_latency": _latency(20.0),
            "pygeoapi_alongside": alongside,
            "throughput_by_workers": {
                "1": {"async_burst": {"jobs_per_s": 100}, "pygeoapi_async_burst": {"jobs_per_s": 20}},
                "2": {"async_burst": {"jobs_per_s": 100}, "pygeoapi_async_burst": {"jobs_per_s": 10}},
            },
        },
    }
    judged = {row["target"]: row["ratio"] for row in targets(results)}
    assert judged["async jobs/s vs pygeoapi async (SQLite, 1 instance, 1 worker(s))"] == 5.0
    assert judged["async jobs/s vs pygeoapi async (SQLite, 1 instance, 2 worker(s))"] == 10.0
    report = report_markdown(_document(results))
    assert "| ours, SQLite, 1 instance | 2 | – | 100 | 10 | – | 10× |" in report


def _document(results: dict) -> dict:
    return {
        "started": "2026-01-01T00:00:00+00:00",
        "seconds": 1.0,
        "quick": True,
        "machine": {"cores": 2, "cpu": "x", "memory_gib": 1, "load_average_at_start": [0, 0, 0],
                    "os": "linux", "python": "3.12", "packages": {"Django": "6.1"}, "git_commit": "abc"},
        "results": results,
        "targets": [],
    }  # fmt: skip


def test_the_report_renders_a_run_with_a_failed_section():
    document = _document({"ws_echo": {"error": "RuntimeError: boom"}})
    assert "ws_echo: `RuntimeError: boom`" in report_markdown(document)
