"""Worker SDK of the Urban Model Server: serve models as OGC API - Processes over WebSocket."""

from __future__ import annotations

from .context import JobCancelled, JobContext
from .outputs import Output
from .process import Process, process
from .version import __version__
from .worker import Worker

__all__ = ["JobCancelled", "JobContext", "Output", "Process", "Worker", "__version__", "process"]
