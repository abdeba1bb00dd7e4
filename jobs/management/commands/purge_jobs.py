"""`manage.py purge_jobs [--days N]`: retention, meant to run from cron, e.g. nightly:

17 3 * * *  cd /srv/ums && .venv/bin/python manage.py purge_jobs
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.services import jobs_purge


class Command(BaseCommand):
    help = (
        "Deletes jobs that finished more than UMS_RESULT_RETENTION_DAYS ago, with their output files, "
        "and worker sessions that ended before then."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=float,
            default=None,
            help="retention in days (default: UMS_RESULT_RETENTION_DAYS)",
        )

    def handle(self, *args, days: float | None, **options) -> None:
        days = settings.UMS_RESULT_RETENTION_DAYS if days is None else days
        purged = jobs_purge(finished_before=timezone.now() - timedelta(days=days))
        self.stdout.write(
            f"Purged {purged.jobs} job(s) finished more than {days:g} day(s) ago, "
            f"{purged.sessions} ended worker session(s) and {purged.files} unreferenced file(s)."
        )
