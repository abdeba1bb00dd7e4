"""Readable JSON in the admin."""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


def pretty_json(value) -> str:
    return format_html(
        "<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False)
    )


def admin_links(url_prefix: str, objects) -> str:
    """Links to the admin pages of these objects, one a line; `url_prefix` is "app_model"."""
    return format_html_join(
        mark_safe("<br>"),
        '<a href="{}">{}</a>',
        ((reverse(f"admin:{url_prefix}_change", args=[obj.pk]), str(obj)) for obj in objects),
    )
