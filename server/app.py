"""The ASGI app, ``server.app:app``: the JSON API under /api, the pages, the exports, static files and /docs."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from core.race import warm_up
from server.admission import Busy, busy_handler
from server.middleware import (
    BodyLimitMiddleware,
    GZipExceptStreamsMiddleware,
    HeadMiddleware,
    HostMiddleware,
    SecurityHeadersMiddleware,
)
from server.paths import STATIC
from server.responses import (
    NotFound,
    http_error_handler,
    model_validation_error_handler,
    not_found_handler,
    request_validation_error_handler,
    server_error_handler,
    value_error_handler,
)
from server.routes import embed, exports, formula, health, landscapes, links, maps, optimizers, pages, presets, race

DESCRIPTION = """
Optimizers (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW, …) race from one start point to the
minimum of a 2D loss landscape. Every optimizer follows its `torch.optim` namesake's update rule exactly, and
every schedule its `torch.optim.lr_scheduler` namesake. The same **scene** drives the page (`/`), slides
(`/embed`) and this API.
"""


# CPython hands the GIL to a waiting thread after this long. The event loop (every request's I/O, /healthz)
# waits for it behind each computing thread in turn: 5 ms (the default) a thread, 1 ms here. Measured with six
# threads racing beside a loop: its median lag 22-62 ms at 5 ms, 13-26 ms at 1 ms.
SWITCH_INTERVAL_SECONDS = 0.001


# A young generation of 10 000 objects instead of 700: building a 16 × 20 000 race's lists (about a million
# objects) otherwise runs hundreds of collections that, between them, held the GIL for 26-56 ms at a time (18 ms
# at most with 10 000). 50 000 stalled no less, and its workers' memory rose 9 % over a soak's second half (2.5 %).
GC_THRESHOLDS = (10_000, 10, 10)


def warm_up_and_freeze() -> None:
    """Warm the race engine, then move every object alive now (numba, sympy, NumPy, the app: about 230 000)
    out of the garbage collector's reach with ``gc.freeze``.

    Those objects live as long as the worker, but a full collection would walk all of them each time: about
    90 ms in which no request, not even /healthz, is answered (measured: ``gc.collect()`` after importing the
    app, 91-104 ms; after ``gc.freeze()``, under 0.01 ms). Frozen objects are still freed by reference
    counting; only cycles among them would stay, and these modules' objects are not garbage. Then collect
    the young generation less often (``GC_THRESHOLDS``).
    """
    warm_up()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A worker starting: hand the GIL round faster, so the event loop is never long behind the races; warm
    the race engine (compiled, or loaded from the on-disk cache: about a second) off the event loop, so
    /healthz answers at once and /readyz says ready when it is done; then freeze what start-up made
    (``warm_up_and_freeze``)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    threading.Thread(target=warm_up_and_freeze, name="engine-warm-up", daemon=True).start()
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        lifespan=lifespan,
        title="optirace",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,  # served by pages.py from static/vendor: no CDN
        redoc_url=None,
    )
    app.add_exception_handler(RequestValidationError, request_validation_error_handler)
    app.add_exception_handler(ValidationError, model_validation_error_handler)  # a model checked inside a route
    app.add_exception_handler(ValueError, value_error_handler)
    app.add_exception_handler(NotFound, not_found_handler)
    app.add_exception_handler(Busy, busy_handler)  # no room for the work now: 503 with Retry-After
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(Exception, server_error_handler)  # then re-raised, so it is logged
    routers = (
        health.router,
        formula.router,
        landscapes.router,
        optimizers.router,
        race.router,
        presets.router,
        maps.router,
        exports.router,
        embed.router,
        links.router,
        pages.router,
    )
    for router in routers:
        app.include_router(router)
    app.openapi = _as_declared(app, routers)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Outermost last: bodies are bounded before anything reads them.
    # Level 1: a 130 kB race shrinks to 44 % in 2 ms; level 9 (Starlette's default) saves 4 % more in 15 ms,
    # spent on the event loop of every JSON reply.
    app.add_middleware(GZipExceptStreamsMiddleware, minimum_size=1024, compresslevel=1)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "If-None-Match"],
        expose_headers=["ETag", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(HeadMiddleware)  # outside gzip: a HEAD gets the GET's headers, Content-Encoding and all
    app.add_middleware(HostMiddleware)  # first: a foreign Host is refused before anything else is read
    return app


def _as_declared(app: FastAPI, routers: tuple[APIRouter, ...]) -> Any:
    """app.openapi, with replies documented as the routes declare them. FastAPI drops every null from the
    document, so ``"arrived_at": null`` would vanish from an example whose schema requires it: the examples
    go back whole. And errors are JSON even where the route's replies are not (the NDJSON stream)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        for router in routers:
            for route in router.routes:
                operations = document["paths"].get(getattr(route, "path", None), {})
                for method in getattr(route, "methods", ()):
                    if method.lower() in operations:
                        _restore(operations[method.lower()]["responses"], route.responses)
        return document

    return openapi


def _restore(documented: dict[str, Any], declared: dict[int | str, Any]) -> None:
    for status, reply in declared.items():
        content = documented[str(status)].get("content", {})
        if str(status).startswith("4"):
            for media_type in [m for m in content if m != "application/json"]:
                del content[media_type]
        for media_type, declared_content in reply.get("content", {}).items():
            if "example" in declared_content and media_type in content:
                content[media_type]["example"] = jsonable_encoder(declared_content["example"])


app = create_app()
