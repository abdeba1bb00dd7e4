"""Walking-distance catchments: which homes are within N minutes' walk of a facility?

A small urban accessibility model on GeoJSON (WGS 84 longitude/latitude, RFC 7946). For each
facility (school, stop, park ...) it draws the area reachable on foot in `minutes` and counts
the homes and people inside. Walking follows streets, not straight lines: `detour_factor`
shortens the straight-line radius accordingly (1.2-1.4 is usual for urban street grids).

    ums-worker --server http://127.0.0.1:8000 --token "$TOKEN" examples.walking_catchments:worker
    # or: UMS_WORKER_TOKEN=... python examples/walking_catchments.py
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely import union_all
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from ums_worker import JobContext, Output, Worker

Projection = Callable[[BaseGeometry], BaseGeometry]

worker = Worker(name="walking-catchments", capacity=2)

EARTH_RADIUS_M = 6371008.8
GEOJSON = "application/geo+json"

_FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array"}},
    "contentMediaType": GEOJSON,
}

DESCRIPTION = {
    "id": "walking-catchments",
    "version": "1.0.0",
    "title": "Walking-distance catchments",
    "description": "Areas within a walking time of each facility, with the homes and population they cover.",
    "keywords": ["accessibility", "walking", "catchment", "15-minute city"],
    "jobControlOptions": ["sync-execute", "async-execute", "dismiss"],
    "outputTransmission": ["value"],
    "inputs": {
        "facilities": {
            "title": "Facilities",
            "description": "GeoJSON FeatureCollection of the facilities (any geometry, WGS 84).",
            "schema": _FEATURE_COLLECTION,
            "minOccurs": 1,
            "maxOccurs": 1,
        },
        "homes": {
            "title": "Homes",
            "description": "Optional GeoJSON FeatureCollection of homes (points); "
            "a `population` property weights each home (default 1).",
            "schema": _FEATURE_COLLECTION,
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "minutes": {
            "title": "Walking time (minutes)",
            "schema": {"type": "number", "minimum": 1, "maximum": 120, "default": 10},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "speed_kmh": {
            "title": "Walking speed (km/h)",
            "schema": {"type": "number", "minimum": 1, "maximum": 10, "default": 4.8},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "detour_factor": {
            "title": "Detour factor",
            "description": "Street distance divided by straight-line distance.",
            "schema": {"type": "number", "minimum": 1, "maximum": 3, "default": 1.3},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": {
        "catchments": {
            "title": "Catchments",
            "description": "One polygon per facility, with its radius, area and the homes it covers.",
            "schema": {"type": "object", "contentMediaType": GEOJSON},
        },
        "summary": {
            "title": "Summary",
            "description": "Covered area (all catchments merged) and share of homes and population covered.",
            "schema": {"type": "object"},
        },
    },
}


def local_projection(latitude: float, longitude: float) -> tuple[Projection, Projection]:
    """Equirectangular metres around (latitude, longitude), and back.

    Good to well under 1% within a few kilometres, which is all a walking catchment spans, and
    it keeps the model free of a projection library.
    """
    origin = np.array([longitude, latitude])
    scale = np.array([math.cos(math.radians(latitude)), 1.0]) * math.radians(1) * EARTH_RADIUS_M

    def forward(geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: (xy - origin) * scale)

    def inverse(geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: xy / scale + origin)

    return forward, inverse


def features_of(collection: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    if collection is None:
        return []
    if collection.get("type") != "FeatureCollection" or not isinstance(collection.get("features"), list):
        raise ValueError(f"{name} must be a GeoJSON FeatureCollection")
    return [f for f in collection["features"] if isinstance(f, dict) and f.get("geometry")]


def catchments(inputs: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    facilities = features_of(inputs["facilities"], "facilities")
    if not facilities:
        raise ValueError("facilities has no feature with a geometry")
    homes = features_of(inputs.get("homes"), "homes")
    radius_m = inputs["speed_kmh"] * 1000 / 60 * inputs["minutes"] / inputs["detour_factor"]

    centre = union_all([shape(f["geometry"]) for f in facilities]).centroid
    forward, inverse = local_projection(centre.y, centre.x)
    home_points = [(forward(shape(h["geometry"])), _population(h)) for h in homes]

    features, areas = [], []
    for index, facility in enumerate(facilities):
        ctx.raise_if_cancelled()
        ctx.progress(90 * index / len(facilities), f"facility {index + 1} of {len(facilities)}")
        area = forward(shape(facility["geometry"])).buffer(radius_m, quad_segs=16)
        areas.append(area)
        covered = _covered(area, home_points)
        outline = inverse(area)
        features.append(_catchment_feature(facility, index, outline, radius_m, area, covered))

    ctx.progress(95, "merging catchments")
    merged = union_all(areas)
    return {
        "catchments": Output({"type": "FeatureCollection", "features": features}, GEOJSON),
        "summary": _summary(facilities, radius_m, merged, home_points),
    }


def _population(home: dict[str, Any]) -> float:
    value = (home.get("properties") or {}).get("population", 1)
    return float(value) if isinstance(value, int | float) else 1.0


def _covered(area: BaseGeometry, home_points: list[tuple[BaseGeometry, float]]) -> tuple[int, float]:
    inside = prep(area)
    hits = [population for point, population in home_points if inside.intersects(point)]
    return len(hits), sum(hits)


def _catchment_feature(
    facility: dict[str, Any],
    index: int,
    geometry: BaseGeometry,
    radius_m: float,
    area: BaseGeometry,
    covered: tuple[int, float],
) -> dict[str, Any]:
    properties = facility.get("properties") or {}
    return {
        "type": "Feature",
        "id": facility.get("id", index),
        "geometry": mapping(geometry),
        "properties": {
            "facility": properties.get("name", facility.get("id", index)),
            "radius_m": round(radius_m, 1),
            "area_km2": round(area.area / 1e6, 4),
            "homes": covered[0],
            "population": covered[1],
        },
    }


def _summary(
    facilities: list[dict[str, Any]],
    radius_m: float,
    merged: BaseGeometry,
    home_points: list[tuple[BaseGeometry, float]],
) -> dict[str, Any]:
    homes_covered, population_covered = _covered(merged, home_points)
    population_total = sum(population for _, population in home_points)
    return {
        "facilities": len(facilities),
        "radius_m": round(radius_m, 1),
        "covered_area_km2": round(merged.area / 1e6, 4),
        "homes": len(home_points),
        "homes_covered": homes_covered,
        "population": population_total,
        "population_covered": population_covered,
        "population_share": round(population_covered / population_total, 4) if population_total else None,
    }


worker.process(DESCRIPTION)(catchments)

if __name__ == "__main__":
    worker.run()  # server and token from $UMS_SERVER_URL and $UMS_WORKER_TOKEN
