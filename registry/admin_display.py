"""Readable JSON in the admin."""

from __future__ import annotations

import json

from django.utils.html import format_html


def pretty_json(value) -> str:
    return format_html(
        "<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False)
    )
