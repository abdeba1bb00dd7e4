"""Execute requests: the `Prefer` header, the sync/async decision, and input validation.

Everything a client can get wrong is checked here, before a job exists.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator, FormatChecker

from jobs.callbacks import SUBSCRIBER_KEYS, callback_url_problem
from ogc.problems import invalid_parameter
from registry.models import Process
from registry.process_descriptions import value_schema

SYNC, ASYNC = "sync-execute", "async-execute"
RESPOND_ASYNC = "respond-async"
QUALIFIED_KEYS = {"value", "mediaType", "encoding", "schema"}
REFERENCE_KEYS = {"href", "rel", "type", "hreflang", "title"}

# OpenAPI's `format: byte` (and JSON Schema's base64 content) is base64 text in JSON.
FORMATS = FormatChecker()


@FORMATS.checks("byte", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    if isinstance(value, str):
        base64.b64decode(value, validate=True)
    return True


def preferences(prefer_header: str) -> dict[str, str]:
    """The preferences of `Prefer`, token → value (RFC 7240: tokens case-insensitive,
    comma-separated, with parameters after `;` and a value after `=`); several headers arrive
    joined by commas; the first of a repeated token counts."""
    found: dict[str, str] = {}
    for item in prefer_header.split(","):
        token, _, value = item.split(";")[0].partition("=")
        token = token.strip().strip('"').lower()
        if token:
            found.setdefault(token, value.strip().strip('"'))
    return found


@dataclass(frozen=True)
class ExecutionMode:
    mode: str  # SYNC or ASYNC
    preference_applied: bool  # whether `respond-async` was asked for and honoured
    # `Prefer: wait=N` when it shortens a synchronous execution's wait (UMS_SYNC_TIMEOUT).
    wait: int | None = None

    @property
    def wait_seconds(self) -> float:
        """How long a synchronous execution waits for its results before answering 201."""
        return settings.UMS_SYNC_TIMEOUT if self.wait is None else self.wait


def execution_mode(process: Process, prefer_header: str) -> ExecutionMode:
    """The standard's decision table: the client's preference where the process allows it;
    without one, synchronous if the process can."""
    options = process.job_control_options
    preferred = preferences(prefer_header)
    wants_async = RESPOND_ASYNC in preferred
    if SYNC not in options:
        return ExecutionMode(ASYNC, wants_async)
    if wants_async and ASYNC in options:
        return ExecutionMode(ASYNC, True)
    wait = _wait_seconds(preferred.get("wait"))
    shorter = wait is not None and wait < settings.UMS_SYNC_TIMEOUT
    return ExecutionMode(SYNC, False, wait=wait if shorter else None)


def _wait_seconds(value: str | None) -> int | None:
    """`wait=N` (RFC 7240 §4.3: N seconds); None when absent or not a number of seconds, as
    RFC 7240 asks of preferences a server cannot use: ignored, not refused."""
    if value is None or not re.fullmatch(r"[0-9]{1,6}", value):
        return None
    return int(value)


@dataclass(frozen=True)
class ExecuteRequest:
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    response: str
    subscriber: dict[str, str]


def execute_request_parse(process: Process, body: Any) -> ExecuteRequest:
    if not isinstance(body, dict):
        raise invalid_parameter("The execute request must be a JSON object.")
    inputs = body.get("inputs", {})
    outputs = body.get("outputs", {})
    response = body.get("response", "raw")
    subscriber = body.get("subscriber", {})
    if not isinstance(inputs, dict):
        raise invalid_parameter("'inputs' must be an object keyed by input id.")
    if not isinstance(outputs, dict):
        raise invalid_parameter("'outputs' must be an object keyed by output id.")
    if response not in ("raw", "document"):
        raise invalid_parameter("'response' must be 'raw' or 'document'.")
    _check_subscriber(subscriber)
    _check_inputs(process.description.get("inputs", {}), inputs)
    _check_outputs(process, outputs)
    return ExecuteRequest(inputs=inputs, outputs=outputs, response=response, subscriber=subscriber)


def _check_subscriber(subscriber: Any) -> None:
    if not isinstance(subscriber, dict):
        raise invalid_parameter("'subscriber' must be an object of callback URIs.")
    unknown = sorted(set(subscriber) - set(SUBSCRIBER_KEYS))
    if unknown:
        raise invalid_parameter(
            f"Unknown subscriber key(s): {', '.join(unknown)}; use {', '.join(SUBSCRIBER_KEYS)}."
        )
    for key, uri in subscriber.items():
        problem = callback_url_problem(uri)
        if problem:
            raise invalid_parameter(f"subscriber.{key}: {problem}")


def _check_inputs(declared: dict[str, Any], inputs: dict[str, Any]) -> None:
    unknown = sorted(set(inputs) - set(declared))
    if unknown:
        raise invalid_parameter(f"Unknown input(s): {', '.join(unknown)}.")
    for input_id, description in declared.items():
        _check_input(input_id, description, inputs.get(input_id))


def _check_input(input_id: str, description: dict[str, Any], given: Any) -> None:
    minimum = description.get("minOccurs", 1)
    maximum = description.get("maxOccurs", 1)
    if maximum == "unbounded":  # for the process; the server still bounds the work it accepts
        maximum = settings.UMS_MAX_INPUT_OCCURRENCES
    if given is None:
        if minimum > 0:
            raise invalid_parameter(f"Input '{input_id}' is required.")
        return
    # Several occurrences come as an array, unless the schema itself is an array.
    is_array_schema = description["schema"].get("type") == "array"
    values = given if isinstance(given, list) and not is_array_schema else [given]
    if not minimum <= len(values) <= maximum:
        raise invalid_parameter(
            f"Input '{input_id}' takes between {minimum} and {maximum} value(s); {len(values)} given."
        )
    validator = Draft202012Validator(value_schema(description["schema"]), format_checker=FORMATS)
    for value in values:
        _check_value(input_id, description["schema"], validator, value)


def _check_value(input_id: str, schema: dict[str, Any], validator: Draft202012Validator, value: Any) -> None:
    if isinstance(value, dict) and "href" in value and set(value) <= REFERENCE_KEYS:
        href = value["href"]
        if not isinstance(href, str) or not href.startswith(("http://", "https://")):
            raise invalid_parameter(f"Input '{input_id}': 'href' must be an http(s) URL.")
        return  # by reference: fetched and checked by the worker
    if isinstance(value, dict) and "value" in value and set(value) <= QUALIFIED_KEYS:
        _check_media_type(input_id, schema, value.get("mediaType"))
        value = value["value"]
    error = next(iter(validator.iter_errors(value)), None)
    if error is not None:
        where = "".join(f"[{part!r}]" for part in error.absolute_path)
        raise invalid_parameter(f"Input '{input_id}{where}' is invalid: {_short(error.message)}")


def _check_media_type(input_id: str, schema: dict[str, Any], media_type: Any) -> None:
    if media_type is None:
        return
    if not isinstance(media_type, str):
        raise invalid_parameter(f"Input '{input_id}': 'mediaType' must be a string.")
    accepted = _content_media_types(schema)
    if accepted and media_type not in accepted:
        raise invalid_parameter(
            f"Input '{input_id}': media type {media_type!r} is not one of {', '.join(sorted(accepted))}."
        )


def _content_media_types(schema: Any) -> set[str]:
    """The media types a schema declares (`contentMediaType`, also inside oneOf/anyOf)."""
    if not isinstance(schema, dict):
        return set()
    found = {schema["contentMediaType"]} if isinstance(schema.get("contentMediaType"), str) else set()
    for keyword in ("oneOf", "anyOf"):
        for option in schema.get(keyword, []):
            found |= _content_media_types(option)
    return found


def _check_outputs(process: Process, outputs: dict[str, Any]) -> None:
    declared = process.description.get("outputs", {})
    unknown = sorted(set(outputs) - set(declared))
    if unknown:
        raise invalid_parameter(f"Unknown output(s): {', '.join(unknown)}.")
    modes = process.description.get("outputTransmission") or ["value", "reference"]
    for output_id, selection in outputs.items():
        if not isinstance(selection, dict):
            raise invalid_parameter(f"Output '{output_id}' must be an object.")
        mode = selection.get("transmissionMode", "value")
        if mode not in modes:
            raise invalid_parameter(
                f"Output '{output_id}': transmissionMode must be one of {', '.join(modes)}; got {mode!r}."
            )
        output_format = selection.get("format", {})
        if not isinstance(output_format, dict) or not isinstance(output_format.get("mediaType", ""), str):
            raise invalid_parameter(f"Output '{output_id}': 'format' must be an object with a 'mediaType'.")


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."
