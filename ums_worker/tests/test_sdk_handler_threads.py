"""Blocking handlers run on threads kept for the next job, never in a bounded pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ums_worker.execution import HandlerThreads

WAIT = 5.0


def eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def run_and_wait(threads: HandlerThreads, name: str) -> threading.Thread:
    """Runs a call on `threads`; the thread it ran on."""
    ran: list[threading.Thread] = []
    done = threading.Event()

    def call() -> None:
        ran.append(threading.current_thread())
        done.set()

    threads.run(call, name=name)
    assert done.wait(WAIT)
    return ran[0]


def test_the_next_job_takes_the_thread_of_a_finished_one() -> None:
    threads = HandlerThreads()
    first = run_and_wait(threads, "job-1")
    assert eventually(lambda: threads.idle == 1)
    second = run_and_wait(threads, "job-2")
    assert second is first
    assert second.name == "job-2" and second.daemon


def test_a_blocked_handler_does_not_hold_back_the_next_job() -> None:
    threads = HandlerThreads()
    gate = threading.Event()
    threads.run(lambda: gate.wait(WAIT), name="stuck")
    try:
        assert run_and_wait(threads, "next").name == "next"
    finally:
        gate.set()


def test_an_idle_thread_ends() -> None:
    threads = HandlerThreads(idle_seconds=0.05)
    thread = run_and_wait(threads, "job-1")
    assert eventually(lambda: not thread.is_alive())
    assert threads.idle == 0
    assert run_and_wait(threads, "job-2") is not thread
