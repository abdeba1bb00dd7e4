"""Targets of issue 7 as ratios from one run, and docs/performance.md rendered from the results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Results = dict[str, Any]


def _get(results: Results, *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return numerator / denominator


def _target(
    name: str, ratio: float | None, *, at_most: float | None = None, at_least: float | None = None
) -> dict:
    met = None
    if ratio is not None:
        met = (at_most is None or ratio <= at_most) and (at_least is None or ratio >= at_least)
    goal = f"≤ {at_most:g}" if at_most is not None else f"≥ {at_least:g}"
    return {"target": name, "ratio": None if ratio is None else round(ratio, 2), "goal": goal, "met": met}


PYGEOAPI = "pygeoapi in-process (gunicorn, TinyDB)"
UMS_SETUPS = (("ums_sqlite", "SQLite, 1 instance"), ("ums_postgres", "PostgreSQL + Redis, 2 instances"))
STORED_REQUESTS = ("job_list", "job_status", "sync_execute")
STORED_SETUPS = (("stored_sqlite", "SQLite"), ("stored_postgres", "PostgreSQL"))


def _median(section: Any, kind: str) -> float | None:
    return _get(section, kind, "median_ms")


def _job_targets(pyg: Results, ums: Results, label: str) -> list[dict[str, Any]]:
    rows = [
        _target(
            f"sync execute median vs pygeoapi in-process sync ({label})",
            _ratio(_median(ums, "sync_latency"), _median(pyg, "sync_latency")),
            at_most=1.0,
        ),
        _target(
            f"pygeoapi async latency / ours ({label})",
            _ratio(_median(pyg, "async_latency"), _median(ums, "async_latency")),
            at_least=4.0,
        ),
    ]
    for workers, figures in (ums.get("throughput_by_workers") or {}).items():
        ratio = _ratio(_get(figures, "async_burst", "jobs_per_s"), _pygeoapi_burst(figures, pyg))
        rows.append(
            _target(f"async jobs/s vs pygeoapi async ({label}, {workers} worker(s))", ratio, at_least=4.0)
        )
    return rows


def _pygeoapi_burst(figures: Results, pyg: Results) -> float | None:
    """pygeoapi's async jobs/s to compare a burst of ours with: the burst right before it,
    where the run measured one (earlier runs: one per section)."""
    return _get(figures, "pygeoapi_async_burst", "jobs_per_s") or _get(pyg, "async_burst", "jobs_per_s")


def _stored_targets(by_stored: Results, label: str) -> list[dict[str, Any]]:
    if len(by_stored) < 3:
        return []
    (_, page_count, many_count) = list(by_stored)
    page, many = by_stored[page_count], by_stored[many_count]
    return [
        _target(
            f"{request} at {int(many_count):,} stored jobs / at {int(page_count):,} ({label})",
            _ratio(_median(many, request), _median(page, request)),
            at_most=1.1,
        )
        for request in STORED_REQUESTS
    ]


def targets(results: Results) -> list[dict[str, Any]]:
    """Each target of the issue as a ratio of two figures of this run."""
    rows = []
    for key, label in UMS_SETUPS:
        ums = results.get(key, {})
        # pygeoapi measured alongside ours (in turn) where the run did, else its own section.
        rows += _job_targets(ums.get("pygeoapi_alongside") or results.get("pygeoapi", {}), ums, label)
    for key, label in STORED_SETUPS:
        rows += _stored_targets(_get(results, key, "by_stored_jobs") or {}, label)
    idle = results.get("idle_workers", {})
    if "workers" in idle:
        open_ = min(idle["connected"], idle["still_open_after_hold"])
        name = f"idle workers connected and open on one instance (of {idle['workers']})"
        rows.append(_target(name, _ratio(open_, idle["workers"]), at_least=1.0))
    return rows


# --- docs/performance.md ------------------------------------------------------------------

HERE = Path(__file__).resolve().parent
# Runs from before each round of hot-path fixes, oldest first, kept for the before/after
# tables; and the notes on the fixes.
REFERENCES = (
    (HERE / "reference" / "before-fixes.json", "before the first fixes (a loaded machine)"),
    (HERE / "reference" / "before-db-threads.json", "before the database threads (a quiet machine)"),
    (
        HERE / "reference" / "before-compiled-statements.json",
        "before the pooled request threads and compiled statements",
    ),
    (
        HERE / "reference" / "before-optional-start.json",
        "before the optional start report and the compiled queue",
    ),
    (
        HERE / "reference" / "before-merged-statements.json",
        "before the merged statements and the in-process channel",
    ),
)
NOTES = HERE / "profile_notes.md"


def _ms(summary: dict | None) -> str:
    if not summary or "median_ms" not in summary:
        return "–"
    return f"{summary['median_ms']:.2f} / {summary['p95_ms']:.2f}"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{round(value, 2):g}×"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def _targets_section(document: dict) -> list[str]:
    mark = {True: "met", False: "**not met**", None: "not measured"}
    rows = [[t["target"], _x(t["ratio"]), t["goal"], mark[t["met"]]] for t in document["targets"]]
    return [
        "## Targets (issue 7), as ratios from this run",
        "",
        *_table(["target", "ratio", "goal", "status"], rows),
    ]


def _alongside(results: Results, section: Results) -> Results:
    """The pygeoapi a setup's ratios compare with: measured alongside it, else on its own."""
    return section.get("pygeoapi_alongside") or results.get("pygeoapi", {})


