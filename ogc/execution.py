"""Execute requests: the `Prefer` header, the sync/async decision, and input validation.

Everything a client can get wrong is checked here, before a job exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from ogc.problems import invalid_parameter
from registry.models import Process
from registry.process_descriptions import value_schema

SYNC, ASYNC = "sync-execute", "async-execute"


def prefers_async(prefer_header: str) -> bool:
    """Whether `Prefer` asks for `respond-async` (RFC 7240: case-insensitive, comma-separated)."""
    for preference in prefer_header.split(","):
        token = preference.split(";")[0].split("=")[0].strip().lower()
        if token == "respond-async":
            return True
    return False


def execution_mode(process: Process, prefer_header: str) -> str:
    """The standard's decision table: the client's preference where the process allows it."""
    options = process.job_control_options
    if SYNC not in options:
        return ASYNC
    if ASYNC not in options:
        return SYNC
    return ASYNC if prefers_async(prefer_header) else SYNC


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
    if not isinstance(subscriber, dict) or not all(isinstance(v, str) for v in subscriber.values()):
        raise invalid_parameter("'subscriber' must be an object of URIs.")
    _check_inputs(process.description.get("inputs", {}), inputs)
    _check_outputs(process.description.get("outputs", {}), outputs)
    return ExecuteRequest(inputs=inputs, outputs=outputs, response=response, subscriber=subscriber)


def _check_inputs(declared: dict[str, Any], inputs: dict[str, Any]) -> None:
    unknown = sorted(set(inputs) - set(declared))
    if unknown:
        raise invalid_parameter(f"Unknown input(s): {', '.join(unknown)}.")
    for input_id, description in declared.items():
        _check_input(input_id, description, inputs.get(input_id))


def _check_input(input_id: str, description: dict[str, Any], given: Any) -> None:
    minimum = description.get("minOccurs", 1)
    maximum = description.get("maxOccurs", 1)
    if given is None:
        if minimum > 0:
            raise invalid_parameter(f"Input '{input_id}' is required.")
        return
    # Several occurrences come as an array, unless the schema itself is an array.
    is_array_schema = description["schema"].get("type") == "array"
    values = given if isinstance(given, list) and not is_array_schema else [given]
    if len(values) < minimum or (maximum != "unbounded" and len(values) > maximum):
        bound = "unbounded" if maximum == "unbounded" else maximum
        raise invalid_parameter(
            f"Input '{input_id}' takes between {minimum} and {bound} value(s); {len(values)} given."
        )
    validator = Draft202012Validator(value_schema(description["schema"]), format_checker=FormatChecker())
    for value in values:
        if isinstance(value, dict) and ("href" in value or "value" in value):
            value = _qualified_value(input_id, value)
            if value is None:
                continue  # by reference: fetched and checked by the worker
        error = next(iter(validator.iter_errors(value)), None)
        if error is not None:
            raise invalid_parameter(f"Input '{input_id}' is invalid: {_short(error.message)}")


def _qualified_value(input_id: str, value: dict[str, Any]) -> Any:
    if "href" in value:
        if not isinstance(value["href"], str) or not value["href"].startswith(("http://", "https://")):
            raise invalid_parameter(f"Input '{input_id}': 'href' must be an http(s) URL.")
        return None
    return value["value"]


def _check_outputs(declared: dict[str, Any], outputs: dict[str, Any]) -> None:
    unknown = sorted(set(outputs) - set(declared))
    if unknown:
        raise invalid_parameter(f"Unknown output(s): {', '.join(unknown)}.")
    for output_id, selection in outputs.items():
        if not isinstance(selection, dict):
            raise invalid_parameter(f"Output '{output_id}' must be an object.")
        mode = selection.get("transmissionMode", "value")
        if mode not in ("value", "reference"):
            raise invalid_parameter(f"Output '{output_id}': transmissionMode must be 'value' or 'reference'.")


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."
