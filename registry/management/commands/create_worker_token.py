"""`manage.py create_worker_token NAME [--processes PATTERN ...]`: a new worker token."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from registry.services import credential_create


class Command(BaseCommand):
    help = "Creates a worker credential and prints its token, alone on the last line. It is shown only once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="a unique name for the worker(s) using this token")
        parser.add_argument(
            "--processes",
            nargs="+",
            default=[],
            metavar="PATTERN",
            help="process-id patterns the token may register (shell style, e.g. 'noise-*'); default: any",
        )

    def handle(self, *args, name: str, processes: list[str], **options) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters")
        try:
            credential, token = credential_create(name=name, process_patterns=processes)
        except IntegrityError:
            raise CommandError(f"a worker credential named {name!r} exists already") from None
        patterns = ", ".join(credential.process_patterns) or "any process id"
        self.stdout.write(f"Created worker credential {credential.name!r} for {patterns}.")
        self.stdout.write("Keep this token secret; it will not be shown again:")
        self.stdout.write(token)