def _latency_rows(label: str, section: Results, floor: float | None, pyg_sync: float | None) -> list[list]:
    rows = []
    for mode in ("sync", "async"):
        summary = _get(section, f"{mode}_latency")
        median = (summary or {}).get("median_ms")
        rows.append(
            [
                f"{label}: {mode} execute",
                _ms(summary),
                _x(_ratio(median, floor)),
                _x(_ratio(median, pyg_sync)),
            ]
        )
    return rows


def _latency_section(results: Results) -> list[str]:
    floor = _get(results, "ws_echo", "median_ms")
    pyg = results.get("pygeoapi", {})
    rows = [["bare Daphne WebSocket echo round trip (floor)", _ms(results.get("ws_echo")), "1×", "–"]]
    rows += _latency_rows(f"{PYGEOAPI}, on its own", pyg, floor, _get(pyg, "sync_latency", "median_ms"))
    for key, label in UMS_SETUPS:
        section = results.get(key, {})
        reference = _alongside(results, section)
        pyg_sync = _get(reference, "sync_latency", "median_ms")
        if "pygeoapi_alongside" in section:
            rows += _latency_rows(f"{PYGEOAPI}, in turn with ours ({label})", reference, floor, pyg_sync)
        rows += _latency_rows(f"ours, {label}", section, floor, pyg_sync)
    return [
        "## Latency of one echo job (one client, one job at a time)",
        "",
        "Sync: `POST /processes/echo/execution` until the raw result. Async: `Prefer: respond-async`,",
        "then `GET` of the status every 5 ms until `successful`. Milliseconds, median / p95. Each",
        "setup of ours is measured in turn with a pygeoapi started alongside (one job on each, then",
        "the next), and compared with it: the machine is shared, and its speed changed by up to half",
        "between one section of a run and the next. With two instances, the jobs go to each in turn,",
        "as behind a load balancer: half of them through the instance without the worker's socket.",
        "",
        *_table(["what", "median / p95 ms", "vs floor", "vs pygeoapi sync"], rows),
    ]


def _throughput_section(results: Results) -> list[str]:
    pyg = results.get("pygeoapi", {})
    pyg_sync = _get(pyg, "sync_throughput", "jobs_per_s")
    pyg_async = _get(pyg, "async_burst", "jobs_per_s")
    rows = [[f"{PYGEOAPI}, on its own", "–", pyg_sync or "–", pyg_async or "–", "–", "1×", "1×"]]
    for key, label in UMS_SETUPS:
        section = results.get(key, {})
        reference = _alongside(results, section)
        for workers, figures in (_get(section, "throughput_by_workers") or {}).items():
            sync = _get(figures, "sync_throughput", "jobs_per_s")
            burst = _get(figures, "async_burst", "jobs_per_s")
            ref_async = _pygeoapi_burst(figures, reference)
            errors = (_get(figures, "sync_throughput", "errors") or 0) + (
                _get(figures, "async_burst", "errors") or 0
            )
            name = f"ours, {label}" + (f" ({errors} errors)" if errors else "")
            rows.append([name, workers, sync or "–", burst or "–", ref_async or "–",
                         _x(_ratio(sync, pyg_sync)), _x(_ratio(burst, ref_async))])  # fmt: skip
    return [
        "## Throughput, jobs/s",
        "",
        "Sync: 16 clients, each executing synchronously again as soon as it has its result, for a fixed",
        "time. Async: 16 clients submit a burst of asynchronous jobs; jobs/s until the last one is",
        "`successful` (polled every 5 ms). Workers have capacity 4 each. Sync is compared with",
        "pygeoapi on its own; each async burst with a burst on a pygeoapi alongside, just before it.",
        "",
        *_table(
            [
                "server",
                "workers",
                "sync jobs/s",
                "async jobs/s",
                "pygeoapi async jobs/s just before",
                "sync vs pygeoapi",
                "async vs pygeoapi",
            ],
            rows,
        ),  # fmt: skip
    ]


