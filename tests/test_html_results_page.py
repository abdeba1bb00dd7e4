"""The results page: GeoJSON on a map (Leaflet from our own static files), JSON pretty-printed,
text as it is, every output downloadable; the job page's live parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client

from jobs.models import JobOutput
from ogc.result_views import output_views
from tests.ogc_factories import described, job_make, provide
from tests.test_html_pages import BROWSER, Page

pytestmark = pytest.mark.django_db(transaction=True)

SQUARE = {"type": "Polygon", "coordinates": [[[4.8, 45.7], [4.9, 45.7], [4.9, 45.8], [4.8, 45.7]]]}
OUTPUTS = {
    name: {"title": name, "schema": {"type": "object"}}
    for name in ("area", "bare", "table", "note", "raster", "archive")
}
LEAFLET = Path(settings.BASE_DIR) / "ogc" / "static" / "ogc" / "vendor" / "leaflet"


@pytest.fixture
def results_page(settings, tmp_path) -> tuple[str, str]:
    settings.MEDIA_ROOT = tmp_path
    provide(described(id="model", outputs=OUTPUTS))
    job = job_make(
        "model",
        "successful",
        results={
            "area": ({"type": "FeatureCollection", "features": []}, "application/geo+json"),
            "bare": (SQUARE, ""),
            "table": ({"rows": [1, 2]}, "application/json"),
            "note": ("a few words", "text/plain"),
            "raster": ("AAEC", "image/png"),
        },
    )
    archive = JobOutput(job=job, output_id="archive", media_type="application/zip", size=3)
    archive.file.save("archive", ContentFile(b"zip"))
    response = Client().get(f"/jobs/{job.id}/results", headers=BROWSER)
    assert response.status_code == 200
    return str(job.id), response.content.decode()


def test_geojson_outputs_are_maps_fed_from_the_output_url(results_page):
    job_id, html = results_page
    maps = [attrs["data-ums-map"] for tag, attrs in Page(html).tags if "data-ums-map" in attrs]
    assert maps == [f"/jobs/{job_id}/results/area", f"/jobs/{job_id}/results/bare"]


def test_json_is_pretty_printed_and_text_shown_as_is(results_page):
    _, html = results_page
    assert "&quot;rows&quot;: [\n    1,\n    2\n  ]" in html
    assert "a few words" in html


def test_every_output_can_be_downloaded_under_a_name_with_its_extension(results_page):
    job_id, html = results_page
    links = [attrs for tag, attrs in Page(html).tags if tag == "a"]
    downloads = {attrs["href"]: attrs["download"] for attrs in links if "download" in attrs}
    assert downloads == {
        f"/jobs/{job_id}/results/area": "area.geojson",
        f"/jobs/{job_id}/results/bare": "bare.geojson",
        f"/jobs/{job_id}/results/table": "table.json",
        f"/jobs/{job_id}/results/note": "note.txt",
        f"/jobs/{job_id}/results/raster": "raster.png",
        f"/jobs/{job_id}/results/archive": "archive.zip",
    }


def test_leaflet_comes_from_our_own_static_files_with_its_licence(results_page):
    _, html = results_page
    tags = Page(html).tags
    sources = [attrs["src"] for tag, attrs in tags if tag == "script"]
    styles = [attrs["href"] for tag, attrs in tags if tag == "link" and attrs.get("rel") == "stylesheet"]
    assert "/static/ogc/vendor/leaflet/leaflet.js" in sources
    assert "/static/ogc/vendor/leaflet/leaflet.css" in styles
    assert all(url.startswith("/static/") for url in sources + styles)  # no CDN
    client = Client()
    for url in [*sources, *styles, "/static/ogc/vendor/leaflet/images/marker-icon.png"]:
        assert client.get(url).status_code == 200, url
    assert "BSD 2-Clause" in (LEAFLET / "LICENSE").read_text()


def test_a_configured_base_map_is_handed_to_the_map(results_page, settings):
    settings.UMS_MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    job_id, _ = results_page
    html = Client().get(f"/jobs/{job_id}/results", headers=BROWSER).content.decode()
    tiles = {attrs["data-ums-tiles"] for tag, attrs in Page(html).tags if "data-ums-map" in attrs}
    assert tiles == {"https://tiles.example/{z}/{x}/{y}.png"}


def test_outputs_by_reference_are_files_or_maps_by_media_type():
    views = output_views(
        {
            "zone": {"href": "http://x/jobs/1/results/zone", "type": "application/geo+json"},
            "report": {"href": "http://x/jobs/1/results/report", "type": "application/pdf"},
        }
    )
    assert [(view.kind, view.filename) for view in views] == [("map", "zone.geojson"), ("file", "report.pdf")]


def test_the_job_page_shows_only_what_applies_to_the_status():
    provide()
    job = job_make(status="running")
    running = Page(Client().get(f"/jobs/{job.id}", headers=BROWSER).content.decode())
    parts = [attrs for tag, attrs in running.tags if "data-ums-when" in attrs]
    when = {attrs["data-ums-when"]: "hidden" in attrs for attrs in parts}
    assert when == {"successful": True, "accepted running": False}  # results hidden, dismiss shown
