"""Pure helpers of the SDK: backoff, URLs, output mapping, process descriptions."""

from __future__ import annotations

from typing import Any

import pytest

from ums_worker import Output, Worker, process
from ums_worker.backoff import Backoff
from ums_worker.endpoints import output_upload_path, server_base_url, worker_socket_url
from ums_worker.execution import job_failed_frame
from ums_worker.outputs import output_body, output_media_type, output_needs_upload, outputs_from_result
from ums_worker.process import Process, inputs_with_defaults, process_description

DESCRIPTION: dict[str, Any] = {
    "id": "p",
    "outputs": {"a": {"schema": {"type": "object", "contentMediaType": "application/geo+json"}}, "b": {}},
}
ONE_OUTPUT: dict[str, Any] = {"id": "q", "outputs": {"result": {"schema": {"type": "object"}}}}


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    low = Backoff(initial=1, maximum=10, rand=lambda: 0.0)
    high = Backoff(initial=1, maximum=10, rand=lambda: 1.0)
    assert [low.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 5, 5]
    assert [high.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]


def test_backoff_reset_starts_over() -> None:
    backoff = Backoff(initial=1, maximum=10, rand=lambda: 1.0)
    backoff.next_delay()
    backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1


def test_backoff_jitter_stays_within_half_to_full_delay() -> None:
    backoff = Backoff(initial=2, maximum=2)
    assert all(1 <= backoff.next_delay() <= 2 for _ in range(100))


@pytest.mark.parametrize(
    ("server", "socket", "base"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/workers/", "http://127.0.0.1:8000"),
        ("https://ums.example.org/", "wss://ums.example.org/ws/workers/", "https://ums.example.org"),
        ("https://example.org/ums", "wss://example.org/ums/ws/workers/", "https://example.org/ums"),
        ("wss://example.org/ws/workers/", "wss://example.org/ws/workers/", "https://example.org"),
    ],
)
def test_urls_derive_from_the_server_url(server: str, socket: str, base: str) -> None:
    assert worker_socket_url(server) == socket
    assert server_base_url(server) == base


@pytest.mark.parametrize("server", ["127.0.0.1:8000", "ftp://example.org", "http://"])
def test_bad_server_urls_are_refused(server: str) -> None:
    with pytest.raises(ValueError):
        server_base_url(server)


def test_upload_path_quotes_ids() -> None:
    assert output_upload_path("j1", "a/b c") == "/jobs/j1/outputs/a%2Fb%20c"


def test_outputs_by_declared_id() -> None:
    result = {"a": {"type": "FeatureCollection"}, "b": Output("x", "text/csv")}
    assert outputs_from_result(result, DESCRIPTION) == {"a": Output(result["a"]), "b": result["b"]}


def test_bare_value_is_the_single_declared_output() -> None:
    collection = {"type": "FeatureCollection", "features": []}
    assert outputs_from_result(collection, ONE_OUTPUT) == {"result": Output(collection)}
    assert outputs_from_result(Output("x", "text/plain"), ONE_OUTPUT) == {"result": Output("x", "text/plain")}


def test_undeclared_output_ids_with_several_outputs_are_an_error() -> None:
    with pytest.raises(TypeError, match="expected a dict of output ids"):
        outputs_from_result({"zzz": 1}, DESCRIPTION)
    with pytest.raises(TypeError):
        outputs_from_result(42, DESCRIPTION)


def test_empty_result_has_no_outputs() -> None:
    assert outputs_from_result({}, DESCRIPTION) == {}


def test_media_types() -> None:
    assert output_media_type("b", Output(1, "text/x"), DESCRIPTION) == "text/x"
    assert output_media_type("a", Output({}), DESCRIPTION) == "application/geo+json"
    assert output_media_type("b", Output("s"), DESCRIPTION) == "text/plain"
    assert output_media_type("b", Output([1]), DESCRIPTION) == "application/json"
    assert output_media_type("b", Output(b"\x00"), DESCRIPTION) == "application/octet-stream"


def test_upload_threshold_and_bodies() -> None:
    assert not output_needs_upload(Output("x" * 10), 12)
    assert output_needs_upload(Output("x" * 11), 12)  # 13 bytes of JSON with the quotes
    assert output_needs_upload(Output(b"tiny"), 10**9)
    assert output_body(Output("a,b"), "text/csv") == b"a,b"
    assert output_body(Output("a"), "application/json") == b'"a"'
    assert output_body(Output({"k": "é"}), "application/geo+json") == '{"k": "é"}'.encode()


