"""`python -m benchmarks [--quick] [--sections ...]`: runs the benchmarks, writes JSON and markdown."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import scenarios
from benchmarks.harness import ROOT, children
from benchmarks.machine import machine_facts
from benchmarks.profile import profile_hot_path
from benchmarks.report import report_write, targets

RESULTS_DIR = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "performance.md"

SECTIONS: dict[str, Callable[[scenarios.Run], dict[str, Any]]] = {
    "ws_echo": scenarios.ws_echo,
    "pygeoapi": scenarios.pygeoapi,
    "ums_sqlite": partial(scenarios.ums_jobs, backend="sqlite", instances=1),
    "ums_postgres": partial(scenarios.ums_jobs, backend="postgres", instances=2),
    "stored_sqlite": partial(scenarios.stored_jobs, backend="sqlite"),
    "stored_postgres": partial(scenarios.stored_jobs, backend="postgres"),
    "idle_workers": scenarios.idle,
    "profile_sqlite": partial(profile_hot_path, backend="sqlite"),
    "profile_postgres": partial(profile_hot_path, backend="postgres"),
}


def _stop(signum: int, frame: object) -> None:
    # Also for SIGINT: asyncio.run's own handler only cancels the running loop's main task,
    # which an HTTP client waiting inside it may swallow; an exception always unwinds.
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks the harness, not the speed")
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--doc", default=str(DOC), help="markdown file to regenerate ('' for none)")
    parser.add_argument("--keep", type=Path, help="keep databases and logs in this new directory")
    return parser.parse_args(argv)


def _workdir(keep: Path | None) -> contextlib.AbstractContextManager[str]:
    if keep is None:
        return tempfile.TemporaryDirectory(prefix="ums-bench-")
    keep.mkdir(parents=True)
    return contextlib.nullcontext(str(keep))


def run_sections(names: list[str], sizes: scenarios.Sizes, keep: Path | None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with _workdir(keep) as workdir, children(Path(workdir)) as group:
        for name in names:
            section_dir = Path(workdir) / name
            section_dir.mkdir()
            started = time.monotonic()
            print(f"[bench] {name} ...", flush=True)
            try:
                results[name] = SECTIONS[name](scenarios.Run(group=group, workdir=section_dir, sizes=sizes))
            except Exception as error:  # one broken section must not lose the others' figures
                traceback.print_exc()
                results[name] = {
                    "error": f"{type(error).__name__}: {error}",
                    "logs": _log_tails(Path(workdir)),
                }
            finally:
                group.stop_all()
            print(f"[bench] {name} done in {time.monotonic() - started:.0f} s", flush=True)
    return results


def _log_tails(workdir: Path) -> dict[str, str]:
    return {log.name: log.read_text(errors="replace")[-1500:] for log in workdir.glob("*.log")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sizes = scenarios.QUICK if args.quick else scenarios.FULL
    started = datetime.now(UTC)
    document: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine_facts(),
        "sizes": vars(sizes),
    }
    document["results"] = run_sections(args.sections, sizes, args.keep)
    document["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    document["targets"] = targets(document["results"])
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path = args.results_dir / f"{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"[bench] results: {path}")
    if args.doc:
        report_write(document, Path(args.doc))
        print(f"[bench] report: {args.doc}")
    failed = [name for name, section in document["results"].items() if "error" in section]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
