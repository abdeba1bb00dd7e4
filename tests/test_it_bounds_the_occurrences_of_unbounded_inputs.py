"""An input of `maxOccurs: unbounded` takes at most UMS_MAX_INPUT_OCCURRENCES values."""

from __future__ import annotations

import pytest
from django.test import Client

from jobs.models import Job
from tests.factories import ECHO
from tests.ogc_factories import described, provide

pytestmark = pytest.mark.django_db(transaction=True)

MANY = described(
    ECHO,
    id="many",
    inputs={"names": {"title": "Names", "schema": {"type": "string"}, "maxOccurs": "unbounded"}},
)


def execute(count: int):
    return Client().post(
        "/processes/many/execution",
        {"inputs": {"names": ["x"] * count}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )


def test_it_bounds_the_occurrences_of_unbounded_inputs(settings):
    settings.UMS_MAX_INPUT_OCCURRENCES = 3
    provide(MANY)
    assert execute(3).status_code == 201
    refused = execute(4)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Input 'names' takes between 1 and 3 value(s); 4 given."
    assert Job.objects.count() == 1
