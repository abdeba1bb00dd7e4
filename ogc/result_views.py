"""How the HTML results page shows each output of a results document.

GeoJSON goes on a map (the page's script fetches the output itself), other JSON is
pretty-printed, text is shown as it is, and binary data and files are offered for download.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

MAP, JSON, TEXT, FILE = "map", "json", "text", "file"

GEOJSON_MEDIA_TYPE = "application/geo+json"
GEOJSON_TYPES = {
    "Feature",
    "FeatureCollection",
    "GeometryCollection",
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
}


@dataclass(frozen=True)
class OutputView:
    id: str
    kind: str
    media_type: str
    value: Any = None

    @property
    def filename(self) -> str:
        """A name to save the output as, with the extension of its media type."""
        if self.kind == MAP:
            return f"{self.id}.geojson"
        essence = self.media_type.split(";")[0].strip()
        if not essence:
            essence = "text/plain" if self.kind == TEXT else "application/json"
        return self.id + (mimetypes.guess_extension(essence) or "")


def output_views(document: dict[str, Any]) -> list[OutputView]:
    """One view per output of a results document (ogc.results.results_document)."""
    return [_view(output_id, result) for output_id, result in document.items()]


def _view(output_id: str, result: Any) -> OutputView:
    if isinstance(result, dict) and "href" in result:
        media_type = result.get("type", "")
        return OutputView(output_id, MAP if _is_geojson_type(media_type) else FILE, media_type)
    qualified = isinstance(result, dict) and "value" in result and "mediaType" in result
    value = result["value"] if qualified else result
    media_type = result["mediaType"] if qualified else ""
    if _is_geojson_type(media_type) or _looks_like_geojson(value):
        return OutputView(output_id, MAP, media_type or GEOJSON_MEDIA_TYPE)
    if qualified and result.get("encoding") == "base64":
        return OutputView(output_id, FILE, media_type)
    if isinstance(value, str):
        return OutputView(output_id, TEXT, media_type, value)
    return OutputView(output_id, JSON, media_type, value)


def _is_geojson_type(media_type: str) -> bool:
    return media_type.split(";")[0].strip() == GEOJSON_MEDIA_TYPE


def _looks_like_geojson(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in GEOJSON_TYPES
