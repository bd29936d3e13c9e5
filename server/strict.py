"""JSON bodies held to their schema: ``"steps": "500"`` or ``"l2": false`` is a 422, not a silent conversion.

FastAPI validates a body in Pydantic's lax Python mode, which turns ``false`` into 0.0 and ``"500"`` into
500, so the server would accept what its own OpenAPI schema rejects. ``strict_json(Model)`` is a route
dependency that first validates the raw body in strict JSON mode (arrays still become tuples, integers
still become floats: exactly JSON Schema's types). It runs before FastAPI's own validation, which then
cannot fail; both take tens of microseconds for a scene.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError


def strict_json(model: type[Any]) -> Any:
    """``dependencies=[strict_json(Model)]``: a 422 for any body that ``Model``'s JSON schema rejects, a 415 for a
    body not sent as JSON (FastAPI would answer "Field required", which puzzles a fetch() without the header)."""
    adapter = TypeAdapter(model)

    async def check(request: Request) -> None:
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HTTPException(415, f"the body must be sent as Content-Type: application/json, got {media_type!r}")
        try:
            adapter.validate_json(await request.body(), strict=True)
        except ValidationError as error:
            problems = error.errors(include_url=False)
            raise RequestValidationError([{**p, "loc": ("body", *p["loc"])} for p in problems]) from None

    return Depends(check)
