"""The AsyncAPI 3.0 document of worker protocol v1, built from the schemas the server uses.

docs/asyncapi.yaml is this document (`manage.py asyncapi > docs/asyncapi.yaml`); a test keeps
the two equal, so the published contract is the one the consumer enforces.
"""

from __future__ import annotations

from typing import Any

from registry.protocol import PROTOCOL_VERSION, SERVER_MESSAGES, WORKER_MESSAGES

DESCRIPTION = """\
Workers host the models. They open a WebSocket to the server with
`Authorization: Bearer <worker token>` (without a valid, active token the handshake is refused
with HTTP 403), send `hello` first, then take jobs. Frames are JSON text objects with a `type`.
A frame that is not valid JSON, not an object, of unknown type or with wrong fields is
answered with an `error` frame and changes nothing; the socket stays open. A worker may only
report on jobs assigned to its own session. Large outputs are uploaded over HTTP first
(`PUT /jobs/{job}/outputs/{output}` with the worker token) and referenced by `href`.
The reports of different jobs are handled at once, those of one job in the order they came;
any other frame is handled once the reports before it are recorded (the answer to
`unregister` with no processes tells a worker its reports so far are recorded). A socket
that closes keeps the reports it delivered.

Guarantees: jobs are dispatched oldest first to a session providing the process with free
capacity; when a session ends (close, crash, missed heartbeats) its unfinished jobs are
requeued, up to the server's attempt limit. `resume` in `hello` lists jobs a reconnecting
worker still runs, so they are not run twice. A dismissed job is cancelled with `job.cancel`
and late reports on it are dropped.
"""

SUMMARIES = {
    "hello": "First frame: who the worker is, how many jobs it runs at once, what it serves.",
    "register": "Add or replace processes at run time.",
    "unregister": "Stop providing processes (by id).",
    "heartbeat": "Keeps the session alive; send one every `welcome.heartbeat` seconds.",
    "job.started": (
        "The worker took the job: its status becomes running. Optional: a progress or final report "
        "also says the job started."
    ),
    "job.progress": "Progress (0-100) and a message.",
    "job.succeeded": "Final: the outputs, inline (`value`) or uploaded (`href`).",
    "job.failed": "Final: the error, shown to the client as problem details.",
    "job.rejected": "The worker cannot run the job now: it goes back to the queue.",
    "welcome": "Answer to hello: the session id, accepted and rejected processes, heartbeat interval.",
    "registered": "Answer to register and unregister.",
    "job.execute": "Run this job (`attempt` counts from 1).",
    "job.cancel": "The job was dismissed or taken away: stop and report nothing more on it.",
    "error": "A frame was refused; nothing changed.",
}


def _key(message_type: str) -> str:
    return message_type.replace(".", "_")


def _operation(message_type: str, action: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": "#/channels/workers"},
        "summary": SUMMARIES[message_type],
        "messages": [{"$ref": f"#/channels/workers/messages/{_key(message_type)}"}],
    }


def asyncapi_document() -> dict[str, Any]:
    """The document, from the point of view of the server (it receives what workers send)."""
    messages = {**WORKER_MESSAGES, **SERVER_MESSAGES}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Urban Model Server worker protocol",
            "version": str(PROTOCOL_VERSION),
            "description": DESCRIPTION,
        },
        "servers": {
            "local": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "security": [{"$ref": "#/components/securitySchemes/workerToken"}],
            },
        },
        "channels": {
            "workers": {
                "address": "/ws/workers/",
                "messages": {_key(t): {"$ref": f"#/components/messages/{_key(t)}"} for t in messages},
            }
        },
        "operations": {
            **{f"receive_{_key(t)}": _operation(t, "receive") for t in WORKER_MESSAGES},
            **{f"send_{_key(t)}": _operation(t, "send") for t in SERVER_MESSAGES},
        },
        "components": {
            "messages": {
                _key(t): {
                    "name": t,
                    "summary": SUMMARIES[t],
                    "contentType": "application/json",
                    "payload": {"$ref": f"#/components/schemas/{_key(t)}"},
                }
                for t in messages
            },
            "schemas": {_key(t): schema for t, schema in messages.items()},
            "securitySchemes": {
                "workerToken": {
                    "type": "httpApiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "`Bearer <token>`; tokens come from `manage.py create_worker_token`.",
                }
            },
        },
    }
