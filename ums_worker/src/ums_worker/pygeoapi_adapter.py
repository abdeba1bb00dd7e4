"""pygeoapi process plugins (BaseProcessor subclasses) served unchanged as worker processes.

pygeoapi is imported lazily by the plugin itself: the SDK does not depend on it.
"""

from __future__ import annotations

import copy
from typing import Any

from .context import JobContext
from .loading import class_load
from .outputs import Output, declared_output_ids
from .process import Process

LANGUAGE = "en"
_JOB_CONTROL = {"sync-execute", "async-execute", "dismiss"}
_TRANSMISSION = {"value", "reference"}
# Keys of a schema object that the OGC API - Processes 1.0 schema (schema.yaml) allows;
# it forbids every other key, so a description carrying one would be rejected.
_SCHEMA_KEYS = {
    "title", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties",
    "required", "enum", "type", "not", "allOf", "oneOf", "anyOf", "items", "properties",
    "additionalProperties", "description", "format", "default", "nullable", "readOnly", "writeOnly",
    "example", "deprecated", "contentMediaType", "contentEncoding", "contentSchema",
}  # fmt: skip
_SCHEMA_TYPES = {"array", "boolean", "integer", "number", "object", "string"}


def pygeoapi_process(processor: type | str, *, process_id: str | None = None) -> Process:
    """A Process running `processor` (a BaseProcessor subclass or its dotted name)."""
    cls = class_load(processor) if isinstance(processor, str) else processor
    metadata = getattr(cls, "PROCESS_METADATA", None)
    if metadata is None:
        # pygeoapi plugins keep their metadata in the module; instances always carry it.
        metadata = cls({"name": process_id or cls.__name__}).metadata
    description = description_from_pygeoapi(metadata, process_id=process_id)
    name = description["id"]

    def handler(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Output]:
        # A fresh instance per job, as pygeoapi's manager does: set_job_id() is per instance.
        instance = cls({"name": name})
        instance.set_job_id(ctx.job)
        media_type, result = instance.execute(inputs, ctx.outputs or None)
        return outputs_from_pygeoapi(media_type, result, description)

    handler.__name__ = name
    return Process(description, handler)


def description_from_pygeoapi(metadata: dict[str, Any], *, process_id: str | None = None) -> dict[str, Any]:
    """An OGC process description from pygeoapi's PROCESS_METADATA.

    pygeoapi allows multilingual titles ({"en": ..., "fr": ...}) and JSON Schema keywords that the
    OGC 1.0 schema does not; the server validates against the OGC schema, so they are translated
    here: one language for text, the OpenAPI 3.0 flavour of JSON Schema for input schemas.
    """
    description = _localized(copy.deepcopy(metadata))
    if process_id:
        description["id"] = process_id
    description["version"] = str(description.get("version") or "1.0.0")
    description.setdefault("title", description["id"])
    if "jobControlOptions" in description:
        description["jobControlOptions"] = [o for o in description["jobControlOptions"] if o in _JOB_CONTROL]
    if "outputTransmission" in description:
        description["outputTransmission"] = [
            o for o in description["outputTransmission"] if o in _TRANSMISSION
        ]
    if isinstance(description.get("links"), list):
        description["links"] = [
            link for link in description["links"] if isinstance(link, dict) and "href" in link
        ]
    for section in ("inputs", "outputs"):
        for item in (description.get(section) or {}).values():
            if isinstance(item, dict):
                item["schema"] = schema_to_ogc(item.get("schema", {}))
    return description


def _localized(value: Any, key: str | None = None) -> Any:
    """Replace language maps under text keys by the text of one language."""
    if isinstance(value, dict):
        if key in ("title", "description", "keywords") and _is_language_map(value):
            return value.get(LANGUAGE, next(iter(value.values())))
        if key == "schema":
            return value  # a schema's `title` holds text already; its properties are not languages
        return {k: _localized(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_localized(v) for v in value]
    return value


def _is_language_map(value: dict[str, Any]) -> bool:
    return bool(value) and all(isinstance(k, str) and 2 <= len(k) <= 8 for k in value)


def schema_to_ogc(schema: Any) -> Any:
    """A JSON Schema in the subset the OGC schema allows; references are kept as they are."""
    if not isinstance(schema, dict):
        return {}
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    result = dict(schema)
    if "const" in result and "enum" not in result:
        result["enum"] = [result["const"]]
    if (
        "examples" in result
        and "example" not in result
        and isinstance(result["examples"], list)
        and result["examples"]
    ):
        result["example"] = result["examples"][0]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # JSON Schema 2020-12 gives the bound itself; OpenAPI 3.0 (OGC 1.0) a flag on minimum/maximum.
        if isinstance(result.get(bound), int | float) and not isinstance(result[bound], bool):
            result[limit], result[bound] = result[bound], True
    if isinstance(result.get("type"), list):
        types = [t for t in result["type"] if t != "null"]
        result["nullable"] = "null" in result["type"] or result.get("nullable", False)
        result.pop("type")
        if len(types) == 1:
            result["type"] = types[0]
    if result.get("type") not in _SCHEMA_TYPES:
        result.pop("type", None)
    if not isinstance(result.get("contentSchema", ""), str):
        result.pop("contentSchema")
    for key in ("not", "items"):
        if key in result:
            result[key] = schema_to_ogc(result[key])
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(result.get(key), list):
            result[key] = [schema_to_ogc(s) for s in result[key]]
    if isinstance(result.get("properties"), dict):
        result["properties"] = {k: schema_to_ogc(s) for k, s in result["properties"].items()}
    if isinstance(result.get("additionalProperties"), dict):
        result["additionalProperties"] = schema_to_ogc(result["additionalProperties"])
    return {k: v for k, v in result.items() if k in _SCHEMA_KEYS}


def outputs_from_pygeoapi(
    media_type: str | None, result: Any, description: dict[str, Any]
) -> dict[str, Output]:
    """pygeoapi's (mimetype, outputs) return value as {output id: Output}.

    Processors return {"id": ..., "value": ...}, a list of those, a dict keyed by output ids, or
    a bare value (dict, str, bytes) that is the process's one output.
    """
    declared = declared_output_ids(description)
    if _is_id_value(result):
        return {str(result["id"]): Output(result["value"], media_type)}
    if isinstance(result, list) and result and all(_is_id_value(item) for item in result):
        return {
            str(item["id"]): Output(item["value"], item.get("mediaType") or media_type) for item in result
        }
    if isinstance(result, dict) and not result:
        return {}  # the requested outputs excluded everything this processor produces
    if isinstance(result, dict) and declared and set(result) <= set(declared):
        return {key: Output(value, media_type if len(result) == 1 else None) for key, value in result.items()}
    if not declared:
        raise TypeError("the processor declares no outputs, so its result cannot be mapped to one")
    return {declared[0]: Output(result, media_type)}


def _is_id_value(item: Any) -> bool:
    return isinstance(item, dict) and "id" in item and "value" in item
