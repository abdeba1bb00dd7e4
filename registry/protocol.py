"""Worker protocol v1: the JSON Schema of every frame, and parsing of incoming frames.

The schemas here are the contract; docs/asyncapi.yaml publishes the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

from ums_site.json_bounds import json_loads_bounded

PROTOCOL_VERSION = 1

_job = {"type": "string", "format": "uuid", "pattern": "^[0-9a-fA-F-]{32,36}$"}
_text = {"type": "string", "maxLength": 10000}
# Each description is judged on its own (rejected with a reason, the others kept).
_descriptions = {"type": "array", "maxItems": 1000}
_output_value = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": True, "mediaType": {"type": "string", "maxLength": 200}},
    "additionalProperties": False,
}
_output_href = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "href": {"type": "string", "maxLength": 2000},
        "mediaType": {"type": "string", "maxLength": 200},
    },
    "additionalProperties": False,
}


def _message(type_: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": {"const": type_}, **properties},
        "required": ["type", *required],
        "additionalProperties": False,
    }


WORKER_MESSAGES: dict[str, dict[str, Any]] = {
    "hello": _message(
        "hello",
        {
            "protocol": {"const": PROTOCOL_VERSION},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "capacity": {"type": "integer", "minimum": 1, "maximum": 10000},
            "processes": _descriptions,
            "resume": {"type": "array", "maxItems": 10000, "items": _job},
        },
        ["protocol", "name", "capacity", "processes"],
    ),
    "register": _message("register", {"processes": _descriptions}, ["processes"]),
    "unregister": _message(
        "unregister",
        {"processes": {"type": "array", "maxItems": 1000, "items": {"type": "string", "maxLength": 200}}},
        ["processes"],
    ),
    "heartbeat": _message("heartbeat", {}, []),
    "job.started": _message("job.started", {"job": _job}, ["job"]),
    "job.progress": _message(
        "job.progress",
        {"job": _job, "progress": {"type": "integer", "minimum": 0, "maximum": 100}, "message": _text},
        ["job", "progress"],
    ),
    "job.succeeded": _message(
        "job.succeeded",
        {
            "job": _job,
            "outputs": {
                "type": "object",
                "maxProperties": 1000,
                "additionalProperties": {"oneOf": [_output_value, _output_href]},
            },
        },
        ["job", "outputs"],
    ),
    "job.failed": _message(
        "job.failed",
        {
            "job": _job,
            "error": {
                "type": "object",
                "required": ["title"],
                "properties": {"title": {"type": "string", "maxLength": 1000}, "detail": _text},
                "additionalProperties": False,
            },
        },
        ["job", "error"],
    ),
    "job.rejected": _message("job.rejected", {"job": _job, "reason": _text}, ["job"]),
}

_rejected = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "reason"],
        "properties": {"id": {"type": "string"}, "reason": {"type": "string"}},
        "additionalProperties": False,
    },
}
_ids = {"type": "array", "items": {"type": "string"}}

SERVER_MESSAGES: dict[str, dict[str, Any]] = {
    "welcome": _message(
        "welcome",
        {
            "session": {"type": "string", "format": "uuid"},
            "accepted": _ids,
            "rejected": _rejected,
            "heartbeat": {"type": "number", "exclusiveMinimum": 0},
        },
        ["session", "accepted", "rejected", "heartbeat"],
    ),
    "registered": _message("registered", {"accepted": _ids, "rejected": _rejected}, ["accepted", "rejected"]),
    "job.execute": _message(
        "job.execute",
        {
            "job": _job,
            "process": {"type": "string"},
            "inputs": {"type": "object"},
            "outputs": {"type": "object"},
            "attempt": {"type": "integer", "minimum": 1},
        },
        ["job", "process", "inputs", "outputs", "attempt"],
    ),
    "job.cancel": _message("job.cancel", {"job": _job}, ["job"]),
    "error": _message(
        "error",
        {"code": {"type": "string"}, "detail": {"type": "string"}, "job": {"type": "string"}},
        ["code", "detail"],
    ),
}

_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in WORKER_MESSAGES.items()}
# The same schemas compiled to Python by fastjsonschema, which checks a frame in a tenth of
# jsonschema's time (a `job.succeeded` of one output: 7 against 60 µs), on the way of every
# job's end. It knows no draft past 7, whose meaning these schemas' keywords share; formats
# are not asserted by either. jsonschema stays the judge: it words the error of a frame the
# fast check refuses, and a frame it finds valid is taken.
_DRAFT_7 = "http://json-schema.org/draft-07/schema#"
_FAST_CHECKS = {
    name: fastjsonschema.compile({**schema, "$schema": _DRAFT_7}, use_formats=False)
    for name, schema in WORKER_MESSAGES.items()
}


class ProtocolError(Exception):
    """A refused frame: answered with an `error` frame, the socket stays open."""

    def __init__(self, code: str, detail: str, job: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        # Validation messages quote the offending value, which may be huge.
        self.detail = detail if len(detail) <= 500 else detail[:497] + "..."
        self.job = job

    def frame(self) -> dict[str, Any]:
        frame = {"type": "error", "code": self.code, "detail": self.detail}
        if self.job is not None:
            frame["job"] = self.job
        return frame


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any]
    size: int  # characters of the frame's text


def frame_parse(text: str) -> Frame:
    """A validated incoming frame, or `ProtocolError` saying what is wrong with it."""
    try:
        data = json_loads_bounded(text)
    except ValueError as exc:
        raise ProtocolError("invalid-json", f"the frame is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid-frame", "a frame must be a JSON object")
    message_type = data.get("type")
    validator = _VALIDATORS.get(message_type) if isinstance(message_type, str) else None
    if validator is None:
        raise ProtocolError("unknown-type", f"unknown message type {message_type!r}")
    try:
        _FAST_CHECKS[message_type](data)
    except fastjsonschema.JsonSchemaException:
        _refuse_invalid(validator, message_type, data)
    return Frame(type=message_type, data=data, size=len(text))


def _refuse_invalid(validator: Draft202012Validator, message_type: str, data: dict[str, Any]) -> None:
    """Raises the `ProtocolError` of the frame's first error, if jsonschema finds one."""
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: e.path)), None)
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "frame"
        job = data.get("job") if isinstance(data.get("job"), str) else None
        raise ProtocolError("invalid-frame", f"{message_type}: {where}: {error.message}", job=job)
