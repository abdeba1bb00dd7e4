"""Jobs and their outputs: the record of every execution request."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ums_site.literals import LiteralCharField
from ums_site.rows import Rows


class JobStatus(models.TextChoices):
    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    DISMISSED = "dismissed"


ACTIVE_STATUSES = (JobStatus.ACCEPTED, JobStatus.RUNNING)
FINAL_STATUSES = (JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED)
# The times a job's status document (statusInfo) gives, when they are known.
STATUS_TIMES = ("created", "started", "finished", "updated")


def in_queue() -> Q:
    """Jobs waiting for a session: the condition of the queue's partial indexes, which the
    queue's queries repeat so that the planner may use them."""
    return Q(status=JobStatus.ACCEPTED, session__isnull=True)


class ResponseType(models.TextChoices):
    RAW = "raw"
    DOCUMENT = "document"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    process = models.ForeignKey("registry.Process", on_delete=models.PROTECT, related_name="jobs")
    # Compared as literals in SQL, so that plans prepared for any values still use the status
    # in the queue's partial indexes and their estimates (ums_site/literals.py).
    status = LiteralCharField(max_length=10, choices=JobStatus.choices, default=JobStatus.ACCEPTED)
    inputs = models.JSONField(default=dict, blank=True)
    # The outputs the client asked for ({id: {"transmissionMode": ...}}); empty means all.
    outputs = models.JSONField(default=dict, blank=True)
    response = models.CharField(max_length=8, choices=ResponseType.choices, default=ResponseType.RAW)
    subscriber = models.JSONField(default=dict, blank=True)
    # The API's base URL as the client reached it, for absolute links in callbacks.
    links_base = models.CharField(max_length=500, blank=True)
    # The channel of the synchronous execution awaiting the job's end, if any: whichever
    # instance ends the job sends the end there as well as to the job's group, so that the
    # waiting instance need not subscribe the group on Redis before the job may leave
    # (jobs/waiting.py, `reply_watch`).
    reply_channel = models.CharField(max_length=200, blank=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The live session the job is assigned to; null while it waits in the queue.
    session = models.ForeignKey(
        "registry.WorkerSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The credential of the last session that held it, so only that worker may resume it.
    last_credential = models.ForeignKey(
        "registry.WorkerCredential", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The session that last gave the job back (rejected it, did not acknowledge it, or left),
    # and when: that session is offered the job again only after UMS_RETRY_DELAY.
    previous_session_id = models.UUIDField(null=True, blank=True, editable=False)
    requeued = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    # The worker's error of a failed job: {"title": ..., "detail": ...}.
    error = models.JSONField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    dispatched = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["-created"], name="job_created"),
            models.Index(fields=["status", "-created"], name="job_status_created"),
            models.Index(fields=["process", "-created"], name="job_process_created"),
            # A client's own jobs, newest first (the job list of everyone but staff): without it
            # SQLite read all of an owner's jobs through the owner index and sorted them.
            models.Index(fields=["owner", "-created"], name="job_owner_created"),
            # The queue: waiting jobs, oldest first.
            models.Index(
                fields=["created"],
                name="job_queue",
                condition=in_queue(),
            ),
            # The queue of the processes free sessions provide, as dispatch reads it: without
            # it SQLite took the process index and read every job the process ever had (job
            # creation went from 3 to 26 ms with 100,000 finished jobs).
            models.Index(
                fields=["process", "created"],
                name="job_queue_process",
                condition=in_queue(),
            ),
            # The active jobs of a session, counted for its free capacity on every dispatch:
            # without the status in the index the count read every job the session ever had.
            models.Index(fields=["session", "status"], name="job_session_status"),
            # The same count, holding only active jobs: PostgreSQL without planner statistics
            # (a new database, or autovacuum off) read every job of the session through the
            # index above, status as a filter: a creation's count took 1.1 ms at 5,000 jobs.
            models.Index(
                fields=["session"], name="job_session_active", condition=Q(status__in=ACTIVE_STATUSES)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.process_id} {self.id}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


# A job's row, read and written on the path of every job without the ORM's statement building.
job_rows = Rows(Job)


class JobOutput(models.Model):
    """One output of a successful job: an inline JSON value or a file in Django's storage."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="results")
    output_id = models.CharField(max_length=200)
    media_type = models.CharField(max_length=200, blank=True)
    value = models.JSONField(null=True, blank=True)
    file = models.FileField(upload_to="outputs/%Y/%m/%d/", null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "output_id"], name="one_output_per_id")]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.output_id}"


# A job's outputs, read with its result and when it ends.
job_output_rows = Rows(JobOutput)


class CallbackDelivery(models.Model):
    """A POST a job owes its subscriber (OGC callbacks), kept until delivered or given up.

    Recorded in the transaction of the job's change, so a crash cannot lose it; any server
    instance delivers it (see jobs.callbacks).
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="callbacks")
    url = models.URLField(max_length=2000)
    payload = models.JSONField()
    # Bumped when a newer progress report replaces the payload of an undelivered callback.
    revision = models.PositiveIntegerField(default=0)
    pending = models.BooleanField(default=True)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt may start (also a lease while an instance is posting it).
    due = models.DateTimeField(default=timezone.now)
    delivered = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["due"], name="callback_due", condition=Q(pending=True))]

    def __str__(self) -> str:
        return f"{self.job_id} → {self.url}"
