"""The worker's event loop: uvloop's where installed, asyncio's own on request, nothing else."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from ums_worker.cli import main
from ums_worker.event_loop import event_loop_factory


def test_uvloop_is_the_default_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UMS_EVENT_LOOP", raising=False)
    assert event_loop_factory() is uvloop.new_event_loop
    monkeypatch.setenv("UMS_EVENT_LOOP", "uvloop")
    loop = event_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_asyncio_runs_its_own_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UMS_EVENT_LOOP", "asyncio")
    assert event_loop_factory() is None  # asyncio.run's default
    assert asyncio.run(asyncio.sleep(0, "ran")) == "ran"


def test_an_unknown_event_loop_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UMS_EVENT_LOOP", "tokio")
    with pytest.raises(ValueError, match="must be uvloop or asyncio, not 'tokio'"):
        event_loop_factory()


def test_the_cli_refuses_an_unknown_event_loop_before_connecting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UMS_EVENT_LOOP", "tokio")
    with pytest.raises(SystemExit) as exit_info:
        main(["--token", "t", "ums_worker.demo:worker"])
    assert exit_info.value.code == 2
    assert "$UMS_EVENT_LOOP must be uvloop or asyncio" in capsys.readouterr().err
