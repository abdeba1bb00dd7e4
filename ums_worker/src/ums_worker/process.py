"""A process: its OGC description and the handler that runs it."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

Handler = Callable[..., Any]

# Marks a function decorated with `process()` so the CLI can load it as MODULE:FUNCTION.
PROCESS_ATTRIBUTE = "__ums_process__"

_DEFAULT_JOB_CONTROL = ["sync-execute", "async-execute", "dismiss"]


@dataclass(frozen=True)
class Process:
    description: dict[str, Any]
    handler: Handler

    @property
    def id(self) -> str:
        return self.description["id"]

    @cached_property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)

    @cached_property  # asked on every job; inspecting the signature is not free
    def takes_context(self) -> bool:
        """Handlers may be `f(inputs)` or `f(inputs, ctx)`; models that need neither progress
        nor cancellation should not have to declare an unused argument."""
        try:
            parameters = inspect.signature(self.handler).parameters.values()
        except (TypeError, ValueError):
            return True
        positional = [
            p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
        return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in positional)


def process_description(description: dict[str, Any] | None, handler: Handler) -> dict[str, Any]:
    """The description with the fields the OGC schema requires filled in from the handler."""
    result = copy.deepcopy(description or {})
    result.setdefault("id", handler.__name__.replace("_", "-"))
    result.setdefault("version", "1.0.0")
    result.setdefault("title", result["id"])
    doc = inspect.getdoc(handler)
    if doc:
        result.setdefault("description", doc.split("\n\n", 1)[0])
    result.setdefault("jobControlOptions", list(_DEFAULT_JOB_CONTROL))
    result.setdefault("outputTransmission", ["value"])
    result.setdefault("inputs", {})
    result.setdefault("outputs", {})
    if not isinstance(result["id"], str) or not result["id"]:
        raise ValueError("a process id must be a non-empty string")
    return result


def process(description: dict[str, Any] | None = None) -> Callable[[Handler], Handler]:
    """Decorate a handler as a process without a Worker; serve it with `ums-worker MODULE:FUNCTION`."""

    def decorate(handler: Handler) -> Handler:
        setattr(handler, PROCESS_ATTRIBUTE, Process(process_description(description, handler), handler))
        return handler

    return decorate


def inputs_with_defaults(description: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The job's inputs plus the schema defaults of inputs the client left out."""
    result = dict(inputs)
    for input_id, declared in (description.get("inputs") or {}).items():
        schema = declared.get("schema") if isinstance(declared, dict) else None
        if input_id not in result and isinstance(schema, dict) and "default" in schema:
            result[input_id] = copy.deepcopy(schema["default"])
    return result
