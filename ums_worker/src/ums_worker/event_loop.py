"""The worker's event loop: uvloop's where it is installed (a job's round trip through the
worker took less in the server's benchmark), asyncio's own with `UMS_EVENT_LOOP=asyncio`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

EVENT_LOOP_ENV = "UMS_EVENT_LOOP"


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """`asyncio.run`'s `loop_factory` for `$UMS_EVENT_LOOP` (None: asyncio's default loop)."""
    choice = os.environ.get(EVENT_LOOP_ENV) or None
    if choice == "asyncio":
        return None
    if choice not in (None, "uvloop"):
        raise ValueError(f"${EVENT_LOOP_ENV} must be uvloop or asyncio, not {choice!r}")
    try:
        import uvloop
    except ImportError:
        if choice is None:
            return None
        raise ValueError(f"${EVENT_LOOP_ENV} is uvloop, but uvloop is not installed") from None
    return uvloop.new_event_loop
