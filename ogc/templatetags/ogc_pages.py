"""Template filters of the HTML pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for a <pre> block (autoescaped by the template)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.filter
def get(mapping: dict, key: str) -> Any:
    """`mapping[key]` for keys that are not identifiers, such as "conformsTo" lookups."""
    return mapping.get(key) if isinstance(mapping, dict) else None
