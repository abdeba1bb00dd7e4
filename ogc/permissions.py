"""Who may use the API (UMS_API_AUTH), who may execute which process, and how often.

Open access (the default): anyone may do anything the API offers; jobs are still private to
the user who created them when a client authenticates. Authenticated access: every endpoint
but the discovery documents (landing page, conformance, API definition) needs a user, and
executing a process needs the `registry.execute_process` permission or a process grant of
one of the user's groups (registry.models.ProcessGrant).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from registry.selectors import process_executable_by

OPEN = "open"


def api_is_open() -> bool:
    return settings.UMS_API_AUTH == OPEN


class ApiAccess(BasePermission):
    """Anyone under open access; authenticated users otherwise (401 for the others)."""

    def has_permission(self, request, view) -> bool:
        return api_is_open() or bool(request.user and request.user.is_authenticated)


class MayExecuteProcess(ApiAccess):
    """Execution of the process in the URL, for users allowed to run it."""

    message = "You may not execute this process."

    def has_permission(self, request, view) -> bool:
        if api_is_open():
            return True
        return super().has_permission(request, view) and process_executable_by(
            process_id=view.kwargs["process_id"], user=request.user
        )


class ExecutionRateThrottle(SimpleRateThrottle):
    """UMS_EXECUTE_RATE execute requests per user, or per address for anonymous clients."""

    scope = "execute"

    def get_rate(self) -> str | None:
        # Read per request, not once at import, so that the setting can change in tests.
        return settings.UMS_EXECUTE_RATE

    def get_cache_key(self, request, view) -> str:
        user = request.user
        ident = f"user-{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
