"""`manage.py purge_jobs`: finished jobs past the retention go, their files included."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from jobs.models import Job, JobOutput
from jobs.outputs import output_file_store
from registry.models import WorkerSession
from tests.scheduler_records import echo_process, running_job_create, session_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UMS_RESULT_RETENTION_DAYS = 7
    return tmp_path


def finished_job(*, days_ago: float, status: str = "successful") -> Job:
    job = Job.objects.create(process=echo_process(), status=status)
    Job.objects.filter(pk=job.pk).update(finished=timezone.now() - timedelta(days=days_ago))
    return job


def stored_output(job: Job) -> str:
    name = output_file_store(job_id=job.pk, content=ContentFile(b"result"))
    JobOutput.objects.create(job=job, output_id="echo", file=name, size=6)
    return name


def purge() -> str:
    out = io.StringIO()
    call_command("purge_jobs", stdout=out)
    return out.getvalue()


def test_old_finished_jobs_go_with_their_files_and_the_rest_stays(media_root):
    live = session_create()
    running = running_job_create(live)
    running_file = output_file_store(job_id=running.pk, content=ContentFile(b"on its way"))
    old, old_failed, recent = (
        finished_job(days_ago=8),
        finished_job(days_ago=30, status="failed"),
        finished_job(days_ago=1),
    )
    old_file, recent_file = stored_output(old), stored_output(recent)
    orphan = output_file_store(job_id=uuid.uuid4(), content=ContentFile(b"crashed before recording"))
    ended = session_create()
    WorkerSession.objects.filter(pk=ended.pk).update(disconnected_at=timezone.now() - timedelta(days=8))

    report = purge()

    assert report.startswith("Purged 2 job(s) finished more than 7 day(s) ago, 1 ended worker session(s)")
    assert set(Job.objects.values_list("pk", flat=True)) == {running.pk, recent.pk}
    assert set(WorkerSession.objects.values_list("pk", flat=True)) == {live.pk}
    assert not (media_root / old_file).exists() and not (media_root / orphan).exists()
    assert (media_root / recent_file).exists() and (media_root / running_file).exists()
    assert old_failed.pk not in set(Job.objects.values_list("pk", flat=True))


def test_days_on_the_command_line_override_the_setting():
    job = finished_job(days_ago=2)
    call_command("purge_jobs", "--days", "1", stdout=io.StringIO())
    assert not Job.objects.filter(pk=job.pk).exists()
