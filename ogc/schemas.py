"""The official OGC API – Processes 1.0 schemas (vendored with their licence), as validators.

The files are OpenAPI 3.0 schema objects, close to JSON Schema draft 4 (boolean
`exclusiveMinimum`, `nullable`), with relative `$ref`s between siblings. They are loaded into a
`referencing.Registry` so each file can validate on its own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

SCHEMA_ROOT = Path(__file__).resolve().parent / "ogcapi-processes-1.0"
BASE_URI = "https://schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/"


@cache  # referencing does not keep what it retrieves: parse each file once, not per validation
def _retrieve(uri: str) -> Resource:
    if not uri.startswith(BASE_URI):
        raise NoSuchResource(ref=uri)
    path = (SCHEMA_ROOT / uri.removeprefix(BASE_URI)).resolve()
    if not path.is_relative_to(SCHEMA_ROOT) or not path.is_file():
        raise NoSuchResource(ref=uri)
    return DRAFT4.create_resource(yaml.safe_load(path.read_text()))


@cache
def _registry() -> Registry:
    return Registry(retrieve=_retrieve)


@cache
def ogc_validator(name: str) -> Draft4Validator:
    """A validator for one schema file, e.g. `ogc_validator("schemas/process.yaml")`."""
    uri = BASE_URI + name
    schema = _retrieve(uri).contents
    return Draft4Validator(
        {"$ref": uri} if isinstance(schema, dict) else schema,
        registry=_registry(),
        format_checker=FormatChecker(),
    )
