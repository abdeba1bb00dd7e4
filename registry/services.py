"""Writes to the registry: credentials, worker sessions and the processes they provide."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import ACTIVE_STATUSES, Job, JobStatus
from jobs.notifications import Outbox
from jobs.scheduler import processes_provider_left, session_end
from registry.models import Process, WorkerCredential, WorkerSession
from registry.process_descriptions import InvalidDescription, description_validate
from registry.tokens import token_display_prefix, token_generate, token_hash

logger = logging.getLogger(__name__)


def credential_create(
    *, name: str, process_patterns: list[str] | None = None, owner=None
) -> tuple[WorkerCredential, str]:
    """A new credential and its token; the token is not stored and cannot be shown again."""
    credential = WorkerCredential(name=name, process_patterns=list(process_patterns or []), owner=owner)
    token = credential_token_issue(credential)
    return credential, token


def credential_token_issue(credential: WorkerCredential) -> str:
    """Gives a credential a new token (the old one stops working) and saves it."""
    token = token_generate()
    credential.token_hash = token_hash(token)
    credential.token_prefix = token_display_prefix(token)
    credential.save()
    return token


def credential_authenticate(token: str) -> WorkerCredential | None:
    """The active credential of a token, recording when it was last used."""
    credential = WorkerCredential.objects.filter(token_hash=token_hash(token), is_active=True).first()
    if credential is not None:
        credential.last_used_at = timezone.now()
        WorkerCredential.objects.filter(pk=credential.pk).update(last_used_at=credential.last_used_at)
    return credential


@dataclass
class Registration:
    accepted: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)

    def reject(self, process_id: Any, reason: str) -> None:
        self.rejected.append({"id": process_id if isinstance(process_id, str) else "", "reason": reason})


@dataclass
class SessionOpened:
    session: WorkerSession
    registration: Registration
    resumed: list[str]
    not_resumed: list[str]


@transaction.atomic
def session_open(
    *,
    credential: WorkerCredential,
    channel_name: str,
    name: str,
    capacity: int,
    processes: list[Any],
    resume: list[str],
    outbox: Outbox,
) -> SessionOpened:
    now = timezone.now()
    session = WorkerSession.objects.create(
        credential=credential,
        name=name,
        channel_name=channel_name,
        instance=settings.UMS_INSTANCE_ID,
        capacity=capacity,
        last_seen_at=now,
    )
    registration = processes_register(session=session, descriptions=processes)
    resumed, not_resumed = _jobs_resume(session, resume, outbox)
    logger.info(
        "worker %s connected as session %s (capacity %d, %d process(es), %d resumed)",
        name,
        session.id,
        capacity,
        len(registration.accepted),
        len(resumed),
    )
    return SessionOpened(session, registration, resumed, not_resumed)


def _jobs_resume(session: WorkerSession, job_ids: list[str], outbox: Outbox) -> tuple[list[str], list[str]]:
    """Gives back to a reconnecting worker the jobs it says it is still running.

    Only jobs its credential held last, that are not final and that no live session of another
    credential holds. The old session of the worker usually still looks live (its server died
    or has not noticed the lost socket yet): the job moves from it. If it was instead another
    worker process with the same token that got the job after a requeue, that one is told to
    stop, so the job does not run twice for long.
    """
    provided = set(session.processes.values_list("pk", flat=True))
    resumed: list[str] = []
    jobs = Job.objects.select_for_update(of=("self",)).filter(pk__in=job_ids, status__in=ACTIVE_STATUSES)
    for job in jobs.select_related("session"):
        held_elsewhere = (
            job.session is not None
            and job.session.is_live
            and job.session.credential_id != session.credential_id
        )
        if (
            job.last_credential_id != session.credential_id
            or held_elsewhere
            or job.process_id not in provided
        ):
            continue
        if job.session is not None and job.session.is_live:
            outbox.to_session(job.session.channel_name, "job.cancel", job=str(job.id))
        job.session = session
        job.status = JobStatus.RUNNING
        job.started = job.started or timezone.now()
        job.dispatched = job.dispatched or job.started
        job.message = "Resumed after the worker reconnected"
        job.save()
        resumed.append(str(job.id))
    return resumed, [job_id for job_id in job_ids if job_id not in resumed]


def processes_register(*, session: WorkerSession, descriptions: list[Any]) -> Registration:
    registration = Registration()
    seen: set[str] = set()
    for description in descriptions:
        process_id = description.get("id") if isinstance(description, dict) else None
        try:
            description_validate(description)
            if process_id in seen:
                raise InvalidDescription("the same id appears twice in this frame")
            if not session.credential.allows_process(process_id):
                raise InvalidDescription("this worker token may not register this process id")
            _process_provide(session, description)
        except InvalidDescription as exc:
            registration.reject(process_id, str(exc))
        else:
            registration.accepted.append(process_id)
        if isinstance(process_id, str):
            seen.add(process_id)
    return registration


def _process_provide(session: WorkerSession, description: dict) -> None:
    with transaction.atomic():
        process, created = Process.objects.select_for_update().get_or_create(
            pk=description["id"],
            defaults={"version": description["version"], "description": description},
        )
        if not created:
            others = process.providers.live().exclude(pk=session.pk)
            if process.version != description["version"] and others.exists():
                raise InvalidDescription(
                    f"version {description['version']} conflicts with version {process.version} "
                    "served by other live workers"
                )
            process.version = description["version"]
            process.description = description
            process.save()
        process.providers.add(session)


def processes_unregister(*, session: WorkerSession, process_ids: list[str]) -> Registration:
    registration = Registration()
    provided = set(session.processes.values_list("pk", flat=True))
    for process_id in process_ids:
        if process_id in provided:
            registration.accepted.append(process_id)
        else:
            registration.reject(process_id, "this session does not provide this process")
    session.processes.remove(*registration.accepted)
    processes_provider_left(Process.objects.filter(pk__in=registration.accepted), at=timezone.now())
    return registration


def session_touch(*, session_id) -> bool:
    """Records that a session is alive; False if it was declared dead meanwhile."""
    return bool(WorkerSession.objects.live().filter(pk=session_id).update(last_seen_at=timezone.now()))


def credential_revoke(*, credential: WorkerCredential, outbox: Outbox) -> int:
    """Deactivates a token with immediate effect: its live sessions end, their jobs requeue."""
    with transaction.atomic():
        WorkerCredential.objects.filter(pk=credential.pk).update(is_active=False)
        credential.is_active = False
        sessions = list(credential.sessions.live().values_list("pk", "channel_name"))
        for session_id, channel_name in sessions:
            session_end(session_id=session_id, reason="token revoked", outbox=outbox)
            outbox.to_session(channel_name, "session.terminate", reason="token revoked")
    logger.warning(
        "worker token %s (%s) revoked; %d session(s) closed",
        credential.name,
        credential.token_prefix,
        len(sessions),
    )
    return len(sessions)
