"""The fields of a process page's execute form, derived from its inputs' JSON Schemas.

A scalar input gets a matching control (text, number with its bounds, a select for an enum, a
checkbox); anything else (objects such as GeoJSON, arrays, inputs that occur more than once,
schemas combined with oneOf …) a JSON text area. The page's script turns the fields into an
execute request; the server validates it as it validates any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

TEXT, TEXTAREA, NUMBER, SELECT, CHECKBOX, JSON = "text", "textarea", "number", "select", "checkbox", "json"


@dataclass(frozen=True)
class Choice:
    value: str  # JSON: an enum may hold numbers or booleans too
    label: str
    selected: bool


@dataclass(frozen=True)
class InputField:
    id: str
    title: str
    description: str
    widget: str
    required: bool
    # The value for the control: text for inputs, JSON text for text areas.
    initial: str = ""
    checked: bool = False
    # Number bounds and step, as the attributes of <input type=number>.
    min: str = ""
    max: str = ""
    step: str = ""
    choices: list[Choice] = field(default_factory=list)
    hint: str = ""


def input_fields(inputs: dict[str, dict[str, Any]]) -> list[InputField]:
    return [_field(input_id, description) for input_id, description in inputs.items()]


def _field(input_id: str, description: dict[str, Any]) -> InputField:
    schema = description.get("schema") or {}
    common = {
        "id": input_id,
        "title": description.get("title") or input_id,
        "description": description.get("description", ""),
        "required": description.get("minOccurs", 1) >= 1,
    }
    if _max_occurs(description) > 1:
        return _json_field(schema, common, hint="JSON: a list of values, or one value")
    kind = _scalar_type(schema)
    default = schema.get("default")
    if "enum" in schema or "const" in schema:
        return InputField(widget=SELECT, choices=_choices(schema, default), **common)
    if kind in ("number", "integer"):
        return InputField(widget=NUMBER, initial=_text(default), **_bounds(schema, kind), **common)
    if kind == "boolean":
        return InputField(widget=CHECKBOX, checked=default is True, **common)
    if kind == "string":
        return _string_field(schema, common)
    return _json_field(schema, common)


def _max_occurs(description: dict[str, Any]) -> float:
    occurs = description.get("maxOccurs", 1)
    return float("inf") if occurs == "unbounded" else occurs


def _scalar_type(schema: dict[str, Any]) -> str:
    """The schema's scalar type; "" for other types and for combined schemas."""
    if any(key in schema for key in ("oneOf", "anyOf", "allOf", "$ref")):
        return ""
    kind = schema.get("type")
    return kind if kind in ("string", "number", "integer", "boolean") else ""


def _choices(schema: dict[str, Any], default: Any) -> list[Choice]:
    values = schema["enum"] if "enum" in schema else [schema["const"]]
    return [Choice(json.dumps(value), _text(value), value == default) for value in values]


def _bounds(schema: dict[str, Any], kind: str) -> dict[str, str]:
    # An exclusive bound (`exclusiveMinimum: true`) is kept as an inclusive one: the form only
    # guides, the server checks exactly.
    return {
        "min": _number_text(schema.get("minimum")),
        "max": _number_text(schema.get("maximum")),
        "step": "1" if kind == "integer" else "any",
    }


def _number_text(value: Any) -> str:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _string_field(schema: dict[str, Any], common: dict[str, Any]) -> InputField:
    # A string with a media type is a document (text, or base64 for binary): a text area.
    media_type = schema.get("contentMediaType", "")
    widget = TEXTAREA if media_type else TEXT
    return InputField(widget=widget, initial=_text(schema.get("default")), hint=media_type, **common)


def _json_field(schema: dict[str, Any], common: dict[str, Any], hint: str = "") -> InputField:
    default = schema.get("default")
    media_type = schema.get("contentMediaType", "")
    hint = hint or (f"JSON ({media_type})" if media_type else "JSON")
    initial = json.dumps(default, indent=2) if default is not None else ""
    return InputField(widget=JSON, initial=initial, hint=hint, **common)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
