"""Shaping replies: JSON with ETag and Cache-Control for deterministic GETs, and errors that name the field."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from server.settings import get_settings


def dumps(content: Any) -> bytes:
    """Compact JSON; raises on NaN or Infinity, which core never lets out."""
    return json.dumps(content, allow_nan=False, separators=(",", ":"), ensure_ascii=False).encode()


def cached_json(request: Request, content: Any) -> Response:
    """A deterministic GET reply: strong ETag from the body, public Cache-Control, 304 on a match."""
    body = dumps(content)
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={get_settings().cache_seconds}"}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def json_reply(content: Any) -> Response:
    return Response(dumps(content), media_type="application/json")


def error_reply(status: int, message: str, loc: list[Any] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": message, "detail": [{"loc": loc or [], "msg": message}]}
    )


async def validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """422 with every problem: where (``loc``), what is wrong and what is allowed (``msg``), and the value."""
    assert isinstance(error, RequestValidationError)
    detail = []
    for problem in error.errors():
        entry = {"loc": list(problem.get("loc", ())), "msg": problem.get("msg", ""), "type": problem.get("type")}
        if "input" in problem:
            entry["input"] = _json_safe(problem["input"])
        detail.append(entry)
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail)
    return JSONResponse(status_code=422, content={"error": summary, "detail": detail})


async def value_error_handler(request: Request, error: Exception) -> JSONResponse:
    """A core ValueError (bad name, parameter out of range) raised inside a route: 422 with its message."""
    return error_reply(422, str(error))


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
