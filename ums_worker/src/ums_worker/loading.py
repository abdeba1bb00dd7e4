"""Finding the objects the CLI is told to serve: MODULE:OBJECT and dotted class names."""

from __future__ import annotations

import importlib
from typing import Any


def object_load(spec: str) -> Any:
    """`package.module:attribute.path` -> the object."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected MODULE:OBJECT, got {spec!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{spec!r}: {module_name} has no attribute {attribute!r}") from None
    return obj


def class_load(dotted: str) -> type:
    """`package.module.ClassName` (or `package.module:ClassName`) -> the class."""
    if ":" in dotted:
        obj = object_load(dotted)
    else:
        module_name, _, name = dotted.rpartition(".")
        if not module_name:
            raise ValueError(f"expected a dotted class name like package.module.Class, got {dotted!r}")
        obj = getattr(importlib.import_module(module_name), name, None)
        if obj is None:
            raise ValueError(f"{module_name} has no attribute {name!r}")
    if not isinstance(obj, type):
        raise ValueError(f"{dotted!r} is not a class")
    return obj
