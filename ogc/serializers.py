"""Output serializers of the OGC API documents (statusInfo, process summary and description).

They take the API's base URL as `context["base"]` (see ogc.links.base_url), so the same
documents can be built outside a request, for callbacks.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobs.models import Job, JobStatus
from ogc.links import REL_EXECUTE, REL_PROCESS_DESC, REL_RESULTS, link, self_links
from registry.models import Process

SUMMARY_FIELDS = ("title", "description", "keywords", "metadata", "jobControlOptions", "outputTransmission")


class StatusInfoSerializer(serializers.ModelSerializer):
    jobID = serializers.CharField(source="id")
    processID = serializers.CharField(source="process_id")
    type = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "jobID",
            "processID",
            "type",
            "status",
            "message",
            "progress",
            "created",
            "started",
            "finished",
            "updated",
            "links",
        ]

    def get_type(self, job: Job) -> str:
        return "process"

    def get_links(self, job: Job) -> list[dict[str, str]]:
        base = self.context["base"]
        links = self_links(base, f"/jobs/{job.id}", "this job's status")
        if job.status == JobStatus.SUCCESSFUL:
            links.append(link(base, f"/jobs/{job.id}/results", REL_RESULTS, title="the job's results"))
        return links

    def to_representation(self, job: Job) -> dict[str, Any]:
        data = super().to_representation(job)
        # statusInfo.yaml gives these no null: leave out what is not known yet.
        return {key: value for key, value in data.items() if value is not None}


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
