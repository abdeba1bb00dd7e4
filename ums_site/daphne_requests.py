"""Daphne's HTTP requests, with the body ceiling applied while the body arrives.

Under Daphne, Twisted reads a request's whole body, into a temporary file past 100 KB, before
Daphne hands the request to the application: `body_limit` could only refuse a body once it
was stored, and a client declaring a body of gigabytes had them written to disk (3.8 GB in
10 s on loopback, before any answer). Here a body past the ceiling is refused as soon as its
length is declared, or as soon as a body streamed without a length passes it, and the
connection is closed. `body_limit` still guards the application under other ASGI servers.

Twisted also parses the body of a form POST (URL-encoded or multipart) into `request.args`,
in memory, before the request goes on; Daphne never reads them. A 200 MB multipart POST held
the event loop for 12 s and grew the process by 2.4 GB. That parsing is off: Django parses
the forms it takes itself.

And Twisted formats an access log line of its own for every request it answers, which Daphne
sends nowhere (Twisted's log goes nowhere at verbosity 0 and 1; above, to Python's logging,
beside Daphne's own access log): 2 % of the event loop's CPU in a loop of synchronous jobs
in the benchmark profile. Daphne's access log is unchanged.

The end of a response is written to the socket at once (ums_site/daphne_writes.py).
"""

from __future__ import annotations

from typing import Any

import daphne.http_protocol
import daphne.server
from daphne.http_protocol import WebRequest

from ums_site.body_limit import body_ceiling, too_large_body
from ums_site.daphne_writes import flush


class BoundedWebRequest(WebRequest):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)
        self._received = 0
        self._refused = False

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > body_ceiling():
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._received > body_ceiling():
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self._refused:  # a refused request never reaches the application
            super().requestReceived(command, path, version)

    def handle_reply(self, message: dict[str, Any]) -> None:
        transport = self.transport  # the request lets go of its channel once finished
        super().handle_reply(message)
        if message.get("type") == "http.response.body" and not message.get("more_body", False):
            flush(transport)

    def _refuse(self) -> None:
        self._refused = True
        # Twisted answers `Expect: 100-continue` right after the length: not after a refusal.
        self.requestHeaders.removeHeader(b"Expect")
        body = too_large_body(body_ceiling())
        head = (
            b"HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        )
        self.channel.transport.write(head + body)
        # Stops reading at once; what the client still sends is not stored anywhere.
        self.channel.loseConnection()


class QuietHTTPFactory(daphne.http_protocol.HTTPFactory):
    def log(self, request: Any) -> None:
        """No line of Twisted's: Daphne writes the access log."""


def install() -> None:
    """Makes Daphne build its HTTP requests from `BoundedWebRequest` (its HTTP factory names
    the request class of the module when it builds each connection's protocol), and its HTTP
    factory from `QuietHTTPFactory` (its server names the factory class of its module)."""
    daphne.http_protocol.WebRequest = BoundedWebRequest
    daphne.server.HTTPFactory = QuietHTTPFactory
