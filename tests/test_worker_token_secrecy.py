"""Worker tokens never reach the logs, whether accepted or refused."""

from __future__ import annotations

import logging

import pytest

from tests.factories import communicator, hello, receive, send, token_create

pytestmark = pytest.mark.django_db(transaction=True)


async def test_tokens_are_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    token = await token_create()
    good = communicator(token)
    await good.connect()
    await send(good, hello())
    await receive(good)
    await good.disconnect()
    wrong = token[:-4] + "AAAA"
    await communicator(wrong).connect()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "handshake refused" in logged
    assert token not in logged and wrong not in logged
    assert token[len("ums_") + 8 :] not in logged
