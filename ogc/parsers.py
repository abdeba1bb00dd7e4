"""The request body parser of the API: DRF's JSON parser within the bounds of ums_site.json_bounds."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from ums_site.json_bounds import MAX_JSON_NESTING, json_check


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {MAX_JSON_NESTING} levels deep") from None
        try:
            json_check(data)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return data