def _stored_section(results: Results) -> list[str]:
    rows = []
    for key, label in STORED_SETUPS:
        for stored, figures in (_get(results, key, "by_stored_jobs") or {}).items():
            rows.append(
                [label, f"{int(stored):,}", *(_ms(figures.get(request)) for request in STORED_REQUESTS)]
            )
    return [
        "## Requests with many stored jobs",
        "",
        "Finished jobs of the echo process inserted in bulk (not through the API). One client;",
        "milliseconds, median / p95. The target compares 100,000 stored jobs with one full page",
        "(100), so both lists are the same size; the synchronous execution is dispatched from a",
        "queue among them (the executions measured add their own jobs to each store).",
        "",
        *_table(["database", "stored jobs", "GET /jobs?limit=100", "GET /jobs/{id}", "sync execute"], rows),
    ]


def _idle_section(results: Results) -> list[str]:
    idle = results.get("idle_workers") or {}
    if "workers" not in idle:
        return []
    rss = f"{idle['server_rss_before_mib']} → {idle['server_rss_after_mib']}"
    counts = [idle["workers"], idle["connected"], idle["still_open_after_hold"], idle["connect_seconds"]]
    rows = [[*counts, rss, idle["kib_per_worker"]]]
    return [
        "## Idle workers on one instance (SQLite, in-memory channel layer)",
        "",
        *_table(
            ["workers", "connected", "open after hold", "connect s", "server RSS MiB", "KiB per worker"], rows
        ),
    ]


