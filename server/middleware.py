"""ASGI middleware: bounded request bodies, security headers on pages, gzip except for live streams."""

from __future__ import annotations

import json

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.settings import get_settings

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors {ancestors}"
)
FRAMEABLE_PATHS = ("/embed",)


class BodyLimitMiddleware:
    """Refuse bodies over ``max_body_bytes`` (413) and JSON nested deeper than ``max_json_depth`` (400).

    The body is read here, once, and handed on unchanged, so no route ever parses an unbounded body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > settings.max_body_bytes):
            await _refuse(send, 413, f"request body must be at most {settings.max_body_bytes} bytes")
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > settings.max_body_bytes:
                await _refuse(send, 413, f"request body must be at most {settings.max_body_bytes} bytes")
                return
        depth = json_depth(bytes(body))
        if depth > settings.max_json_depth:
            await _refuse(send, 400, f"JSON must be nested at most {settings.max_json_depth} levels deep, got {depth}")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def json_depth(body: bytes) -> int:
    """The deepest nesting of [ and { in a JSON text, skipping strings; counted without parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "detail": [{"loc": ["body"], "msg": message}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    """nosniff everywhere; on HTML pages a CSP without inline script, and framing only for /embed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        frameable = scope["path"].startswith(FRAMEABLE_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                if content_type.startswith(b"text/html"):
                    ancestors = "*" if frameable else "'none'"
                    headers.append((b"content-security-policy", PAGE_CSP.format(ancestors=ancestors).encode()))
                    if not frameable:
                        headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class GZipExceptStreamsMiddleware(GZipMiddleware):
    """gzip, but not for NDJSON streams, whose chunks must reach the client as soon as they are made."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
