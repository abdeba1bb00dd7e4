"""A process description comes back as the worker wrote it: inputs and outputs in their order
(PostgreSQL's jsonb would sort the keys, shortest first), in the API and on the execute form."""

from __future__ import annotations

import re

import pytest
from django.test import AsyncClient

from tests.factories import description

pytestmark = pytest.mark.django_db(transaction=True)

# Not sorted by length nor alphabetically: the order only the worker knows.
INPUT_IDS = ["population_density", "zone", "building_heights", "year"]
ORDERED = description(
    id="ordered",
    inputs={name: {"title": name, "schema": {"type": "string"}} for name in INPUT_IDS},
    outputs={name: {"title": name, "schema": {"type": "string"}} for name in ("noise_map", "report")},
)


async def test_the_api_gives_inputs_and_outputs_in_the_registered_order(connect_worker):
    await connect_worker(processes=[ORDERED])
    document = (await AsyncClient().get("/processes/ordered", headers={"Accept": "application/json"})).json()
    assert list(document["inputs"]) == INPUT_IDS
    assert list(document["outputs"]) == ["noise_map", "report"]


async def test_the_execute_form_shows_inputs_in_the_registered_order(connect_worker):
    await connect_worker(processes=[ORDERED])
    page = (await AsyncClient().get("/processes/ordered", headers={"Accept": "text/html"})).content.decode()
    assert re.findall(r'data-ums-input="([a-z_]+)"', page) == INPUT_IDS
