"""Daphne with counters: `python -m benchmarks.profiled_server <daphne args>` (as `ums_site.server`).

Counts what the hot path costs, in every thread of the server: SQL statements (by kind),
database connections opened, sync↔async thread hops (asgiref's SyncToAsync and the database
threads'), threads started and CPU time; a sampler records where the threads spend their
time. SIGUSR2 resets the figures, SIGUSR1 writes them as JSON to $UMS_PROFILE_OUT.
"""

from __future__ import annotations

import collections
import json
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

SAMPLE_SECONDS = 0.001
# Statements are told apart by their start (parameters are placeholders already).
STATEMENT_CHARS = 160
PROJECT = str(Path(__file__).resolve().parent.parent)

counts: collections.Counter[str] = collections.Counter()
statements: collections.Counter[str] = collections.Counter()
self_samples: collections.Counter[str] = collections.Counter()
stack_samples: collections.Counter[str] = collections.Counter()
_lock = threading.Lock()
_cpu_at_reset = 0.0


def _count(name: str) -> None:
    with _lock:
        counts[name] += 1


def _query_counter(execute, sql, params, many, context):
    _count("sql " + (sql.lstrip().split(None, 1)[0].upper() if sql else "?"))
    with _lock:
        statements[" ".join(sql.split())[:STATEMENT_CHARS]] += 1
    return execute(sql, params, many, context)


def _install_counters() -> None:
    from asgiref.sync import SyncToAsync
    from django.db.backends.signals import connection_created

    from ums_site.db import DatabaseThread

    def on_connection(sender, connection, **kwargs) -> None:
        _count("connections opened")
        # The wrapper object outlives its connections (reopened per hop): install once.
        if _query_counter not in connection.execute_wrappers:
            connection.execute_wrappers.append(_query_counter)

    connection_created.connect(on_connection, weak=False)
    # Every hop to a thread: asgiref's, and the database threads' own (ums_site.db), under
    # the name the earlier runs in benchmarks/reference/ used.
    for hopper in (SyncToAsync, DatabaseThread):
        hopper.__call__ = _counted_hops(hopper.__call__)
    original_start = threading.Thread.start

    def counted_start(self) -> None:
        _count("threads started")
        original_start(self)

    threading.Thread.start = counted_start


def _counted_hops(call):
    async def counted_call(self, *args, **kwargs):
        _count("sync hops (SyncToAsync)")
        func = getattr(self.func, "func", self.func)  # a partial: what it calls
        func = getattr(func, "__func__", func)
        _count(f"hop: {getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}")
        return await call(self, *args, **kwargs)

    return counted_call


def _where(frame) -> str:
    code = frame.f_code
    path = code.co_filename
    short = path[len(PROJECT) + 1 :] if path.startswith(PROJECT) else path.rsplit("site-packages/", 1)[-1]
    return f"{short}:{code.co_name}"


def _sample_forever() -> None:
    """Samples the stack of every busy thread; idle waits are not time spent."""
    global _sampler_cpu
    me = threading.get_ident()
    # Innermost Python frames of a thread blocked in C: a database thread waiting for a call
    # is in `_serve` (ums_site/db.py), as a ThreadPoolExecutor's thread is in `_worker`.
    idle = ("select", "poll", "doPoll", "wait", "_worker", "_serve", "epoll", "acquire", "sleep", "get")
    while True:
        time.sleep(SAMPLE_SECONDS)
        _sampler_cpu = time.thread_time()
        for ident, frame in sys._current_frames().items():
            if ident == me or frame.f_code.co_name in idle:
                continue
            seen = set()
            with _lock:
                self_samples[_where(frame)] += 1
                while frame is not None:
                    where = _where(frame)
                    if where not in seen:
                        stack_samples[where] += 1
                        seen.add(where)
                    frame = frame.f_back


_sampler_cpu = 0.0  # the sampler's own CPU time, which is not the server's


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime - _sampler_cpu


def _reset(signum: int, frame: Any) -> None:
    global _cpu_at_reset
    with _lock:
        counts.clear()
        statements.clear()
        self_samples.clear()
        stack_samples.clear()
    _cpu_at_reset = _cpu_seconds()


def _dump(signum: int, frame: Any) -> None:
    with _lock:
        figures = {
            "counts": dict(counts),
            "statements": statements.most_common(60),
            "cpu_seconds": round(_cpu_seconds() - _cpu_at_reset, 4),
            "samples_self": self_samples.most_common(40),
            "samples_cumulative": stack_samples.most_common(120),
        }
    Path(os.environ["UMS_PROFILE_OUT"]).write_text(json.dumps(figures, indent=1))


def main() -> None:
    from ums_site import server

    _install_counters()
    signal.signal(signal.SIGUSR1, _dump)
    signal.signal(signal.SIGUSR2, _reset)
    threading.Thread(target=_sample_forever, daemon=True, name="profile-sampler").start()
    server.main(sys.argv[1:])


if __name__ == "__main__":
    main()
