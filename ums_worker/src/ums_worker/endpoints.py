"""URLs of the server's endpoints, derived from the one server URL the user gives."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

WORKER_SOCKET_PATH = "/ws/workers/"


def server_base_url(server: str) -> str:
    """The http(s) base URL of the server, without a trailing slash.

    Accepts the http(s) URL of the OGC API or the ws(s) URL of the worker socket itself.
    """
    parts = urlsplit(server.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"server URL must be http(s):// or ws(s)://HOST[:PORT][/prefix], got {server!r}")
    path = parts.path.rstrip("/")
    if path.endswith(WORKER_SOCKET_PATH.rstrip("/")):
        path = path[: -len(WORKER_SOCKET_PATH.rstrip("/"))]
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def worker_socket_url(server: str) -> str:
    """ws(s)://HOST/ws/workers/ for the server at `server`."""
    parts = urlsplit(server_base_url(server))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + WORKER_SOCKET_PATH, "", ""))


def output_upload_path(job: str, output_id: str) -> str:
    """Path of the large-output upload endpoint, relative to the server base URL."""
    return f"/jobs/{quote(job, safe='')}/outputs/{quote(output_id, safe='')}"
