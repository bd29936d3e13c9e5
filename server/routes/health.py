"""Liveness and readiness, for load balancers and the container's HEALTHCHECK; both answer GET and HEAD.

Both are answered on the event loop itself (async routes, no thread pool), so a worker whose threads are
all computing still answers in milliseconds: liveness must not depend on how busy the worker is.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from server.readiness import readiness
from server.responses import dumps, ok
from server.schemas import HealthReply, ReadyReply

router = APIRouter(tags=["health"])

NO_STORE = {"Cache-Control": "no-store"}
_ALIVE = dumps({"status": "ok"})
READY_EXAMPLE = {
    "ready": True,
    "engine_warm": True,
    "lanes": {
        "small": {"busy": 1, "capacity": 4, "unit": "requests", "waiting": 0},
        "large": {
            "busy": 320000,
            "capacity": 640000,
            "unit": "racer-steps",
            "requests": 1,
            "max_requests": 4,
            "waiting": 0,
        },
        "exports": {"busy": 0, "capacity": 2, "unit": "requests", "waiting": 0},
    },
}


@router.get("/healthz", summary="Liveness", responses=ok({"status": "ok"}, HealthReply))
async def healthz() -> Response:
    """{"status": "ok"} while the worker's event loop runs, however busy its threads are; the container's
    HEALTHCHECK asks this. It says nothing of whether the worker can take work now: that is /readyz."""
    return Response(_ALIVE, media_type="application/json", headers=NO_STORE)


@router.get(
    "/readyz",
    summary="Readiness",
    responses={
        **ok(READY_EXAMPLE, ReadyReply),
        503: {"model": ReadyReply, "description": "Not ready: the engine is warming up, or every small slot is busy"},
    },
)
async def readyz() -> JSONResponse:
    """Whether this worker can take work now: 200 when the race engine is warm and a small race (a page's)
    would start at once; 503 otherwise. The body says why, with each lane's room (server/admission.py).
    With several workers, each answers for itself."""
    state = readiness()
    return JSONResponse(state, status_code=200 if state["ready"] else 503, headers=NO_STORE)