def test_values_that_are_not_json_fail_clearly() -> None:
    with pytest.raises(TypeError, match="not JSON serialisable"):
        output_needs_upload(Output({1, 2}), 100)
    with pytest.raises(TypeError, match="not JSON serialisable"):
        output_needs_upload(Output(float("nan")), 100)


def test_failed_frame_has_type_and_message_and_no_secret() -> None:
    frame = job_failed_frame("j", "p", KeyError("token abc"), ("abc",))
    assert frame == {
        "type": "job.failed",
        "job": "j",
        "error": {"title": "Process 'p' failed", "detail": "KeyError: 'token ***'"},
    }
    assert job_failed_frame("j", "p", RuntimeError(), ())["error"]["detail"] == "RuntimeError"
    assert len(job_failed_frame("j", "p", ValueError("x" * 20000), ())["error"]["detail"]) == 4000


def test_description_defaults_come_from_the_handler() -> None:
    def walking_buffers(inputs: dict[str, Any]) -> dict[str, Any]:
        """Buffers around points.

        Longer text."""
        return {}

    description = process_description({"outputs": {"x": {"schema": {}}}}, walking_buffers)
    assert description["id"] == "walking-buffers"
    assert description["version"] == "1.0.0"
    assert description["title"] == "walking-buffers"
    assert description["description"] == "Buffers around points."
    assert description["jobControlOptions"] == ["sync-execute", "async-execute", "dismiss"]
    assert description["inputs"] == {}


def test_handlers_with_and_without_context() -> None:
    async def with_ctx(inputs: dict[str, Any], ctx: Any) -> None: ...

    def without_ctx(inputs: dict[str, Any]) -> None: ...

    assert Process({"id": "a"}, with_ctx).takes_context
    assert Process({"id": "a"}, with_ctx).is_async
    assert not Process({"id": "b"}, without_ctx).takes_context
    assert not Process({"id": "b"}, without_ctx).is_async


def test_inputs_get_schema_defaults() -> None:
    description = {"inputs": {"n": {"schema": {"default": 3}}, "m": {"schema": {"type": "string"}}}}
    assert inputs_with_defaults(description, {}) == {"n": 3}
    assert inputs_with_defaults(description, {"n": 1, "m": "x"}) == {"n": 1, "m": "x"}


def test_worker_refuses_two_processes_with_one_id() -> None:
    worker = Worker()

    @worker.process({"id": "same"})
    def first(inputs: dict[str, Any]) -> None: ...

    with pytest.raises(ValueError, match="already served"):

        @worker.process({"id": "same"})
        def second(inputs: dict[str, Any]) -> None: ...


def test_worker_includes_workers_and_decorated_functions() -> None:
    @process({"id": "standalone"})
    def standalone(inputs: dict[str, Any]) -> None: ...

    other = Worker()

    @other.process({"id": "other"})
    def in_other(inputs: dict[str, Any]) -> None: ...

    worker = Worker()
    worker.include(standalone)
    worker.include(other)
    assert list(worker.processes) == ["standalone", "other"]
    with pytest.raises(TypeError):
        worker.include(print)  # type: ignore[arg-type]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Worker(capacity=0)


@pytest.mark.parametrize("delay", [-1, float("nan")])
def test_started_delay_must_be_seconds_at_least_zero(delay: float) -> None:
    with pytest.raises(ValueError, match="started_delay"):
        Worker(started_delay=delay)


def test_demo_descriptions_validate_against_the_ogc_schema() -> None:
    from sdk_ogc_schema import ogc_description_errors

    from ums_worker.demo import worker

    for process_ in worker.processes.values():
        assert ogc_description_errors(process_.description) == [], process_.id


async def test_upload_refusals_are_short_and_problem_details_are_kept() -> None:
    import httpx

    from ums_worker.upload import UploadError, output_upload

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/html"):
            return httpx.Response(404, html="<html>" + "x" * 5000 + "</html>")
        return httpx.Response(403, json={"title": "Forbidden", "detail": "not your job"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(respond)) as client:
        upload = {"base_url": "http://s", "token": "t", "job": "j", "body": b"x", "media_type": "text/plain"}
        with pytest.raises(UploadError) as html:
            await output_upload(client, output_id="html", **upload)
        with pytest.raises(UploadError) as problem:
            await output_upload(client, output_id="p", **upload)
    assert str(html.value) == "upload of output 'html' refused: HTTP 404 Not Found"
    assert str(problem.value) == "upload of output 'p' refused: HTTP 403 Forbidden: not your job"
