"""docs/asyncapi.yaml is the contract the server enforces, in both directions."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.test import AsyncClient
from jsonschema import Draft202012Validator

from registry.protocol import SERVER_MESSAGES, ProtocolError, frame_parse
from tests.factories import ECHO, WORKER_FRAMES, receive, send
from tests.factories import WORKER_FRAME_JOB as JOB

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT_PATH.read_text())


def schema_of(document: dict, message_type: str) -> Draft202012Validator:
    return Draft202012Validator(document["components"]["schemas"][message_type.replace(".", "_")])


def test_the_published_document_is_the_one_the_server_builds():
    out = io.StringIO()
    call_command("asyncapi", stdout=out)
    assert yaml.safe_load(out.getvalue()) == yaml.safe_load(DOCUMENT_PATH.read_text()), (
        "docs/asyncapi.yaml is stale: run `python manage.py asyncapi > docs/asyncapi.yaml`"
    )


def test_every_reference_in_the_document_resolves(document):
    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(document):
        target = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]


@pytest.mark.parametrize("message_type", sorted(WORKER_FRAMES))
def test_the_document_and_the_server_agree_on_each_worker_frame(document, message_type):
    valid = WORKER_FRAMES[message_type]
    schema_of(document, message_type).validate(valid)
    assert frame_parse(json.dumps(valid)).type == message_type
    wrong = {**valid, "unexpected": True}
    assert not schema_of(document, message_type).is_valid(wrong)
    with pytest.raises(ProtocolError):
        frame_parse(json.dumps(wrong))


@pytest.mark.django_db(transaction=True)
async def test_every_frame_the_server_sends_matches_the_document(document, connect_worker):
    ws, welcome = await connect_worker(resume=[JOB])  # a job it cannot resume: job.cancel
    seen = {"welcome": welcome}
    frames = [await receive(ws)]
    await send(ws, {"type": "register", "processes": [ECHO]})
    frames.append(await receive(ws))
    await send(ws, {"type": "heartbeat", "oops": 1})
    frames.append(await receive(ws))
    response = await AsyncClient().post(
        "/processes/echo/execution",
        {"inputs": {"message": "m"}},
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 201
    frames.append(await receive(ws))
    seen.update({frame["type"]: frame for frame in frames})
    assert set(seen) == set(SERVER_MESSAGES)
    for message_type, frame in seen.items():
        schema_of(document, message_type).validate(frame)
