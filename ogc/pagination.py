"""Paging of lists (`limit`, with `next`/`prev` links that keep the other query parameters)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from ogc.links import HTML, JSON
from ogc.problems import invalid_parameter


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=10000, default=10)
    # Not an OGC parameter: the position the `next`/`prev` links carry. Bounded so that
    # OFFSET (+ limit) stays a 64-bit integer for the database.
    offset = serializers.IntegerField(min_value=0, max_value=2**62, default=0)


def query_parse(serializer_class: type[serializers.Serializer], request) -> dict[str, Any]:
    """The validated query parameters, or a 400 naming each bad one."""
    query = serializer_class(data=request.query_params)
    if not query.is_valid():
        raise invalid_parameter(
            " ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in query.errors.items())
        )
    return query.validated_data


@dataclass(frozen=True)
class Page:
    items: list
    links: list[dict]


def page_get(queryset: QuerySet, request, page_url: str) -> Page:
    """One page of `queryset`, with links to the pages before and after it."""
    params = query_parse(PageQuerySerializer, request)
    limit, offset = params["limit"], params["offset"]
    items = list(queryset[offset : offset + limit + 1])
    links = []
    if len(items) > limit:
        links.append(_page_link(request, page_url, "next", offset + limit))
    if offset > 0:
        links.append(_page_link(request, page_url, "prev", max(offset - limit, 0)))
    return Page(items=items[:limit], links=links)


def _page_link(request, page_url: str, rel: str, offset: int) -> dict:
    query = request.query_params.copy()
    query["offset"] = str(offset)
    query.setdefault("f", "json")
    type_ = HTML if query["f"] == "html" else JSON
    return {"href": f"{page_url}?{query.urlencode()}", "rel": rel, "type": type_}
