"""`python -m ums_site.server [Daphne's options] ums_site.asgi:application`: Daphne, on uvloop.

Daphne runs Twisted's asyncio reactor on an event loop of asyncio's own, made when
`daphne.server` is imported. This installs that reactor first, on uvloop's event loop, and then
runs Daphne's command line unchanged; Daphne keeps a reactor already installed. In the
benchmark, with instances and workers on uvloop, a synchronous job took 1.0 ms less on
PostgreSQL + Redis with two instances and 0.25 ms less on SQLite, an asynchronous one 0.6 ms
less on PostgreSQL, and bursts ran 5 to 25 % more jobs per second (benchmarks/profile_notes.md).

`UMS_EVENT_LOOP=asyncio` runs Daphne on asyncio's own loop; unset, uvloop is used where it is
installed (it is not made for Windows).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence

EVENT_LOOP_ENV = "UMS_EVENT_LOOP"
EVENT_LOOPS = ("uvloop", "asyncio")


def event_loop_factory(choice: str | None) -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes the event loop `UMS_EVENT_LOOP` names (None or empty: uvloop if installed)."""
    if choice not in (None, "", *EVENT_LOOPS):
        raise ValueError(f"{EVENT_LOOP_ENV} must be one of {', '.join(EVENT_LOOPS)}, not {choice!r}")
    if choice == "asyncio":
        return asyncio.SelectorEventLoop
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise ValueError(f"{EVENT_LOOP_ENV} is uvloop, but uvloop is not installed") from None
        return asyncio.SelectorEventLoop
    return uvloop.new_event_loop


def reactor_install(choice: str | None) -> asyncio.AbstractEventLoop:
    """Installs Twisted's asyncio reactor on the event loop `choice` names, and returns the loop.
    Before anything imports Twisted's default reactor: Daphne's own modules do."""
    loop = event_loop_factory(choice)()
    from twisted.internet import asyncioreactor

    asyncioreactor.install(loop)
    return loop


def main(argv: Sequence[str] | None = None) -> None:
    try:
        reactor_install(os.environ.get(EVENT_LOOP_ENV))
    except ValueError as error:
        sys.exit(f"ums_site.server: {error}")
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
