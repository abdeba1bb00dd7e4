"""`manage.py asyncapi`: prints the worker protocol's AsyncAPI document (docs/asyncapi.yaml)."""

from __future__ import annotations

import yaml
from django.core.management.base import BaseCommand

from registry.asyncapi import asyncapi_document


class _Dumper(yaml.SafeDumper):
    """Multi-line text as YAML blocks, readable in the published document."""


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text)


class Command(BaseCommand):
    help = "Prints the AsyncAPI 3.0 document of the worker protocol as YAML."

    def handle(self, *args, **options) -> None:
        document = asyncapi_document()
        text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        self.stdout.write(text, ending="")
