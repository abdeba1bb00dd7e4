"""Template filters and tags of the HTML pages."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.conf import settings

from ogc.execute_form import InputField, input_fields
from ogc.result_views import OutputView, output_views

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for a <pre> block (autoescaped by the template)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.filter
def execute_example(description: dict) -> str:
    """A first execute request for the process page's form: every required input with a
    value its schema suggests, results as a document."""
    inputs = {
        input_id: _example(item.get("schema", {}))
        for input_id, item in description.get("inputs", {}).items()
        if item.get("minOccurs", 1) > 0
    }
    return json.dumps({"inputs": inputs, "response": "document"}, indent=2)


def _example(schema: dict) -> Any:
    for keyword in ("default", "example"):
        if keyword in schema:
            return schema[keyword]
    if schema.get("enum"):
        return schema["enum"][0]
    placeholders = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    return placeholders.get(schema.get("type"))


@register.filter
def execute_fields(process: dict[str, Any]) -> list[InputField]:
    """The execute form's fields of a process description."""
    return input_fields(process.get("inputs") or {})


@register.filter
def result_views(results: dict[str, Any]) -> list[OutputView]:
    """How each output of a results document is shown."""
    return output_views(results)


@register.simple_tag
def map_tiles() -> dict[str, str]:
    """The base map of result maps (none unless configured)."""
    return {"url": settings.UMS_MAP_TILE_URL, "attribution": settings.UMS_MAP_TILE_ATTRIBUTION}
