"""The OpenAPI 3.0 document (oas30 conformance class), generated at request time.

drf-spectacular describes the views; a postprocessing hook adds the official OGC schemas as
components (the views' responses refer to them) and one execute operation per registered
process with that process's inputs, so the document follows the workers that are live.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView

from ogc.links import OPENAPI_JSON
from ogc.renderers import FormatNegotiation
from ogc.schemas import SCHEMA_ROOT
from registry import selectors as registry_selectors
from registry.models import Process

COMPONENTS = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    """A reference to an official OGC schema, e.g. `ref("statusInfo")`."""
    return {"$ref": COMPONENTS + name}


def response(schema_name: str, description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ref(schema_name), description=description)


PROBLEM = response("exception", "Problem details (RFC 7807) with the OGC exception type")
PREFER = OpenApiParameter(
    "Prefer",
    str,
    OpenApiParameter.HEADER,
    description="`respond-async` asks for asynchronous execution where the process allows both.",
)
FORMAT = OpenApiParameter("f", str, enum=["json", "html"], description="The encoding; overrides Accept.")
LIMIT = OpenApiParameter("limit", int, description="Items per page, 1 to 10000 (default 10).")
OFFSET = OpenApiParameter("offset", int, description="Position of the page (from `next`/`prev` links).")


def ogc_operation(operation_id: str, schema_name: str, description: str, **kwargs: Any):
    """extend_schema for a GET of the API: its OGC response schema, problems, and `f`."""
    return extend_schema(
        operation_id=operation_id,
        parameters=[*kwargs.pop("parameters", []), FORMAT],
        responses={200: response(schema_name, description), 400: PROBLEM, 404: PROBLEM, 500: PROBLEM},
        **kwargs,
    )


JOB_FILTERS = [
    OpenApiParameter("type", str, many=True, enum=["process"]),
    OpenApiParameter("processID", str, many=True),
    OpenApiParameter(
        "status", str, many=True, enum=["accepted", "running", "successful", "failed", "dismissed"]
    ),
    OpenApiParameter("datetime", str, description="An instant or an interval (`start/end`, `..` for open)."),
    OpenApiParameter("minDuration", int, description="Seconds a job has run at least."),
    OpenApiParameter("maxDuration", int, description="Seconds a job has run at most."),
]


EXECUTE_OPERATION = extend_schema(
    operation_id="execute",
    request={"application/json": ref("execute")},
    parameters=[PREFER],
    responses={
        200: OpenApiResponse(description="The results: raw (one output, or multipart/related) or a document"),
        201: response("statusInfo", "The job was created (asynchronous execution); Location is its URL"),
        204: OpenApiResponse(description="Raw results, every output by reference: one Link header each"),
        400: PROBLEM,
        404: PROBLEM,
        500: PROBLEM,
    },
)


@cache
def ogc_components() -> dict[str, Any]:
    """Every official schema file as a component, with its file references made local."""
    return {
        path.stem: _local_refs(yaml.safe_load(path.read_text()))
        for path in sorted((SCHEMA_ROOT / "schemas").glob("*.yaml"))
    } | {
        # The official file requires "successUrl", a typo of the standard's "successUri".
        "subscriber": {
            key: value
            for key, value in yaml.safe_load((SCHEMA_ROOT / "schemas/subscriber.yaml").read_text()).items()
            if key != "required"
        }
    }


def _local_refs(node: Any) -> Any:
    if isinstance(node, list):
        return [_local_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str) and node["$ref"].endswith(".yaml"):
        return ref(node["$ref"].rsplit("/", 1)[-1].removesuffix(".yaml"))
    return {key: _local_refs(value) for key, value in node.items()}


def execute_schema(process: Process) -> dict[str, Any]:
    """The execute request of one process: its own inputs and outputs."""
    description = process.description
    inputs = description.get("inputs", {})
    required = [input_id for input_id, item in inputs.items() if item.get("minOccurs", 1) > 0]
    inputs_schema: dict[str, Any] = {
        "type": "object",
        "properties": {input_id: _input_schema(item) for input_id, item in inputs.items()},
        "additionalProperties": False,
    }
    if required:
        inputs_schema["required"] = required
    return {
        "type": "object",
        "properties": {
            "inputs": inputs_schema,
            "outputs": {
                "type": "object",
                "properties": {output_id: ref("output") for output_id in description.get("outputs", {})},
                "additionalProperties": False,
            },
            "response": {"type": "string", "enum": ["raw", "document"], "default": "raw"},
            "subscriber": ref("subscriber"),
        },
        **({"required": ["inputs"]} if required else {}),
    }


OAS30_KEYWORDS = {
    "$ref", "title", "description", "type", "format", "default", "enum", "nullable", "example",
    "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
    "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required",
    "allOf", "oneOf", "anyOf", "not", "items", "properties", "additionalProperties", "discriminator",
    "readOnly", "writeOnly", "xml", "externalDocs", "deprecated",
}  # fmt: skip


def oas30_schema(schema: Any) -> Any:
    """A process's value schema as an OpenAPI 3.0 schema object: keywords OpenAPI 3.0 does not
    know (`contentMediaType`, which OGC descriptions use, …) become `x-` extensions."""
    if not isinstance(schema, dict):
        return schema
    converted: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("allOf", "oneOf", "anyOf"):
            converted[key] = [oas30_schema(item) for item in value]
        elif key in ("not", "items", "additionalProperties"):
            converted[key] = oas30_schema(value)
        elif key == "properties":
            converted[key] = {name: oas30_schema(item) for name, item in value.items()}
        else:
            converted[key if key in OAS30_KEYWORDS or key.startswith("x-") else f"x-{key}"] = value
    return converted


def _input_schema(item: dict[str, Any]) -> dict[str, Any]:
    value = oas30_schema(item["schema"])
    qualified = {
        "allOf": [ref("format"), {"type": "object", "required": ["value"], "properties": {"value": value}}]
    }
    one = {"anyOf": [value, qualified, ref("link")]}
    if item.get("maxOccurs", 1) == 1:
        return one
    many: dict[str, Any] = {"type": "array", "items": one, "minItems": item.get("minOccurs", 1)}
    if item.get("maxOccurs") != "unbounded":
        many["maxItems"] = item["maxOccurs"]
    return {"anyOf": [one, many]}


def _execute_operation(process: Process) -> dict[str, Any]:
    title = process.title or process.pk
    problem = {
        "description": PROBLEM.description,
        "content": {"application/json": {"schema": ref("exception")}},
    }
    return {
        "post": {
            "operationId": f"execute_{process.pk}",
            "summary": f"Execute {title}",
            "tags": ["processes"],
            "parameters": [
                {
                    "name": "Prefer",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "`respond-async` for an asynchronous execution; `wait=N` to wait at "
                    "most N seconds for a synchronous one's results before a 201 answer.",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": execute_schema(process)}},
            },
            "responses": {
                "200": {"description": "The results (raw or document, as requested)"},
                "201": {
                    "description": "The job was created (asynchronous execution)",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": ref("statusInfo")}},
                },
                "204": {"description": "Every output by reference, as Link headers"},
                "400": problem,
                "404": problem,
            },
        }
    }


def openapi_postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular hook: the OGC components and one execute operation per live process."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ogc_components())
    if request is None:  # generated offline (manage.py spectacular): no live processes
        return result
    for process in registry_selectors.process_list():
        result["paths"][f"/processes/{process.pk}/execution"] = _execute_operation(process)
    return result


class OpenAPIView(SpectacularAPIView):
    """The API definition: OpenAPI JSON by default (also as application/json, or YAML)."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer]
    content_negotiation_class = FormatNegotiation

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # The media type the standard names carries a parameter, which DRF's negotiation
        # would demand in the Accept header (a bare */* would not match): set it here.
        # (Problem details are plain JSON responses, without a renderer.)
        if type(getattr(response, "accepted_renderer", None)) is OpenApiJsonRenderer:
            response.content_type = OPENAPI_JSON
        return response
