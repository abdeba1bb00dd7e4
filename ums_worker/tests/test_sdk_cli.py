"""The ums-worker command line: arguments, environment, loading MODULE:OBJECT targets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ums_worker.cli import main, parser_build, worker_build
from ums_worker.loading import class_load, object_load


def build(*argv: str):
    return worker_build(parser_build().parse_intermixed_args(list(argv)))


def test_server_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UMS_SERVER_URL", "https://ums.example.org")
    monkeypatch.setenv("UMS_WORKER_TOKEN", "from-env")
    args = parser_build().parse_intermixed_args(["ums_worker.demo:worker"])
    assert (args.server, args.token) == ("https://ums.example.org", "from-env")
    argv = ["--server", "http://x", "--token", "t", "ums_worker.demo:worker"]
    args = parser_build().parse_intermixed_args(argv)
    assert (args.server, args.token) == ("http://x", "t")


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UMS_SERVER_URL", raising=False)
    monkeypatch.delenv("UMS_WORKER_TOKEN", raising=False)
    args = parser_build().parse_intermixed_args([])
    assert (args.server, args.token) == ("http://127.0.0.1:8000", None)


def test_a_worker_target_gives_its_processes_name_and_capacity() -> None:
    worker = build("ums_worker.demo:worker")
    assert worker.name == "demo"
    assert worker.capacity == 4
    assert {"echo", "sleep", "sleep-async", "fail", "large-output"} <= set(worker.processes)


def test_name_and_capacity_options_win() -> None:
    worker = build(
        "--name", "mine", "--capacity", "9", "--upload-threshold", "10", "--started-delay", "0",
        "ums_worker.demo:worker",
    )  # fmt: skip
    assert (worker.name, worker.capacity, worker.upload_threshold, worker.started_delay) == ("mine", 9, 10, 0)


def test_decorated_functions_and_pygeoapi_classes_are_targets() -> None:
    worker = build(
        "ums_worker.demo:echo",
        "--pygeoapi",
        "pygeoapi.process.hello_world.HelloWorldProcessor",
        "ums_worker.demo:fail",  # targets and options in any order
        "--pygeoapi",
        "pygeoapi.process.echo.EchoProcessor=pygeoapi-echo",
    )
    assert list(worker.processes) == ["echo", "fail", "hello-world", "pygeoapi-echo"]
    assert worker.name == "ums-worker"
    assert worker.capacity == 1


def test_a_pygeoapi_class_as_module_object() -> None:
    assert list(build("pygeoapi.process.hello_world:HelloWorldProcessor").processes) == ["hello-world"]


def test_the_same_process_id_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="already served"):
        build("ums_worker.demo:worker", "--pygeoapi", "pygeoapi.process.echo.EchoProcessor")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("ums_worker.demo", "MODULE:OBJECT"),
        ("ums_worker.demo:nothing", "no attribute"),
        ("ums_worker.demo:time", "neither a Worker"),
    ],
)
def test_bad_targets(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(spec)


def test_loading_helpers() -> None:
    assert object_load("ums_worker.demo:worker.name") == "demo"
    assert class_load("pygeoapi.process.echo.EchoProcessor").__name__ == "EchoProcessor"
    with pytest.raises(ValueError, match="not a class"):
        class_load("ums_worker.demo:worker")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ums_worker.demo:worker"], "worker token is required"),
        (["--token", "t"], "nothing to serve"),
        (["--token", "t", "--server", "localhost:8000", "ums_worker.demo:worker"], "server URL"),
        (["--token", "t", "no_such_module_xyz:worker"], "No module named"),
        (["--token", "t", "--capacity", "0", "ums_worker.demo:worker"], "at least 1"),
        (["--token", "t", "--started-delay", "-1", "ums_worker.demo:worker"], "at least 0"),
        (["--token", "t", "--started-delay", "soon", "ums_worker.demo:worker"], "not a number of seconds"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("UMS_WORKER_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ums_worker", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ums-worker ")
