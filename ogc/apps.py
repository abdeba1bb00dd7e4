from __future__ import annotations

from django.apps import AppConfig


class OgcConfig(AppConfig):
    name = "ogc"
    verbose_name = "OGC API – Processes"

    def ready(self) -> None:
        from ogc import checks  # noqa: F401 (registers the deployment check)
