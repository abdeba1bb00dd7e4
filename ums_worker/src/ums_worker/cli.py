"""`ums-worker`: serve Workers, decorated process functions and pygeoapi processors."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .endpoints import server_base_url
from .event_loop import EVENT_LOOP_ENV, event_loop_factory
from .loading import object_load
from .outputs import DEFAULT_UPLOAD_THRESHOLD
from .process import PROCESS_ATTRIBUTE
from .version import __version__
from .worker import DEFAULT_SERVER, DEFAULT_STARTED_DELAY, SERVER_ENV, TOKEN_ENV, Worker

logger = logging.getLogger("ums_worker")


def parser_build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ums-worker",
        description="Serve processes to an Urban Model Server over its worker WebSocket.",
        epilog=f"Environment: ${SERVER_ENV} (server URL), ${TOKEN_ENV} (worker token), "
        f"${EVENT_LOOP_ENV} (uvloop, the default where installed, or asyncio).",
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="MODULE:OBJECT",
        help="a Worker (its processes are served) or a function decorated with ums_worker.process",
    )
    parser.add_argument("--server", default=os.environ.get(SERVER_ENV) or DEFAULT_SERVER, help="server URL")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV), help="worker token")
    parser.add_argument("--name", help="worker name shown on the server (default: the Worker's)")
    parser.add_argument("--capacity", type=_positive_int, help="jobs at once (default: the Worker's, else 1)")
    parser.add_argument(
        "--pygeoapi",
        action="append",
        default=[],
        metavar="DOTTED.Class[=ID]",
        help="serve a pygeoapi BaseProcessor subclass, optionally under another process id (repeatable)",
    )
    parser.add_argument(
        "--upload-threshold",
        type=_positive_int,
        help=f"outputs larger than this many bytes of JSON go over HTTP (default {DEFAULT_UPLOAD_THRESHOLD})",
    )
    parser.add_argument(
        "--started-delay",
        type=_seconds,
        help="report a job started once it has run this many seconds; 0: at once "
        f"(default {DEFAULT_STARTED_DELAY})",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--version", action="version", version=f"ums-worker {__version__}")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError("must be a number of seconds, at least 0")
    return value


def worker_build(args: argparse.Namespace) -> Worker:
    """One Worker serving everything named on the command line."""
    # Like `python -m`, let MODULE:OBJECT name modules of the current directory.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    loaded = [(spec, object_load(spec)) for spec in args.targets]
    first = next((obj for _, obj in loaded if isinstance(obj, Worker)), None)
    worker = Worker(
        name=args.name or (first.name if first else "ums-worker"),
        capacity=args.capacity or (first.capacity if first else 1),
        upload_threshold=args.upload_threshold
        or (first.upload_threshold if first else DEFAULT_UPLOAD_THRESHOLD),
        # 0 is a setting of its own here, not "not given".
        started_delay=(first.started_delay if first else DEFAULT_STARTED_DELAY)
        if args.started_delay is None
        else args.started_delay,
    )
    for spec, obj in loaded:
        if isinstance(obj, type) and hasattr(obj, "execute"):
            worker.add_pygeoapi(obj)  # MODULE:ProcessorClass also works
        elif isinstance(obj, Worker) or hasattr(obj, PROCESS_ATTRIBUTE):
            worker.include(obj)
        else:
            raise ValueError(f"{spec!r} is neither a Worker nor a function decorated with ums_worker.process")
    for spec in args.pygeoapi:
        dotted, _, process_id = spec.partition("=")
        worker.add_pygeoapi(dotted, process_id=process_id or None)
    return worker


def main(argv: Sequence[str] | None = None) -> int:
    parser = parser_build()
    # Targets may come before, between or after the options.
    args = parser.parse_intermixed_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.token:
        parser.error(f"a worker token is required: --token or ${TOKEN_ENV}")
    if not args.targets and not args.pygeoapi:
        parser.error("nothing to serve: give MODULE:OBJECT targets or --pygeoapi classes")
    try:
        server_base_url(args.server)
        event_loop_factory()
        worker = worker_build(args)
    except (ImportError, ValueError, TypeError) as exc:
        parser.error(str(exc))
    for process in worker.processes.values():
        logger.info("serving process %r (version %s)", process.id, process.description.get("version"))
    logger.info("worker %r, capacity %d, server %s", worker.name, worker.capacity, args.server)
    worker.run(server=args.server, token=args.token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
