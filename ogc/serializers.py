"""Output serializers of the OGC API documents (statusInfo, process summary, results)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobs.models import Job, JobStatus
from ogc.links import REL_EXECUTE, REL_PROCESS_DESC, REL_RESULTS, link, url
from registry.models import Process


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
        request = self.context["request"]
        links = [link(request, f"/jobs/{job.id}", "self", title="this job's status")]
        if job.status == JobStatus.SUCCESSFUL:
            links.append(link(request, f"/jobs/{job.id}/results", REL_RESULTS, title="the job's results"))
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
        request = self.context["request"]
        return [
            link(request, f"/processes/{process.pk}", "self", title="process description"),
            link(request, f"/processes/{process.pk}", REL_PROCESS_DESC, title="process description"),
            link(request, f"/processes/{process.pk}/execution", REL_EXECUTE, title="execute"),
            *process.description.get("links", []),
        ]

    def to_representation(self, process: Process) -> dict[str, Any]:
        description = process.description
        summary = {
            key: description[key]
            for key in (
                "title",
                "description",
                "keywords",
                "metadata",
                "jobControlOptions",
                "outputTransmission",
            )
            if key in description
        }
        summary.setdefault("jobControlOptions", process.job_control_options)
        summary.setdefault("outputTransmission", ["value"])
        return {**super().to_representation(process), **summary}


class ProcessSerializer(ProcessSummarySerializer):
    """The full description: the registered one with the server's summary fields and links."""

    def to_representation(self, process: Process) -> dict[str, Any]:
        return {**process.description, **super().to_representation(process)}


def results_document(job: Job, request) -> dict[str, Any]:
    """The results document: each output inline, qualified with its media type, or by link."""
    document: dict[str, Any] = {}
    for output in job.results.all():
        if output.file:
            document[output.output_id] = {
                "href": url(request, f"/jobs/{job.id}/results/{output.output_id}"),
                "type": output.media_type or "application/octet-stream",
            }
        elif output.media_type or isinstance(output.value, dict):
            document[output.output_id] = {
                "value": output.value,
                "mediaType": output.media_type or "application/json",
            }
        else:
            document[output.output_id] = output.value
    return document
