"""Validation of process descriptions against the official OGC API - Processes 1.0 schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# The copy the server validates with (ogc/ogcapi-processes-1.0, with its licence).
OGC_SCHEMAS = Path(__file__).resolve().parents[2] / "ogc" / "ogcapi-processes-1.0" / "schemas"


def ogc_description_errors(description: dict[str, Any]) -> list[str]:
    """Messages of every violation of process.yaml; skips the test where the schemas are absent."""
    yaml = pytest.importorskip("yaml")
    jsonschema = pytest.importorskip("jsonschema")
    referencing = pytest.importorskip("referencing")
    if not OGC_SCHEMAS.is_dir():
        pytest.skip(f"the OGC schemas are not at {OGC_SCHEMAS}")

    def retrieve(uri: str) -> Any:
        contents = yaml.safe_load((OGC_SCHEMAS / Path(uri).name).read_text())
        return referencing.Resource.from_contents(contents, referencing.jsonschema.DRAFT4)

    validator = jsonschema.Draft4Validator(
        {"$ref": "file:///process.yaml"}, registry=referencing.Registry(retrieve=retrieve)
    )
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(description)]
