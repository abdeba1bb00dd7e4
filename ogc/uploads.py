"""Request bodies read in chunks, up to a limit, into a temporary file."""

from __future__ import annotations

import tempfile
from typing import IO

from ogc.problems import Problem

CHUNK = 64 * 1024
IN_MEMORY = 2 * 1024 * 1024


def too_large(limit: int) -> Problem:
    return Problem(413, f"The body is larger than the limit of {limit} bytes.")


def bounded_body(request, limit: int) -> IO[bytes]:
    """The request's body, refused with 413 past `limit` bytes, whatever Content-Length says."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large(limit)
    body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
    received = 0
    while chunk := request._request.read(CHUNK):
        received += len(chunk)
        if received > limit:
            body.close()
            raise too_large(limit)
        body.write(chunk)
    body.seek(0)
    return body
