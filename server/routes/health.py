"""Liveness for load balancers and the container's HEALTHCHECK."""

from __future__ import annotations

from fastapi import APIRouter

from server.responses import ok
from server.schemas import HealthReply

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness", responses=ok({"status": "ok"}, HealthReply))
def healthz() -> dict[str, str]:
    """{"status": "ok"} while the server answers; the container's HEALTHCHECK asks this."""
    return {"status": "ok"}
