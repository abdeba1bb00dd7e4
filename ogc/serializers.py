"""Output serializers of the OGC API documents (statusInfo, process summary and description).

They take the API's base URL as `context["base"]` (see ogc.links.base_url), so the same
documents can be built outside a request, for callbacks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

from jobs.models import STATUS_TIMES, Job, JobStatus
from ogc.links import REL_EXECUTE, REL_PROCESS_DESC, REL_RESULTS, link, self_links
from registry.models import Process

SUMMARY_FIELDS = ("title", "description", "keywords", "metadata", "jobControlOptions", "outputTransmission")


class StatusInfoSerializer(serializers.BaseSerializer):
    """A job as an OGC statusInfo document.

    Built directly, without declared fields: copying the fields of a Serializer for every job
    (and, before that, deriving them from the model) was a sixth of a status request's server
    CPU in the benchmark profile, and status requests are what clients poll.
    """

    def to_representation(self, job: Job) -> dict[str, Any]:
        base = self.context["base"]
        links = self_links(base, f"/jobs/{job.id}", "this job's status")
        if job.status == JobStatus.SUCCESSFUL:
            links.append(link(base, f"/jobs/{job.id}/results", REL_RESULTS, title="the job's results"))
        document = {
            "jobID": str(job.id),
            "processID": job.process_id,
            "type": "process",
            "status": job.status,
            "message": job.message,
        }
        # statusInfo.yaml gives these no null: leave out what is not known yet.
        if job.progress is not None:
            document["progress"] = job.progress
        for name in STATUS_TIMES:
            if (value := getattr(job, name)) is not None:
                document[name] = iso_datetime(value)
        return document | {"links": links}


def iso_datetime(value: datetime) -> str:
    """A date-time as DRF renders it in this project's TIME_ZONE, UTC: ISO 8601, `Z` for UTC.
    DRF's field looks the current time zone up for every value, a twentieth of a status
    request's CPU."""
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


class ProcessSummarySerializer(serializers.ModelSerializer):
    links = serializers.SerializerMethodField()

    class Meta:
        model = Process
        fields = ["id", "version", "links"]

    def get_links(self, process: Process) -> list[dict[str, str]]:
        base = self.context["base"]
        path = f"/processes/{process.pk}"
        return [
            *self_links(base, path, "process description"),
            link(base, path, REL_PROCESS_DESC, title="process description"),
            link(base, f"{path}/execution", REL_EXECUTE, title="execute"),
            *process.description.get("links", []),
        ]

    def to_representation(self, process: Process) -> dict[str, Any]:
        description = process.description
        summary = {key: description[key] for key in SUMMARY_FIELDS if key in description}
        summary.setdefault("jobControlOptions", process.job_control_options)
        summary.setdefault("outputTransmission", ["value", "reference"])
        return {**super().to_representation(process), **summary}


class ProcessSerializer(ProcessSummarySerializer):
    """The full description: the registered one with the server's summary fields and links."""

    def to_representation(self, process: Process) -> dict[str, Any]:
        return {**process.description, **super().to_representation(process)}
