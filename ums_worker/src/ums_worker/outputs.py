"""What a handler returns, turned into the outputs of a `job.succeeded` frame."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DEFAULT_UPLOAD_THRESHOLD = 512 * 1024


@dataclass(frozen=True)
class Output:
    """One output value with its media type.

    `value` is anything JSON can hold, or `bytes` (which always travel over HTTP, since a
    WebSocket JSON frame cannot hold them).
    """

    value: Any
    media_type: str | None = None


def declared_output_ids(description: dict[str, Any]) -> list[str]:
    outputs = description.get("outputs")
    return list(outputs) if isinstance(outputs, dict) else []


def outputs_from_result(result: Any, description: dict[str, Any]) -> dict[str, Output]:
    """Map a handler's return value to {output id: Output}.

    A dict keyed by declared output ids is the normal form. A process with exactly one
    declared output may also return the bare value (handy for GeoJSON results, which are
    dicts themselves).
    """
    declared = declared_output_ids(description)
    if isinstance(result, dict) and result and (not declared or set(result) <= set(declared)):
        return {str(key): _as_output(value) for key, value in result.items()}
    if isinstance(result, dict) and not result:
        return {}
    if isinstance(result, Output) or len(declared) == 1:
        return {declared[0]: _as_output(result)} if declared else {}
    raise TypeError(
        f"the handler returned {type(result).__name__}; expected a dict of output ids "
        f"({', '.join(declared) or 'none declared'}) to values or Output objects"
    )


def _as_output(value: Any) -> Output:
    return value if isinstance(value, Output) else Output(value=value)


def output_media_type(output_id: str, output: Output, description: dict[str, Any]) -> str:
    """Explicit media type, else the declared schema's contentMediaType, else a guess from the value."""
    if output.media_type:
        return output.media_type
    declared = (description.get("outputs") or {}).get(output_id) or {}
    schema = declared.get("schema") if isinstance(declared, dict) else None
    if isinstance(schema, dict) and isinstance(schema.get("contentMediaType"), str):
        return schema["contentMediaType"]
    if isinstance(output.value, bytes):
        return "application/octet-stream"
    return "text/plain" if isinstance(output.value, str) else "application/json"


def _is_json_media_type(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base.endswith("/json") or base.endswith("+json")


def output_body(output: Output, media_type: str) -> bytes:
    """The bytes to upload for an output sent by reference.

    Text in a non-JSON media type (CSV, XML, ...) is uploaded as the text itself, so the stored
    file is what the media type says; everything else is uploaded as JSON.
    """
    if isinstance(output.value, bytes):
        return output.value
    if isinstance(output.value, str) and not _is_json_media_type(media_type):
        return output.value.encode()
    return output_json(output).encode()


def output_json(output: Output) -> str:
    try:
        return json.dumps(output.value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"output value is not JSON serialisable: {exc}") from None


def output_needs_upload(output: Output, threshold: int) -> bool:
    """Bytes always, JSON values above `threshold` bytes: WebSocket frames stay small."""
    if isinstance(output.value, bytes):
        return True
    return len(output_json(output).encode()) > threshold
