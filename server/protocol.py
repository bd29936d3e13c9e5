"""uvicorn's HTTP protocol with TCP_NODELAY on every connection, for ``optirace serve``.

asyncio turns Nagle's algorithm off only for sockets whose ``proto`` is IPPROTO_TCP. With ``--workers``
above 1, uvicorn binds the listening socket itself as ``socket.socket(family)``, whose proto is 0, so the
connections the workers accept keep Nagle on: a reply written in two parts (headers, then the body; or a
gzipped body, then its trailer) waits for the client's delayed ACK, 40 ms on Linux, on every request of a
kept-alive connection. Measured here: GET /healthz 44 ms with 2 workers, 3 ms with 1.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """httptools' or h11's protocol (whichever uvicorn would pick), with Nagle off on the accepted socket."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
