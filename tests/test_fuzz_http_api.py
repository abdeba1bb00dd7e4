"""Property-based fuzzing of the HTTP API with schemathesis, from the server's own OpenAPI
document (/api, with the execute operation of every registered process): no request, valid
(positive) or not (negative), gets a server error, and a rejected one changes nothing.

schemathesis's pytest integration for a schema loaded from a fixture (needed: the document
lists the processes in the test database) fails under pytest 9 (it sets `node._nodeid`), so
this test drives schemathesis's Hypothesis strategies itself, operation by operation.
Bounded (EXAMPLES per operation and mode) so the run stays within a minute or two.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from jobs.models import CallbackDelivery, Job, JobOutput
from tests.factories import ECHO
from tests.ogc_factories import MULTI, job_make, provide

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = 20


def state() -> tuple:
    return (
        sorted(Job.objects.values_list("id", "status")),
        JobOutput.objects.count(),
        CallbackDelivery.objects.count(),
    )


def fuzz(operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case) -> None:
        before = state()
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error])
        if response.status_code >= 400:
            assert state() == before, f"{case.method} {case.formatted_path}: refused, yet the state changed"

    try:
        run()
    except Unsatisfiable:
        # Nothing of the operation can be made invalid (no parameters, no body).
        assert mode == GenerationMode.NEGATIVE, f"{operation.method} {operation.path}: no valid request"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_answers_any_request_without_a_server_error(settings, mode):
    settings.UMS_SYNC_TIMEOUT = 0  # a synchronous execute answers at once, as asynchronous
    provide(ECHO, MULTI)
    job_make(status="successful", results={"echo": ("hi", "text/plain")})
    # The WSGI handler, not get_wsgi_application(): setting Django up again mid-run would
    # reconfigure logging.
    schema = schemathesis.openapi.from_wsgi("/api", WSGIHandler())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(operation.path == "/processes/multi/execution" for operation in operations)
    for operation in operations:
        fuzz(operation, mode)
