"""Bounds on JSON from clients and workers: nesting depth, and no NUL characters.

Python's json module recurses once per level: a body of 100,000 `[` raises RecursionError,
which no caller expects (a 500, a crashed consumer), and a value nested a few hundred levels
deep still breaks later recursive code (schema validation, serialisation). No model input
or output needs more than a few dozen levels.

PostgreSQL's jsonb cannot store the NUL character (`\\u0000`): a string or key holding one
would make the INSERT of a job or output fail. It is refused where the JSON comes in.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_NESTING = 64


def json_check(data: Any, limit: int = MAX_JSON_NESTING) -> None:
    """ValueError if `data` nests arrays and objects past `limit` levels or holds a NUL."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if isinstance(node, dict):
            for key in node:
                _check_text(key)
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        if children and depth > limit:
            raise ValueError(f"JSON nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise ValueError("JSON strings may not contain the NUL character (\\u0000)")


def json_loads_bounded(text: str | bytes) -> Any:
    """json.loads that raises ValueError, never RecursionError, for JSON past the bounds."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested more than {MAX_JSON_NESTING} levels deep") from None
    json_check(data)
    return data
