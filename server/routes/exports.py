"""Exports for slides that cannot hold an iframe: GET /export/race.gif, race.png and race.svg.

The query is the page's scene query string plus the format's options, e.g.
``/export/race.gif?landscape=bowl&racer=sgd;lr=0.01&racer=adam;lr=0.1&width=1024&height=768&theme=dark``.
One route per entry of ``server.render.FORMATS``. An export is a pure function of the scene, the
options and the renderer, so its ETag is computed from those before drawing anything: a revalidation
answers 304 without rendering, and a small in-memory cache answers repeats (a deck opened twice, a
class opening the same link) without drawing again.

Rendering is CPU work (about a second for a GIF), so it runs in Starlette's thread pool, off the event
loop, and at most ``export_slots`` exports render at once in a worker process (``SLOTS``): a burst of
exports must not take every CPU from the races. A further export waits, on the event loop and holding
no thread, up to ``export_wait_seconds`` for a slot, then gets 503 with Retry-After. Parsing, 304s and
cache hits take no slot; a waiter looks in the cache again once it has one (the export it waited behind
may have drawn the same picture).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from core.scene_url import scene_to_query
from server.admission import Slots
from server.render import FORMATS, ExportError, Format, fingerprint, split_query
from server.responses import GET_ERRORS, NOT_MODIFIED, error_body, error_responses, etag_matches
from server.schemas import EXPORT_BUDGET, EXPORT_STEP, SCENE_QUERY_RULES, rules_text, scene_query_parameters
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


# The exports' slots: plain slots (each export takes one) of the limiter that also admits races.
ExportSlots = Slots

SLOTS = ExportSlots()


def busy_reply() -> JSONResponse:
    """503: every export slot stayed taken for the whole wait. Retry-After is the wait, in whole seconds."""
    settings = get_settings()
    retry = max(1, math.ceil(settings.export_wait_seconds))
    message = (
        f"too many exports at once: at most {settings.export_slots} render at a time here, "
        f"and none came free in {settings.export_wait_seconds:g} s; try again in {retry} s"
    )
    return JSONResponse(
        status_code=503, content=error_body(message, [], "export_busy"), headers={"Retry-After": str(retry)}
    )


class _Export(NamedTuple):
    """An export that is neither a 304 nor in the cache: what it needs to be drawn and sent."""

    etag: str
    render: Callable[[], bytes]
    media_type: str
    headers: dict[str, str]

    def reply(self, body: bytes) -> Response:
        return Response(body, media_type=self.media_type, headers=self.headers)


def cached_bytes(
    request: Request,
    key: str,
    render: Callable[[], bytes],
    media_type: str,
    filename: str,
    extra_headers: Mapping[str, str] | None = None,
) -> Response | _Export:
    """A deterministic GET reply of bytes: ETag from ``key`` (what decides the bytes), 304 on a match, the
    cached bytes if any; else the ``_Export`` to draw (with ``draw``, holding a slot)."""
    etag = '"' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={get_settings().cache_seconds}",
        "Content-Disposition": f'inline; filename="{filename}"',
        **(extra_headers or {}),  # a format's own headers win (the html export is an attachment)
    }
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    export = _Export(etag, render, media_type, headers)
    body = _cache.get(etag)
    return export if body is None else export.reply(body)


def draw(export: _Export) -> Response:
    """Render and keep the bytes, unless a request this one waited behind has just drawn the same."""
    body = _cache.get(export.etag)
    if body is None:
        body = export.render()
        _cache.put(export.etag, body)
    return export.reply(body)


CLIENT_GONE = 499  # nginx's "client closed request": nobody reads it, the log says why nothing was drawn


async def with_slot(export: _Export, request: Request) -> Response:
    """``draw`` in the thread pool while holding an export slot, released however it ends; 503 if none comes.

    A client that left while its export waited for a slot (a closed tab) gets nothing drawn: the slot goes on."""
    settings = get_settings()
    if not await SLOTS.acquire(settings.export_slots, settings.export_wait_seconds, max_waiting=settings.max_waiting):
        return busy_reply()
    try:
        if await request.is_disconnected():
            return Response(status_code=CLIENT_GONE)
        return await run_in_threadpool(draw, export)
    finally:
        SLOTS.release(settings.export_slots)


def _problem(status: int, detail: list[dict[str, Any]]) -> JSONResponse:
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail)
    return JSONResponse(status_code=status, content={"error": summary, "detail": detail})


def _prepare(name: str, request: Request) -> Response | _Export:
    """Everything short of drawing (run in the thread pool): 422 for a bad query, else ``cached_bytes``."""
    fmt = FORMATS[name]  # looked up per request, so a test can stand in a renderer
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


def _export_route(fmt: Format) -> Callable[[Request], Awaitable[Response]]:
    async def export(request: Request) -> Response:
        prepared = await run_in_threadpool(_prepare, fmt.name, request)
        return prepared if isinstance(prepared, Response) else await with_slot(prepared, request)

    export.__name__ = f"export_{fmt.name}"
    return export


def _parameters(fmt: Format) -> list[dict[str, Any]]:
    """The query parameters for /docs: the scene's keys (as GET /api/race takes them), then the format's options."""
    parameters = scene_query_parameters()
    for spec in fmt.options:
        if spec.choices:
            schema = {"type": "string", "enum": list(spec.choices), "default": spec.default}
        else:
            schema = {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum, "default": spec.default}
        parameters.append(
            {"name": spec.name, "in": "query", "required": False, "description": spec.help, "schema": schema}
        )
    return parameters


def _rules(fmt: Format) -> str:
    """What the query must also satisfy, beyond its schema (the scene's rules, the format's own budget, the step)."""
    steps = any(spec.name == "step" for spec in fmt.options)
    return rules_text(
        (*SCENE_QUERY_RULES, *((EXPORT_BUDGET,) if fmt.check else ()), *((EXPORT_STEP,) if steps else ()))
    )


BUSY = {
    503: {
        **error_responses(503)[503],
        "headers": {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}

for _fmt in FORMATS.values():
    router.add_api_route(
        f"/race.{_fmt.name}",
        _export_route(_fmt),
        methods=["GET"],
        summary=f"The race as {_fmt.name.upper()}",
        description=f"{_fmt.summary[0].upper()}{_fmt.summary[1:]}. The scene is the page's query string "
        "(landscape, landscape.<param>, start, steps, noise, seed, l1, l2, racer); the options go alongside. "
        "A bad value answers 422 naming the query key and what is allowed. Exports render a few at a time: "
        "past a short wait for a turn, 503 with Retry-After.\n\n" + _rules(_fmt),
        response_class=Response,
        responses={
            200: {"content": {_fmt.media_type: {}}, "description": f"the {_fmt.name.upper()} file"},
            **NOT_MODIFIED,
            **GET_ERRORS,
            **BUSY,
        },
        openapi_extra={"parameters": _parameters(_fmt)},
    )
