"""ASGI entry point: HTTP goes to Django, the worker WebSocket to the registry's consumer."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ums_site.settings")

from ums_site.asgi_handler import get_asgi_application

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402

from jobs.consumers import JobStatusConsumer  # noqa: E402
from jobs.sweeper import SweeperStarter  # noqa: E402
from registry.auth import WorkerTokenAuthMiddleware  # noqa: E402
from registry.consumers import WorkerConsumer  # noqa: E402
from ums_site import daphne_requests, daphne_writes  # noqa: E402
from ums_site.body_limit import RequestBodyLimit  # noqa: E402

# Daphne imports this module before it starts serving.
daphne_requests.install()
daphne_writes.install()

worker_socket = OriginValidator(
    WorkerTokenAuthMiddleware(WorkerConsumer.as_asgi()),
    settings.UMS_WORKER_ALLOWED_ORIGINS,
)

# Browsers: same-site origins only, and the session's user for the visibility rules.
job_socket = AllowedHostsOriginValidator(AuthMiddlewareStack(JobStatusConsumer.as_asgi()))

application = SweeperStarter(
    ProtocolTypeRouter(
        {
            "http": RequestBodyLimit(django_asgi_app),
            "websocket": URLRouter(
                [path("ws/workers/", worker_socket), path("ws/jobs/<str:job_id>/", job_socket)]
            ),
        }
    )
)
