"""Test data of the OGC API tests: providers, jobs in any state, official-schema checks."""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone
from jsonschema.exceptions import ValidationError

from jobs.models import Job, JobOutput, JobStatus
from ogc.schemas import ogc_validator
from registry.models import WorkerSession
from registry.services import credential_create, processes_register
from tests.factories import ECHO

_names = itertools.count()

# Two outputs, one input of each kind the validation knows.
MULTI = {
    "id": "multi",
    "version": "2.0.0",
    "title": "Multi",
    "description": "Several inputs and outputs.",
    "jobControlOptions": ["sync-execute", "async-execute"],
    "outputTransmission": ["value", "reference"],
    "inputs": {
        "count": {"title": "Count", "schema": {"type": "integer", "minimum": 1}},
        "names": {"title": "Names", "schema": {"type": "string"}, "minOccurs": 0, "maxOccurs": 2},
        "area": {
            "title": "Area",
            "minOccurs": 0,
            "schema": {
                "type": "object",
                "required": ["bbox"],
                "properties": {
                    "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                    "crs": {"type": "string", "format": "uri"},
                },
            },
        },
        "grid": {
            "title": "Grid",
            "minOccurs": 0,
            "schema": {"type": "string", "format": "byte", "contentMediaType": "image/tiff"},
        },
        "geometry": {
            "title": "Geometry",
            "minOccurs": 0,
            "schema": {"type": "object", "contentMediaType": "application/geo+json"},
        },
    },
    "outputs": {
        "text": {"title": "Text", "schema": {"type": "string", "contentMediaType": "text/plain"}},
        "table": {"title": "Table", "schema": {"type": "object"}},
    },
}


def described(base: dict[str, Any] = ECHO, **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(base), **changes}


def provide(*descriptions: dict[str, Any], capacity: int = 1) -> WorkerSession:
    """A live session (without a socket) providing these processes."""
    credential, _ = credential_create(name=f"provider-{next(_names)}")
    session = WorkerSession.objects.create(
        credential=credential,
        name="provider",
        channel_name=f"test.provider-{credential.pk}",
        instance="test",
        capacity=capacity,
        last_seen_at=timezone.now(),
    )
    registration = processes_register(session=session, descriptions=list(descriptions or [ECHO]))
    assert not registration.rejected, registration.rejected
    return session


def job_make(
    process_id: str = "echo",
    status: str = JobStatus.ACCEPTED,
    *,
    results: dict[str, tuple[Any, str]] | None = None,
    ran_for: float | None = None,
    **fields: Any,
) -> Job:
    """A job in `status` (no worker involved); `results` maps output ids to (value, media type)."""
    now = timezone.now()
    if status != JobStatus.ACCEPTED:
        fields.setdefault("started", now - timedelta(seconds=ran_for or 1))
    if status == JobStatus.SUCCESSFUL:
        fields.setdefault("progress", 100)
    if status in (JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED):
        fields.setdefault("finished", fields["started"] + timedelta(seconds=ran_for or 1))
    job = Job.objects.create(process_id=process_id, status=status, **fields)
    for output_id, (value, media_type) in (results or {}).items():
        JobOutput.objects.create(job=job, output_id=output_id, value=value, media_type=media_type)
    return job


def schema_errors(schema_file: str, instance: Any) -> list[str]:
    """What the official schema finds wrong with `instance`, minus the schemas' known defect:
    `inputValueNoObject.yaml` takes a plain string or number as two of its `oneOf` branches
    (see ogc/ogcapi-processes-1.0/README.md)."""
    return [
        f"{list(error.absolute_path)}: {error.message}"
        for error in ogc_validator(schema_file).iter_errors(instance)
        if not _ambiguous_scalar(error)
    ]


def _ambiguous_scalar(error: ValidationError) -> bool:
    if isinstance(error.instance, bool) or not isinstance(error.instance, str | int | float | dict):
        return False
    return "is valid under each of" in error.message or any(_ambiguous_scalar(sub) for sub in error.context)
