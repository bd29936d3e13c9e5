"""uvicorn's HTTP protocol as ``optirace serve`` runs it: Nagle off, a bounded request head, a read timeout and
a connection cap answered in the API's error shape.

- **TCP_NODELAY** on every connection. asyncio turns Nagle's algorithm off only for sockets whose ``proto`` is
  IPPROTO_TCP. With ``--workers`` above 1, uvicorn binds the listening socket itself as
  ``socket.socket(family)``, whose proto is 0, so the connections the workers accept keep Nagle on: a reply
  written in two parts (headers, then the body; or a gzipped body, then its trailer) waits for the client's
  delayed ACK, 40 ms on Linux, on every request of a kept-alive connection. Measured here: GET /healthz
  44 ms with 2 workers, 3 ms with 1.
- **A bounded head.** httptools accepts a request head of any size (a 16 MB header value, 20 000 headers)
  and uvicorn keeps all of it. Here a head over ``max_header_bytes`` bytes (request line and headers) or
  ``max_headers`` header lines gets 431 and the connection is closed; what is buffered meanwhile is at most
  the limit and one read.
- **A read timeout.** uvicorn waits for a request's bytes forever (a slow client holds its connection, and
  whatever it had sent, for as long as it likes). Here a request must arrive whole within
  ``read_timeout_seconds`` of its first byte, and a new connection must start one within that time: else the
  connection is closed, after a 408 if nothing was answered yet. Replies, streams included, are not timed.
- **A connection cap.** Past ``limit_concurrency`` connections (or requests) at once in the worker, a
  request gets 503 with Retry-After in the API's error shape (uvicorn's own says so in plain text). The
  probes (/healthz, /readyz) are answered still: a worker at its cap is busy, not dead.

Idle kept-alive connections are closed after ``timeout_keep_alive`` seconds, by uvicorn. The limits come from
the settings (server/settings.py), read when a worker starts.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from server.responses import error_body
from server.settings import get_settings

PROBES = (b"/healthz", b"/readyz")


class _Refusal(Exception):
    def __init__(self, status: int, message: str, kind: str, loc: list[str]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.loc = loc


def _error(status: int, message: str, kind: str, loc: list[str], extra: list[tuple[bytes, bytes]]) -> bytes:
    body = json.dumps(error_body(message, loc, kind)).encode()
    head = [STATUS_LINE[status]]
    for name, value in [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *extra,
    ]:
        head += [name, b": ", value, b"\r\n"]
    return b"".join([*head, b"\r\n", body])


async def _over_capacity(scope: Any, receive: Any, send: Any) -> None:
    """The reply to a request past the connection cap: 503 with Retry-After, in the API's error shape."""
    cap = get_settings().max_connections
    message = f"too many connections: this worker serves at most {cap} at once; try again in 1 s"
    body = json.dumps(error_body(message, [], "connections_busy")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NoDelayHTTPProtocol(HttpToolsProtocol):  # type: ignore[misc]
    """httptools' protocol with Nagle off, a bounded head, a read timeout and a capped count of connections."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.max_head_bytes = settings.max_header_bytes
        self.max_headers = settings.max_headers
        self.read_timeout = settings.read_timeout_seconds
        self.max_connections = self.limit_concurrency
        self.limit_concurrency = None  # checked here instead, to answer in the API's error shape
        self.read_timer: asyncio.TimerHandle | None = None
        self.in_head = True  # between requests, or inside a request's head
        self.head_bytes = 0  # bytes received while in a head (an upper bound on the head's size)
        self.head_size = 0  # the head's size as parsed: URL, header names and values
        self.header_count = 0

    # --- the connection -----------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
        self._start_read_timer()  # a connection that never sends a request is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_read_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, but a head over the limits is refused with 431 rather than buffered without end."""
        self._unset_keepalive_if_required()
        if self.in_head:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _Refusal):
                self._refuse(error.__context__)
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self.in_head and self.head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._refuse(self._head_too_large())

    # --- parser callbacks -----------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.head_size = 0
        self.header_count = 0
        if self.read_timer is None:
            self._start_read_timer()

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        if self.head_size > self.max_head_bytes:
            raise self._head_too_large()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4  # ": " and CRLF
        self.header_count += 1
        if self.header_count > self.max_headers:
            raise _Refusal(
                431,
                f"a request may carry at most {self.max_headers} header lines",
                "too_many_headers",
                ["header"],
            )
        if self.head_size > self.max_head_bytes:
            raise self._head_too_large()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.head_bytes = 0
        cap = self.max_connections
        probe = self.url.partition(b"?")[0] in PROBES  # a load balancer's probe is answered past the cap
        if cap is not None and not probe and (len(self.connections) > cap or len(self.tasks) >= cap):
            app, self.app = self.app, _over_capacity
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            return
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_read_timer()
        self.in_head = True
        self.head_bytes = 0
        super().on_message_complete()

    # --- limits ---------------------------------------------------------------------------------------------

    def _head_too_large(self) -> _Refusal:
        return _Refusal(
            431,
            f"the request line and headers must be at most {self.max_head_bytes} bytes",
            "headers_too_large",
            ["header"],
        )

    def _refuse(self, refusal: _Refusal) -> None:
        self._stop_read_timer()
        if not self.transport.is_closing():
            self.logger.warning("Refused a request: %s", refusal.message)
            self.transport.write(_error(refusal.status, refusal.message, refusal.kind, refusal.loc, []))
            self.transport.close()

    def _start_read_timer(self) -> None:
        self._stop_read_timer()
        self.read_timer = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _stop_read_timer(self) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
            self.read_timer = None

    def _read_timed_out(self) -> None:
        """The request did not arrive whole in time: 408 if nothing was answered yet, and close."""
        self.read_timer = None
        if self.transport.is_closing():
            return
        answered = self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete
        if not answered:
            message = f"the request did not arrive whole within {self.read_timeout:g} s"
            self.transport.write(_error(408, message, "request_timeout", [], []))
        self.transport.close()
