"""Daphne's answers written to their sockets at once, not at the event loop's next turn.

Twisted holds what a connection writes until the reactor finds its socket writable, at the
event loop's next turn: an answer waited for every callback ready meanwhile (the end's
signals to the other instances, the look at the queue after it), and cost a registration
with the loop's poller each way. asyncio's own transports write at once, and hold only what
the socket does not take. Here the end of an HTTP response, and each frame a consumer sends
on a WebSocket, are written the same way; what the socket does not take is left to the
reactor, as before. In the benchmark (A/B in turn with pygeoapi, PostgreSQL + Redis, two
instances), a synchronous job took 0.01 to 0.19 ms less in each of twelve rounds.

`flush` reads Twisted's connection buffers, some of them private: requirements.txt pins the
Twisted they were read in, and tests/test_daphne_writes_its_answers_at_once.py fails if an
answer stops leaving at once.
"""

from __future__ import annotations

from typing import Any

import daphne.server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import tcp


def flush(transport: Any) -> None:
    """Writes what an open TCP connection holds, unless the reactor drives what comes after
    the write: a connection closing, or a producer to resume (one that is paused, or that
    produces only when asked). Twisted's HTTP channel is a streaming producer of its own
    connection, which pauses it only while it holds more than its buffer's worth. A send
    that fails leaves the data held and the connection waiting to write: the reactor finds
    the failure at its next turn and closes the connection, as it would have."""
    if not isinstance(transport, tcp.Connection) or not transport.connected:
        return
    if transport.disconnecting or transport._writeDisconnecting:
        return
    if transport.producer is not None and (transport.producerPaused or not transport.streamingProducer):
        return
    if transport.dataBuffer or transport._tempDataBuffer:
        transport.doWrite()


class PromptWebSocketProtocol(WebSocketProtocol):
    def handle_reply(self, message: dict[str, Any]) -> None:
        super().handle_reply(message)
        if message.get("type") == "websocket.send":
            flush(self.transport)


class PromptWebSocketFactory(WebSocketFactory):
    protocol = PromptWebSocketProtocol


def install() -> None:
    """Makes Daphne's server build its WebSocket factory from `PromptWebSocketFactory` (it
    names the factory class of its module when it starts). HTTP responses: `BoundedWebRequest`
    (ums_site/daphne_requests.py) flushes their end."""
    daphne.server.WebSocketFactory = PromptWebSocketFactory
