"""Who may serve models (credentials), who is connected (sessions) and what they serve."""

from __future__ import annotations

import fnmatch
import json
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from ums_site.rows import Rows


def patterns_match(patterns: list[str], process_id: str) -> bool:
    """Whether a process id matches one of these shell-style patterns (e.g. 'noise-*')."""
    return any(fnmatch.fnmatchcase(process_id, pattern) for pattern in patterns)


class WorkerCredential(models.Model):
    """A worker token. Only its SHA-256 is stored; the token itself is shown once."""

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so staff can tell tokens apart without the secret.
    token_prefix = models.CharField(max_length=16, editable=False)
    process_patterns = models.JSONField(
        default=list,
        blank=True,
        help_text="Process-id patterns (shell style, e.g. 'noise-*') this token may register; "
        "empty allows every id.",
    )
    is_active = models.BooleanField(default=True, help_text="Untick to revoke the token.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name

    def allows_process(self, process_id: str) -> bool:
        return patterns_match(self.process_patterns or ["*"], process_id)


class LiveSessionQuerySet(models.QuerySet):
    def live(self) -> LiveSessionQuerySet:
        return self.filter(disconnected_at__isnull=True)


class WorkerSession(models.Model):
    """One WebSocket connection of a worker, live until `disconnected_at` is set."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    credential = models.ForeignKey(WorkerCredential, on_delete=models.CASCADE, related_name="sessions")
    name = models.CharField(max_length=200, help_text="The name the worker gave in hello.")
    channel_name = models.CharField(max_length=200)
    instance = models.CharField(max_length=200, help_text="The server instance holding the socket.")
    capacity = models.PositiveIntegerField(default=1)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    disconnected_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)

    objects = LiveSessionQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["last_seen_at"],
                name="live_session_last_seen",
                condition=Q(disconnected_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({str(self.id)[:8]})"

    @property
    def is_live(self) -> bool:
        return self.disconnected_at is None


def live_provider() -> models.Exists:
    """Whether a live session provides the process (the row of the outer query)."""
    return models.Exists(WorkerSession.objects.live().filter(processes=models.OuterRef("pk")))


class ProcessQuerySet(models.QuerySet):
    def listed(self) -> ProcessQuerySet:
        """Processes at least one live session provides."""
        return self.filter(live_provider())


class OrderedJSONField(models.JSONField):
    """JSON kept as written. PostgreSQL's `jsonb` (Django's JSONField) reorders object keys,
    so the inputs of a process description came back in another order than the worker
    registered (and the HTML execute form showed them so); its `json` type keeps the text.
    Nothing queries into these documents, which is all `jsonb` would add."""

    def db_type(self, connection) -> str:
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        # psycopg parses `json` itself (Django has it leave `jsonb` as text for its decoder).
        if not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        # Sent as text: psycopg's Jsonb adapter would have PostgreSQL parse it as jsonb first.
        value = value if prepared else self.get_prep_value(value)
        return json.dumps(value, cls=self.encoder)


class Process(models.Model):
    """An OGC process: its validated description and the sessions providing it."""

    id = models.CharField(primary_key=True, max_length=200)
    version = models.CharField(max_length=100)
    description = OrderedJSONField(help_text="The OGC process description as registered.")
    providers = models.ManyToManyField(WorkerSession, related_name="processes", blank=True)
    # When a provider last stopped providing it: queued jobs of a process nobody provides any
    # more wait the queue timeout from then, not from their creation.
    provider_left_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProcessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "processes"
        ordering = ["id"]
        # With UMS_API_AUTH=authenticated: may execute every process (see ProcessGrant).
        permissions = [("execute_process", "Can execute every process")]

    def __str__(self) -> str:
        return f"{self.id} {self.version}"

    @property
    def title(self) -> str:
        return self.description.get("title", "")

    @property
    def job_control_options(self) -> list[str]:
        return self.description.get("jobControlOptions") or ["sync-execute", "async-execute"]


# A process's row and whether it is listed, read by every execute request in one statement,
# without the ORM's statement building.
process_rows = Rows(Process, lambda: {"has_live_provider": live_provider()})


class ProcessGrant(models.Model):
    """Lets the members of a group execute the processes whose ids match its patterns.

    Only used with UMS_API_AUTH=authenticated; under open access anyone may execute.
    """

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="process_grants")
    process_patterns = models.JSONField(
        default=list,
        help_text="Process-id patterns (shell style, e.g. 'noise-*' or '*') the group's members may "
        "execute; empty allows none.",
    )

    def __str__(self) -> str:
        return f"{self.group}: {', '.join(self.process_patterns) or '(none)'}"