def _machine_section(document: dict) -> list[str]:
    machine = document["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items() if version)
    load = machine["load_average_at_start"]
    busy = "busy" if load[0] >= machine["cores"] / 2 else "quiet"
    return [
        "## Machine",
        "",
        f"Figures are from a shared {machine['cores']}-core machine ({machine['cpu']}, "
        f"{machine['memory_gib']} GiB), {busy} when the run started (load average {load}); other",
        "work on it makes figures noisy: compare ratios within one run, not absolute figures across",
        "runs. Client, server, workers, PostgreSQL and Redis all share the cores.",
        "",
        f"Python {machine['python']}, {machine['os']}; {packages}; commit {machine['git_commit']}.",
        "",
    ]


PROFILE_COUNTS = ("sql statements", "connections opened", "sync hops (SyncToAsync)", "threads started")
PROFILE_SETUPS = (("profile_sqlite", "SQLite"), ("profile_postgres", "PostgreSQL + Redis"))


def _profile_rows(runs: list[Results]) -> list[list[Any]]:
    rows = []
    for key, label in PROFILE_SETUPS:
        for unit in ("per_job", "per_hello", "per_heartbeat"):
            for name in (*PROFILE_COUNTS, "server CPU ms"):
                path = (
                    (key, unit, "server_cpu_ms") if name == "server CPU ms" else (key, unit, "counts", name)
                )
                figures = [_get(run, *path) for run in runs]
                if any(figure is not None for figure in figures):
                    rows.append([label, unit.replace("_", " "), name, *map(_n, figures)])
    return rows


def _n(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _felt_rows(runs: list[Results]) -> list[list[Any]]:
    """The figures users feel, in the reference runs and in this run."""
    figures = [
        ("pygeoapi sync execute median ms", ("pygeoapi", "sync_latency", "median_ms")),
        ("sync execute median ms, SQLite", ("ums_sqlite", "sync_latency", "median_ms")),
        ("async execute median ms, SQLite", ("ums_sqlite", "async_latency", "median_ms")),
        ("sync execute median ms, PostgreSQL + Redis", ("ums_postgres", "sync_latency", "median_ms")),
        ("async execute median ms, PostgreSQL + Redis", ("ums_postgres", "async_latency", "median_ms")),
    ]
    for key, label in UMS_SETUPS:
        for workers in ("1", "4"):
            for kind, name in (("sync_throughput", "sync"), ("async_burst", "async")):
                path = (key, "throughput_by_workers", workers, kind, "jobs_per_s")
                figures.append((f"{name} jobs/s, {label}, {workers} worker(s)", path))
    figures += [
        ("GET /jobs/{id} median ms, 100,000 jobs, SQLite",
         ("stored_sqlite", "by_stored_jobs", "100000", "job_status", "median_ms")),
        ("GET /jobs/{id} median ms, 100,000 jobs, PostgreSQL",
         ("stored_postgres", "by_stored_jobs", "100000", "job_status", "median_ms")),
        ("seconds to connect 1,000 idle workers", ("idle_workers", "connect_seconds")),
        ("idle workers still connected after the hold", ("idle_workers", "still_open_after_hold")),
    ]  # fmt: skip
    return [[name, *(_n(_get(run, *path)) for run in runs)] for name, path in figures]


def _profile_section(document: dict) -> list[str]:
    now = document["results"]
    if not any(key in now for key, _ in PROFILE_SETUPS):
        return []
    references = [(path, label, json.loads(path.read_text())) for path, label in REFERENCES if path.exists()]
    runs = [reference["results"] for _, _, reference in references] + [now]
    header = [label for _, label, _ in references] + ["now"]
    lines = [
        "## Profile of the hot path, before and after the fixes",
        "",
        "One client executes the echo synchronously again and again against one Daphne run under",
        "`benchmarks.profiled_server`, which counts, in every thread of the server, the SQL",
        "statements, database connections opened, sync↔async thread hops (asgiref's `SyncToAsync`",
        "and the database threads'), threads started and CPU time; the same for workers connecting",
        "(hello → welcome) and for",
        "one heartbeat of each. The earlier runs, kept in `benchmarks/reference/`, ran the code",
        "before each round of fixes below:",
        "",
        *[
            f"- *{label}*: `{path.relative_to(HERE.parent)}`, {reference.get('started', '?')}, "
            f"commit {reference.get('machine', {}).get('git_commit', '?')}, load average at start "
            f"{reference.get('machine', {}).get('load_average_at_start', '?')}."
            for path, label, reference in references
        ],
        "",
        *_table(["database", "per", "what", *header], _profile_rows(runs)),
        "What users feel, in the same runs (absolute figures move with the machine's load; pygeoapi's",
        "line shows how much):",
        "",
        *_table(["figure", *header], _felt_rows(runs)),
    ]
    statements = _get(now, "profile_sqlite", "per_job", "statements") or []
    if statements:
        lines += ["SQL statements of one synchronous job now (SQLite), most frequent first:", "", "```"]
        lines += [f"{count:>4g}  {sql[:100]}" for sql, count in statements[:12]] + ["```", ""]
    return lines


def report_markdown(document: dict) -> str:
    errors = {name: section["error"] for name, section in document["results"].items() if "error" in section}
    lines = [
        "# Performance",
        "",
        "Generated by `make bench` (`python -m benchmarks`) on "
        f"{document['started']} in {document['seconds']:.0f} s"
        + (" — **quick run: tiny counts, figures meaningless**" if document["quick"] else "")
        + ". Everything measured was started by the run on 127.0.0.1; full figures are in",
        "`benchmarks/results/<timestamp>.json`. Both servers run pygeoapi's own echo plugin:",
        "pygeoapi in its gunicorn process, ours in a remote worker (the `ums_worker` SDK) over WebSocket.",
        "",
        *_targets_section(document),
        *_latency_section(document["results"]),
        *_throughput_section(document["results"]),
        *_stored_section(document["results"]),
        *_idle_section(document["results"]),
    ]
    if errors:
        lines += [
            "## Sections that failed",
            "",
            *[f"- {name}: `{error}`" for name, error in errors.items()],
            "",
        ]
    lines += _profile_section(document)
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    lines += _machine_section(document)
    return "\n".join(lines)


def report_write(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_markdown(document))
