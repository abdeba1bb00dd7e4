"""The process page's execute form: one control per input, chosen from the input's schema."""

from __future__ import annotations

import pytest
from django.test import Client

from ogc.execute_form import input_fields
from tests.ogc_factories import described, provide
from tests.test_html_pages import BROWSER, Page

INPUTS = {
    "name": {"title": "Name", "schema": {"type": "string", "default": "Lyon"}},
    "minutes": {
        "title": "Minutes",
        "schema": {"type": "number", "minimum": 1, "maximum": 120, "default": 10},
        "minOccurs": 0,
    },
    "steps": {"schema": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}},
    "mode": {"schema": {"type": "string", "enum": ["walk", "bike"], "default": "bike"}, "minOccurs": 0},
    "level": {"schema": {"enum": [1, 2, 3]}},
    "night": {"schema": {"type": "boolean", "default": True}},
    "area": {"schema": {"type": "object", "contentMediaType": "application/geo+json"}},
    "tags": {"schema": {"type": "string"}, "maxOccurs": "unbounded", "minOccurs": 0},
    "grid": {"schema": {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/tiff"}},
    "either": {"schema": {"oneOf": [{"type": "string"}, {"type": "number"}]}},
    "nullable": {"schema": {"type": "number", "nullable": True}},
}


def fields() -> dict:
    return {field.id: field for field in input_fields(INPUTS)}


def test_scalars_get_matching_controls_with_their_defaults():
    by_id = fields()
    assert (by_id["name"].widget, by_id["name"].initial, by_id["name"].required) == ("text", "Lyon", True)
    minutes = by_id["minutes"]
    assert (minutes.widget, minutes.min, minutes.max, minutes.step, minutes.initial) == (
        "number",
        "1",
        "120",
        "any",
        "10",
    )
    assert not minutes.required
    assert (by_id["steps"].min, by_id["steps"].step) == ("0", "1")
    assert by_id["night"].widget == "checkbox" and by_id["night"].checked
    assert by_id["nullable"].widget == "number"


def test_enums_are_selects_whose_values_are_json():
    by_id = fields()
    mode = by_id["mode"]
    assert mode.widget == "select"
    assert [(c.value, c.label, c.selected) for c in mode.choices] == [
        ('"walk"', "walk", False),
        ('"bike"', "bike", True),
    ]
    assert [c.value for c in by_id["level"].choices] == ["1", "2", "3"]


def test_objects_lists_and_combined_schemas_are_json_text_areas():
    by_id = fields()
    assert (by_id["area"].widget, by_id["area"].hint) == ("json", "JSON (application/geo+json)")
    assert by_id["tags"].widget == "json" and "list" in by_id["tags"].hint
    assert by_id["either"].widget == "json"
    # A document as a string (base64 here) is text, not JSON.
    assert (by_id["grid"].widget, by_id["grid"].hint) == ("textarea", "image/tiff")


@pytest.mark.django_db
def test_the_process_page_renders_a_control_per_input():
    provide(described(id="form", inputs=INPUTS, jobControlOptions=["async-execute"]))
    response = Client().get("/processes/form", headers=BROWSER)
    html = Page(response.content.decode())

    controls = {
        attrs["data-ums-input"]: (tag, attrs) for tag, attrs in html.tags if "data-ums-input" in attrs
    }
    assert set(controls) == set(INPUTS)
    assert controls["minutes"][0] == "input" and controls["minutes"][1]["max"] == "120"
    assert controls["mode"][0] == "select" and controls["area"][0] == "textarea"
    assert "required" in controls["name"][1] and "required" not in controls["minutes"][1]
    form = next(attrs for tag, attrs in html.tags if tag == "form")
    assert form["data-ums-async"] == "true"  # started as a job, then its page opens
    assert "Lyon" in response.content.decode()
