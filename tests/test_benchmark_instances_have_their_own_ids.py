"""The benchmark's server instances each run under an instance id of their own: with one id
shared, each would take the other's worker sessions for its own orphans."""

from __future__ import annotations

import socket

from benchmarks.harness import Children
from benchmarks.ums import UmsStack


def _instance_id(base_url: str) -> str:
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        return connection.recv(100).decode()


def test_each_instance_has_an_id_of_its_own(tmp_path):
    group = Children(tmp_path)
    stack = UmsStack(group=group, env={"PATH": "/usr/bin:/bin"})
    try:
        stack.start_servers(3, module="tests.instance_id_server", env={"UMS_EXTRA": "1"})
        ids = [_instance_id(url) for url in stack.base_urls]
    finally:
        group.stop_all()
    assert ids == ["bench-0", "bench-1", "bench-2"]
