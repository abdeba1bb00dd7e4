"""A bound on how deeply JSON from clients and workers may nest.

Python's json module recurses once per level: a body of 100,000 `[` raises RecursionError,
which no caller expects (a 500, a crashed consumer), and a value nested a few hundred levels
deep still breaks later recursive code (schema validation, serialisation). No model input
or output needs more than a few dozen levels.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_NESTING = 64


def json_nesting_check(data: Any, limit: int = MAX_JSON_NESTING) -> None:
    """ValueError if `data` nests arrays and objects more than `limit` levels deep."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        if children and depth > limit:
            raise ValueError(f"JSON nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in children)


def json_loads_bounded(text: str | bytes) -> Any:
    """json.loads that raises ValueError, never RecursionError, for nesting past the bound."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested more than {MAX_JSON_NESTING} levels deep") from None
    json_nesting_check(data)
    return data
