"""Fixtures of the SDK's own tests (no Django, no server)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sdk_fake_server import FakeServer, fake_server_started


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeServer]:
    async with fake_server_started() as server:
        yield server
