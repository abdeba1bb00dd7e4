"""Validation of the OGC process descriptions workers register.

A description must match the official `process.yaml` schema, and every input and output
`schema` must be usable as a JSON Schema, since inputs are validated with it before a job is
created. Input/output schemas are OpenAPI 3.0 schema objects; `value_schema` turns one into
the JSON Schema (2020-12) it means.
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator, SchemaError

from ogc.schemas import ogc_validator

PROCESS_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$")
MAX_REASONS = 5


class InvalidDescription(ValueError):
    """A description that cannot be registered; the message says why."""


def description_validate(description: Any) -> None:
    """Raises `InvalidDescription` with a readable reason when `description` is unusable."""
    if not isinstance(description, dict):
        raise InvalidDescription("a process description must be a JSON object")
    process_id = description.get("id")
    if not isinstance(process_id, str) or not PROCESS_ID.match(process_id):
        raise InvalidDescription(
            "'id' must be a string of 1-200 letters, digits, '.', '_', '~' or '-', "
            "starting with a letter or digit"
        )
    _check_ogc_schema(description)
    for kind in ("inputs", "outputs"):
        if not isinstance(description.get(kind, {}), dict):
            raise InvalidDescription(f"'{kind}' must be an object keyed by {kind[:-1]} id")
    if not description.get("outputs"):
        raise InvalidDescription("a process must declare at least one output in 'outputs'")
    for input_id, item in description.get("inputs", {}).items():
        _check_occurs(input_id, item)
        _check_value_schema(f"inputs.{input_id}", item["schema"])
    for output_id, item in description["outputs"].items():
        _check_value_schema(f"outputs.{output_id}", item["schema"])


def _check_ogc_schema(description: dict) -> None:
    errors = sorted(
        ogc_validator("schemas/process.yaml").iter_errors(description),
        key=lambda error: len(error.absolute_path),
        reverse=True,
    )
    if errors:
        reasons = [_error_text(error) for error in errors[:MAX_REASONS]]
        raise InvalidDescription("not a valid OGC process description: " + "; ".join(reasons))


def _error_text(error) -> str:
    # oneOf/allOf failures are more helpful through their most specific sub-error.
    best = error
    while best.context:
        best = max(best.context, key=lambda sub: len(sub.absolute_path))
    where = ".".join(str(part) for part in best.absolute_path) or "(top level)"
    return f"{where}: {best.message}"


def _check_occurs(input_id: str, item: dict) -> None:
    minimum = item.get("minOccurs", 1)
    maximum = item.get("maxOccurs", 1)
    if minimum < 0:
        raise InvalidDescription(f"inputs.{input_id}.minOccurs must not be negative")
    if maximum != "unbounded" and (maximum < 1 or maximum < minimum):
        raise InvalidDescription(
            f"inputs.{input_id}.maxOccurs must be 'unbounded' or at least max(1, minOccurs)"
        )


def _check_value_schema(where: str, schema: dict) -> None:
    try:
        Draft202012Validator.check_schema(value_schema(schema))
    except SchemaError as exc:
        raise InvalidDescription(f"{where}.schema is not a valid JSON Schema: {exc.message}") from None
    for pattern in _patterns(schema):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidDescription(f"{where}.schema has an invalid pattern {pattern!r}: {exc}") from None


def _patterns(schema: Any):
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield schema["pattern"]
        for value in schema.values():
            yield from _patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _patterns(value)


def value_schema(schema: Any) -> Any:
    """The JSON Schema (2020-12) meaning of an OpenAPI 3.0 schema object.

    Boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers, `nullable` adds "null" to
    the type, and references to documents outside the description (which cannot be fetched
    here) accept any value rather than fail every job.
    """
    if isinstance(schema, list):
        return [value_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return {} if not str(schema["$ref"]).startswith("#") else dict(schema)
    converted = {key: value_schema(value) for key, value in schema.items()}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(converted.get(exclusive), bool):
            if converted.pop(exclusive) and bound in converted:
                converted[exclusive] = converted.pop(bound)
    if converted.pop("nullable", False) is True and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    for keyword in ("readOnly", "writeOnly", "example", "deprecated", "contentSchema"):
        converted.pop(keyword, None)
    return converted
