"""pygeoapi processors served through the adapter: metadata translation and execution."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sdk_ogc_schema import ogc_description_errors

from ums_worker.context import JobContext
from ums_worker.execution import job_execute
from ums_worker.outputs import Output
from ums_worker.pygeoapi_adapter import (
    description_from_pygeoapi,
    outputs_from_pygeoapi,
    pygeoapi_process,
    schema_to_ogc,
)

pytest.importorskip("pygeoapi")


def test_multilingual_text_becomes_english() -> None:
    description = pygeoapi_process("pygeoapi.process.hello_world.HelloWorldProcessor").description
    assert description["id"] == "hello-world"
    assert description["version"] == "0.2.0"
    assert description["title"] == "Hello World"
    assert description["description"].startswith("An example process")
    assert description["inputs"]["name"]["title"] == "Name"
    output_schema = description["outputs"]["echo"]["schema"]
    assert output_schema == {"type": "object", "contentMediaType": "application/json"}


def test_language_maps_fall_back_to_the_first_language() -> None:
    metadata = {"id": "x", "title": {"fr": "Bonjour"}, "keywords": {"de": ["a"], "fr": ["b"]}}
    description = description_from_pygeoapi({**metadata, "links": [{"rel": "x"}]})
    assert description["title"] == "Bonjour"
    assert description["keywords"] == ["a"]
    assert description["links"] == []  # a link without href is invalid in the OGC schema
    assert description["version"] == "1.0.0"


def test_process_id_can_be_overridden() -> None:
    assert pygeoapi_process("pygeoapi.process.echo.EchoProcessor", process_id="p-echo").id == "p-echo"


def test_schemas_are_translated_to_the_ogc_subset() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": ["number", "null"],
        "exclusiveMinimum": 0,
        "const": 3,
        "examples": [3],
        "properties": {"a": {"type": "string", "$id": "#a"}},
        "items": {"$ref": "https://example.org/s.json", "title": "t"},
    }
    assert schema_to_ogc(schema) == {
        "type": "number",
        "nullable": True,
        "minimum": 0,
        "exclusiveMinimum": True,
        "enum": [3],
        "example": 3,
        "properties": {"a": {"type": "string"}},
        "items": {"$ref": "https://example.org/s.json"},
    }


def test_job_control_options_outside_the_ogc_enum_are_dropped() -> None:
    metadata = {"id": "x", "jobControlOptions": ["sync-execute", "x-stream"]}
    description = description_from_pygeoapi({**metadata, "outputTransmission": ["value", "inline"]})
    assert description["jobControlOptions"] == ["sync-execute"]
    assert description["outputTransmission"] == ["value"]


@pytest.mark.parametrize(
    "processor", ["pygeoapi.process.echo.EchoProcessor", "pygeoapi.process.hello_world.HelloWorldProcessor"]
)
def test_descriptions_validate_against_the_ogc_schema(processor: str) -> None:
    assert ogc_description_errors(pygeoapi_process(processor).description) == []


def test_id_value_result_maps_to_its_output() -> None:
    description = {"outputs": {"echo": {}}}
    assert outputs_from_pygeoapi("application/json", {"id": "echo", "value": "v"}, description) == {
        "echo": Output("v", "application/json")
    }


def test_other_result_shapes() -> None:
    two = {"outputs": {"a": {}, "b": {}}}
    assert outputs_from_pygeoapi("text/plain", [{"id": "a", "value": 1}, {"id": "b", "value": 2}], two) == {
        "a": Output(1, "text/plain"),
        "b": Output(2, "text/plain"),
    }
    by_id = outputs_from_pygeoapi("application/json", {"a": 1, "b": 2}, two)
    assert by_id == {"a": Output(1), "b": Output(2)}
    assert outputs_from_pygeoapi("image/png", b"\x89PNG", two) == {"a": Output(b"\x89PNG", "image/png")}
    collection = {"type": "FeatureCollection", "features": []}
    assert outputs_from_pygeoapi("application/geo+json", collection, {"outputs": {"r": {}}}) == {
        "r": Output(collection, "application/geo+json")
    }
    assert outputs_from_pygeoapi("application/json", {}, two) == {}
    with pytest.raises(TypeError):
        outputs_from_pygeoapi("application/json", {"x": 1}, {"outputs": {}})


async def run(processor: str, inputs: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict:
    process = pygeoapi_process(processor)
    frames: list[dict[str, Any]] = []
    ctx = JobContext(
        job="00000000-0000-0000-0000-000000000001",
        process=process.id,
        attempt=1,
        outputs=outputs or {},
        emit=frames.append,
        loop=asyncio.get_running_loop(),
    )

    async def no_upload(*args: Any) -> str:
        raise AssertionError("nothing should be uploaded")

    final = await job_execute(process, inputs, ctx, upload=no_upload, upload_threshold=10**6)
    assert final is not None
    return final


async def test_hello_world_runs() -> None:
    final = await run("pygeoapi.process.hello_world.HelloWorldProcessor", {"name": "World", "message": "Hi."})
    assert final["type"] == "job.succeeded"
    assert final["outputs"] == {"echo": {"value": "Hello World! Hi.", "mediaType": "application/json"}}


async def test_echo_runs() -> None:
    final = await run("pygeoapi.process.echo.EchoProcessor", {"echoInput": "Test"})
    assert final["outputs"] == {"echoOutput": {"value": "Test", "mediaType": "application/json"}}


async def test_processor_errors_become_failed_jobs() -> None:
    final = await run("pygeoapi.process.hello_world.HelloWorldProcessor", {})
    assert final["type"] == "job.failed"
    assert final["error"]["detail"] == "ProcessorExecuteError: Cannot process without a name"


def test_descriptions_are_json() -> None:
    json.dumps(pygeoapi_process("pygeoapi.process.hello_world.HelloWorldProcessor").description)
