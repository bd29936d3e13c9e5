"""ASGI middleware: trusted Host names and relative redirects, HEAD wherever GET is answered, bounded queries and
bodies, security headers on pages, gzip except for live streams (they gzip themselves, frame by frame:
server/routes/race.py)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.responses import error_body
from server.settings import get_settings

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
# Pages are never framed, but the embed may be framed by any deck: frame-ancestors has no value for
# "anywhere, file:// included" ('*' matches network schemes only), so the embed's CSP leaves it out.
NOT_FRAMED = "; frame-ancestors 'none'"
FRAMEABLE_PATHS = ("/embed",)  # and below them: /embed/…


class BodyLimitMiddleware:
    """Refuse query strings over ``max_query_bytes`` (414), bodies over ``max_body_bytes`` (413) and JSON nested
    deeper than ``max_json_depth`` (400).

    The body is read here, once, and handed on unchanged, so no route ever parses an unbounded body, and
    Python's recursive JSON parser never meets a nesting deep enough to exhaust its stack.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        if len(scope.get("query_string", b"")) > settings.max_query_bytes:
            await _refuse(send, 414, f"query string must be at most {settings.max_query_bytes} bytes", "query")
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        too_large = f"request body must be at most {settings.max_body_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > settings.max_body_bytes):
            await _refuse(send, 413, too_large, "body")
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
                await _refuse(send, 413, too_large, "body")
                return
        if json_too_deep(bytes(body), settings.max_json_depth):
            await _refuse(send, 400, f"JSON must be nested at most {settings.max_json_depth} levels deep", "body")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_BRACKETS_ONLY = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether a JSON text nests [ and { more than ``limit`` deep (strings skipped), found without parsing.

    Each pass deletes the innermost pairs, one level, in C; at most ``limit + 1`` passes, so 256 KiB
    take a couple of milliseconds whatever their shape. Unclosed brackets count as nesting, so a
    malformed body cannot slip past the bound into Python's recursive parser.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(_BRACKETS_ONLY, _NOT_BRACKETS)
    depth = 0
    while brackets and depth <= limit:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            break
        brackets = inner
        depth += 1
    return depth + brackets.count(b"[") > limit


async def _refuse(send: Send, status: int, message: str, where: str) -> None:
    kind = {400: "json_too_deep", 413: "body_too_large", 414: "query_too_long"}[status]
    body = json.dumps(error_body(message, [where], kind)).encode()
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
        path = scope["path"]
        frameable = any(path == p or path.startswith(p + "/") for p in FRAMEABLE_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                has_policy = any(name.lower() == b"content-security-policy" for name, _ in headers)
                if content_type.startswith(b"text/html") and not has_policy:  # a reply's own policy stands
                    policy = PAGE_CSP if frameable else PAGE_CSP + NOT_FRAMED
                    headers.append((b"content-security-policy", policy.encode()))
                    if not frameable:
                        headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class GZipExceptStreamsMiddleware(GZipMiddleware):
    """gzip, but not for NDJSON streams, whose chunks must reach the client as soon as they are made: this
    middleware would hold small writes back, so the stream route gzips and flushes each frame itself."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/stream"):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


PROBES = ("/healthz", "/readyz")  # answered whatever the Host: a load balancer probes by address


class HostMiddleware:
    """The Host header: only the trusted names are served (``trusted_hosts``), and no redirect repeats it.

    A request for another Host gets 400 (the probes answer any, as load balancers ask by address). A redirect
    (Starlette's trailing-slash one) whose Location names the request's own Host is made relative: with every
    Host trusted, a forged one would otherwise be echoed back as an absolute URL.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope["headers"] if name == b"host"), b"").decode("latin-1")
        trusted = [name.strip().lower() for name in get_settings().trusted_hosts.split(",") if name.strip()]
        if scope["path"] not in PROBES and not host_trusted(host, trusted):
            message = f"Host {host[:100]!r} is not served here; served: {', '.join(trusted)}"
            body = json.dumps(error_body(message, ["header", "host"], "host_not_allowed")).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = [
                    (name, relative_location(value, host) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_relative)


def host_trusted(host: str, trusted: list[str]) -> bool:
    """Whether ``host`` (a Host header, port and all) is one of ``trusted``: a name, ``*.domain`` (the domain's
    subdomains) or ``*`` (any)."""
    if "*" in trusted:
        return True
    name = host.lower()
    name = name[: name.index("]") + 1] if name.startswith("[") and "]" in name else name.rsplit(":", 1)[0]
    return any(name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])) for pattern in trusted)


def relative_location(location: bytes, host: str) -> bytes:
    """An absolute Location on the request's own Host as a path (``//`` at its start collapsed, so that it
    cannot be read as another host); any other Location as it is."""
    parts = urlsplit(location.decode("latin-1"))
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
        return location
    path = "/" + parts.path.lstrip("/")
    return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")


class HeadMiddleware:
    """HEAD wherever GET is answered (pages, probes, the API, exports, static files): the GET's status and
    headers, without the body (RFC 9110 9.3.2). FastAPI's routes answer only the methods they declare."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not _answers_get(scope):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _answers_get(scope: Scope) -> bool:
    as_get = {**scope, "method": "GET"}
    return any(route.matches(as_get)[0] == Match.FULL for route in scope["app"].router.routes)
