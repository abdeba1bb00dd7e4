"""Encodings of the API: JSON by default, HTML for browsers, `?f=json|html` to choose.

An unknown `f` is a client error (400), not a missing page; `f` wins over `Accept`, so a
link such as `?f=json` works from any client.
"""

from __future__ import annotations

from typing import Any

from django.template import loader
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer

from ogc.problems import invalid_parameter

FORMAT_PARAMETER = "f"


class HTMLRenderer(BaseRenderer):
    """Renders a response's data with the view's `html_template`, data under `data`."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> str:
        context = renderer_context or {}
        view, request = context["view"], context["request"]
        template = loader.get_template(view.html_template)
        return template.render({"data": data, "view": view}, request=request)


class FormatNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        requested = request.query_params.get(FORMAT_PARAMETER)
        if not requested:
            return super().select_renderer(request, renderers, format_suffix)
        for renderer in renderers:
            if renderer.format == requested:
                return renderer, renderer.media_type
        known = ", ".join(dict.fromkeys(renderer.format for renderer in renderers))
        raise invalid_parameter(f"Unknown format f={requested!r}; this resource is available as {known}.")


class RawResultsNegotiation(FormatNegotiation):
    """For views that may answer an output in its own media type (bypassing the renderers):
    an `Accept` no renderer matches (e.g. image/tiff) must not be refused with 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class EncodingsMixin:
    """JSON and HTML for a view; its `html_template` names the page."""

    renderer_classes = [JSONRenderer, HTMLRenderer]
    content_negotiation_class = FormatNegotiation
    html_template = ""
