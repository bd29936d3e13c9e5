"""Exports for slides that cannot hold an iframe: GET /export/race.gif, race.png and race.svg.

The query is the page's scene query string plus the format's options, e.g.
``/export/race.gif?landscape=bowl&racer=sgd;lr=0.01&racer=adam;lr=0.1&width=1024&height=768&theme=dark``.
One route per entry of ``server.render.FORMATS``. Rendering is CPU work, so the routes are plain
``def`` (Starlette runs them in its thread pool, off the event loop). An export is a pure function
of the scene, the options and the renderer, so its ETag is computed from those before drawing
anything: a revalidation answers 304 without rendering, and a small in-memory cache answers
repeats (a deck opened twice, a class opening the same link) without drawing again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from core.scene import Scene
from core.scene_url import SCENE_KEYS, scene_to_query
from server.render import FORMATS, ExportError, Format, fingerprint, split_query
from server.responses import GET_ERRORS, NOT_MODIFIED, etag_matches
from server.settings import get_settings

router = APIRouter(prefix="/export", tags=["exports"])

CACHE_BYTES = 32 * 1024 * 1024  # all cached exports together
CACHE_ITEM_BYTES = 8 * 1024 * 1024  # larger ones are not kept


class _ByteCache:
    """A small thread-safe LRU of rendered exports by ETag, bounded in bytes."""

    def __init__(self, max_bytes: int, max_item_bytes: int):
        self.max_bytes = max_bytes
        self.max_item_bytes = max_item_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_item_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)


_cache = _ByteCache(CACHE_BYTES, CACHE_ITEM_BYTES)


def cached_bytes(
    request: Request,
    key: str,
    render: Callable[[], bytes],
    media_type: str,
    filename: str,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """A deterministic GET reply of bytes: ETag from ``key`` (what decides the bytes), 304 on a match."""
    etag = '"' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={get_settings().cache_seconds}",
        "Content-Disposition": f'inline; filename="{filename}"',
        **(extra_headers or {}),  # a format's own headers win (the html export is an attachment)
    }
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    body = _cache.get(etag)
    if body is None:
        body = render()
        _cache.put(etag, body)
    return Response(body, media_type=media_type, headers=headers)


def _problem(status: int, detail: list[dict[str, Any]]) -> JSONResponse:
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail)
    return JSONResponse(status_code=status, content={"error": summary, "detail": detail})


def _export_route(fmt: Format) -> Callable[[Request], Response]:
    def export(request: Request) -> Response:
        try:
            scene, options = split_query(fmt, request.url.query)
        except ExportError as error:
            return _problem(
                422,
                [
                    {
                        "loc": ["query", problem.field],
                        "msg": problem.message,
                        "type": "value_error",
                        **({"input": str(problem.value)[:200]} if problem.value is not None else {}),
                    }
                    for problem in error.problems
                ],
            )
        except ValidationError as error:
            return _problem(
                422,
                [
                    {"loc": ["query", *problem["loc"]], "msg": problem["msg"], "type": problem["type"]}
                    for problem in error.errors(include_url=False, include_input=False)
                ],
            )
        key = "|".join([fingerprint(), fmt.name, scene_to_query(scene), repr(sorted(options.items()))])
        return cached_bytes(
            request, key, lambda: fmt.render(scene, options), fmt.media_type, fmt.filename(scene), fmt.headers
        )

    export.__name__ = f"export_{fmt.name}"
    return export


def _parameters(fmt: Format) -> list[dict[str, Any]]:
    """The query parameters for /docs: the scene's keys, then the format's options."""
    scene = Scene()
    described = {
        "landscape": ("string", "landscape name, e.g. rosenbrock, bowl, saddle", scene.landscape.name),
        "start": ("string", "start point x,y (default: the landscape's start)", None),
        "steps": ("integer", "number of optimizer updates", scene.steps),
        "noise": ("number", "σ of the gradient noise", scene.noise),
        "seed": ("integer", "seed of the gradient noise", scene.seed),
        "l1": ("number", "λ1 of the L1 penalty", scene.l1),
        "l2": ("number", "λ2 of the L2 penalty", scene.l2),
    }
    parameters: list[dict[str, Any]] = []
    for name in SCENE_KEYS:
        if name == "racer":
            parameters.append(
                {
                    "name": "racer",
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": True,
                    "description": "one racer per value, in order: optimizer;key=value;…, e.g. adam;lr=0.1;beta1=0.8;"
                    "schedule=cosine;label=Adam;color=e69f00 (default: the lecture's four)",
                    "schema": {"type": "array", "items": {"type": "string"}},
                }
            )
            continue
        kind, description, default = described[name]
        schema: dict[str, Any] = {"type": kind}
        if default is not None:
            schema["default"] = default
        parameters.append(
            {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
        )
    for spec in fmt.options:
        if spec.choices:
            schema = {"type": "string", "enum": list(spec.choices), "default": spec.default}
        else:
            schema = {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum, "default": spec.default}
        parameters.append(
            {"name": spec.name, "in": "query", "required": False, "description": spec.help, "schema": schema}
        )
    return parameters


for _fmt in FORMATS.values():
    router.add_api_route(
        f"/race.{_fmt.name}",
        _export_route(_fmt),
        methods=["GET"],
        summary=f"The race as {_fmt.name.upper()}",
        description=f"{_fmt.summary[0].upper()}{_fmt.summary[1:]}. The scene is the page's query string "
        "(landscape, landscape.<param>, start, steps, noise, seed, l1, l2, racer); the options go alongside. "
        "A bad value answers 422 naming the query key and what is allowed.",
        response_class=Response,
        responses={
            200: {"content": {_fmt.media_type: {}}, "description": f"the {_fmt.name.upper()} file"},
            **NOT_MODIFIED,
            **GET_ERRORS,
        },
        openapi_extra={"parameters": _parameters(_fmt)},
    )
