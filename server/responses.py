"""Shaping replies: JSON with ETag and Cache-Control for deterministic GETs, and errors that name the field."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from server.schemas import ErrorReply
from server.settings import get_settings


class NotFound(LookupError):
    """An unknown name in the path: answered 404, the message listing the known names."""

    def __init__(self, message: str, loc: list[str | int]):
        super().__init__(message)
        self.message = message
        self.loc = loc


def dumps(content: Any, ascii_only: bool = False) -> bytes:
    """Compact JSON. core never lets NaN or Infinity out; if one slipped through it would still not be sent.

    orjson (about 15× faster than json on a race's lists) writes a non-finite float as null; the
    ASCII-only form (for NDJSON lines) goes through json, which raises on one instead.
    """
    if ascii_only:
        return json.dumps(content, allow_nan=False, separators=(",", ":"), ensure_ascii=True).encode()
    return _dumps_in_pieces(content, PIECE_DEPTH)


# orjson holds the GIL for a whole call: 65 ms for a 16 × 20 000 race's 21 MB, in which the worker's event loop
# (and /healthz) waits. Written a piece at a time (the reply's keys, each racer, each racer's fields), no call
# holds it for more than a few milliseconds. Same bytes: orjson writes compact JSON, so the pieces join to it.
PIECE_DEPTH = 3


def _dumps_in_pieces(content: Any, depth: int) -> bytes:
    """``orjson.dumps(content)``, byte for byte, written as several calls down to ``depth`` levels of nesting."""
    if depth > 0 and type(content) is dict and all(type(key) is str for key in content):
        members = (orjson.dumps(key) + b":" + _dumps_in_pieces(value, depth - 1) for key, value in content.items())
        return b"{" + b",".join(members) + b"}"
    if depth > 0 and type(content) is list and len(content) > 1:
        return b"[" + b",".join(_dumps_in_pieces(item, depth - 1) for item in content) + b"]"
    return orjson.dumps(content)


def cached_json(request: Request, content: Any) -> Response:
    """A deterministic GET reply: strong ETag from the body, public Cache-Control, 304 on a match."""
    body = dumps(content)
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={get_settings().cache_seconds}"}
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison: ``*``, or any listed tag equal to ``etag`` once a ``W/`` prefix is dropped."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def json_reply(content: Any) -> Response:
    return Response(dumps(content), media_type="application/json")


def error_body(message: str, loc: list[Any], kind: str, value: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"loc": loc, "msg": message, "type": kind}
    if value is not None:
        entry["input"] = _json_safe(value)
    return {"error": message, "detail": [entry]}


def error_reply(status: int, message: str, loc: list[Any], kind: str = "value_error") -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(message, loc, kind))


def _where(request: Request) -> str:
    return "body" if request.method in ("POST", "PUT", "PATCH") else "query"


async def request_validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """422 with every problem: where (``loc``), what is wrong and what is allowed (``msg``), and the value."""
    assert isinstance(error, RequestValidationError)
    return _problems(error.errors(), prefix=[])


async def model_validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """A model validated inside a route (e.g. the scene of GET /api/race's query): 422 like a request error."""
    assert isinstance(error, ValidationError)
    return _problems(error.errors(), prefix=[_where(request)])


async def value_error_handler(request: Request, error: Exception) -> JSONResponse:
    """A core ValueError (bad name, parameter out of range) raised inside a route: 422 with its message."""
    return error_reply(422, str(error), [_where(request)])


async def http_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (no such path, wrong method, a body that is not JSON) shaped like every other."""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    status = error.status_code
    if status == 404:
        body = error_body(f"no route {request.url.path}; the API is listed at /docs", ["path"], "not_found")
    elif status == 405:
        allowed = allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}"
        body = error_body(message, ["method"], "method_not_allowed")
    elif status == 400:
        body = error_body("the body must be JSON in UTF-8", ["body"], "json_invalid")
    elif status == 415:
        body = error_body(str(error.detail), ["header", "content-type"], "unsupported_media_type")
    else:
        body = error_body(str(error.detail), [], "http_error")
    return JSONResponse(status_code=status, content=body, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (Starlette's 405 names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]  # not OPTIONS: it only answers CORS preflights


async def server_error_handler(request: Request, error: Exception) -> JSONResponse:
    """A bug, not bad input: 500 in the same shape (the traceback goes to the log, not to the client)."""
    return error_reply(500, "internal error: the server failed on a valid request; please report it", [], "internal")


async def not_found_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, NotFound)
    return error_reply(404, error.message, error.loc, kind="not_found")


def _problems(problems: Any, prefix: list[Any]) -> JSONResponse:
    detail = []
    for problem in problems:
        entry = {
            "loc": prefix + [p if isinstance(p, int) else str(p) for p in problem.get("loc", ())],
            "msg": problem.get("msg", ""),
            "type": problem.get("type", "value_error"),
        }
        if "input" in problem:
            entry["input"] = _json_safe(problem["input"])
        detail.append(entry)
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail)
    return JSONResponse(status_code=422, content={"error": summary, "detail": detail})


def _json_safe(value: Any, depth: int = 0) -> Any:
    """The offending input, cut down to something small and always valid JSON."""
    if depth > 3:
        return "…"
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value if not isinstance(value, str) else value[:200]
    if isinstance(value, dict):
        return {str(k)[:100]: _json_safe(v, depth + 1) for k, v in list(value.items())[:20]}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in list(value)[:20]]
    return str(value)[:200]


# --- documented replies ---------------------------------------------------------------------------------

_ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "The body is not JSON, or nested too deeply",
        error_body("JSON must be nested at most 16 levels deep, got 40", ["body"], "json_too_deep"),
    ),
    404: (
        "Unknown name in the path; the message lists the known ones",
        error_body(
            "unknown landscape 'rosenbrok'; expected one of: beale, rosenbrock, saddle, bowl, …",
            ["path", "name"],
            "not_found",
        ),
    ),
    413: (
        "The body is too large",
        error_body("request body must be at most 262144 bytes", ["body"], "body_too_large"),
    ),
    414: (
        "The query string is too long",
        error_body("query string must be at most 8192 bytes", ["query"], "query_too_long"),
    ),
    415: (
        "The body is not sent as JSON",
        error_body(
            "the body must be sent as Content-Type: application/json, got 'text/plain'",
            ["header", "content-type"],
            "unsupported_media_type",
        ),
    ),
    422: (
        "Invalid input: each problem names the field, the value and what is allowed",
        {
            "error": "body.racers.0: Value error, unknown optimizer 'adan'; expected one of: sgd, momentum, …",
            "detail": [
                {
                    "loc": ["body", "racers", 0],
                    "msg": "Value error, unknown optimizer 'adan'; expected one of: sgd, momentum, …",
                    "type": "value_error",
                    "input": {"optimizer": "adan"},
                }
            ],
        },
    ),
    503: (
        "Every export slot stayed busy for the whole wait; the Retry-After header says when to try again",
        error_body(
            "too many exports at once: at most 2 render at a time here, and none came free in 5 s; try again in 5 s",
            [],
            "export_busy",
        ),
    ),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for these error statuses, each with the ErrorReply model and an example."""
    return {
        status: {
            "model": ErrorReply,  # registers the schema; the stream's route would file it under its own media type
            "description": _ERROR_EXAMPLES[status][0],
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ErrorReply"},
                    "example": _ERROR_EXAMPLES[status][1],
                }
            },
        }
        for status in statuses
    }


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified: the If-None-Match ETag matches"}}
POST_ERRORS = error_responses(400, 413, 415, 422)
NOT_FOUND = error_responses(404)
GET_ERRORS = error_responses(414, 422)


def ok(example: Any, model: type | None = None, media_type: str = "application/json") -> dict[int | str, Any]:
    """The 200 entry of ``responses=``: the reply's model (for the schema) and a real example."""
    entry: dict[str, Any] = {"description": "Successful Response", "content": {media_type: {"example": example}}}
    if model is not None:
        entry["model"] = model
    return {200: entry}
