"""Daphne's HTTP factory formats no access log line of Twisted's for each request: Twisted's log
goes nowhere, or beside Daphne's own access log (ums_site.daphne_requests)."""

from __future__ import annotations

import daphne.server

from ums_site import daphne_requests


def test_daphne_builds_the_quiet_factory():
    daphne_requests.install()  # as ums_site.asgi does, before Daphne serves
    assert daphne.server.HTTPFactory is daphne_requests.QuietHTTPFactory


def test_a_request_is_not_formatted_for_twisteds_log():
    factory = daphne_requests.QuietHTTPFactory(server=None)
    formatted: list[object] = []
    factory._logFormatter = lambda timestamp, request: formatted.append(request) or ""
    factory.startFactory()  # Twisted's log file, where its lines would go
    try:
        factory.log(object())
    finally:
        factory.stopFactory()
    assert formatted == []
