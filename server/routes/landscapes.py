"""Landscapes: metadata, point evaluation and contour data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from core.contours import contour_data
from core.landscapes import LANDSCAPES, get_landscape
from core.scene import MAX_REGULARIZATION, Params
from server.responses import cached_json, json_reply
from server.routes.catalog import landscape_json
from server.settings import get_settings

router = APIRouter(prefix="/api/landscapes", tags=["landscapes"])

MAX_COORDINATE = 1e6


class EvaluateRequest(BaseModel):
    """Points to evaluate, with the landscape's parameters and the L1/L2 penalty."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    points: list[tuple[Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)],
                       Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]]] = Field(
        min_length=1, max_length=10_000, examples=[[[3.0, 0.5], [0.0, 0.0]]]
    )
    params: Params = Field(default_factory=dict)
    l1: float = Field(0.0, ge=0.0, le=MAX_REGULARIZATION)
    l2: float = Field(0.0, ge=0.0, le=MAX_REGULARIZATION)


@router.get("", summary="List the landscapes")
def list_landscapes(request: Request) -> Response:
    """Every landscape: formula, what it teaches, domain, minima, default start, parameters."""
    return cached_json(request, {"landscapes": [landscape_json(ls) for ls in LANDSCAPES.values()]})


@router.get("/{name}", summary="One landscape's metadata")
def one_landscape(name: str, request: Request) -> Response:
    return cached_json(request, landscape_json(get_landscape(name)))


@router.post("/{name}/evaluate", summary="Loss and gradient at points")
def evaluate(
    name: str,
    request: Annotated[EvaluateRequest, Body(examples=[{"points": [[3.0, 0.5], [0.0, 0.0]], "l2": 0.1}])],
) -> Response:
    """f and ∇f (regularization included) at each point; a value too large for float64 comes back as null."""
    import numpy as np

    if len(request.points) > get_settings().max_evaluate_points:
        raise ValueError(f"points must hold at most {get_settings().max_evaluate_points} points")
    surface = get_landscape(name).surface(request.params, l1=request.l1, l2=request.l2)
    with np.errstate(all="ignore"):
        loss, grads = surface.value_and_grad(np.array(request.points, dtype=float))
    return json_reply({"loss": _finite(loss.tolist()), "grad": [_finite(g) for g in grads.tolist()]})


@router.get("/{name}/contours", summary="Contour levels, polylines and a value grid")
def contours(
    name: str,
    request: Request,
    levels: Annotated[int, Query(ge=2, le=200)] = 24,
    resolution: Annotated[int, Query(ge=16, le=512)] = 160,
    l1: Annotated[float, Query(ge=0.0, le=MAX_REGULARIZATION, allow_inf_nan=False)] = 0.0,
    l2: Annotated[float, Query(ge=0.0, le=MAX_REGULARIZATION, allow_inf_nan=False)] = 0.0,
) -> Response:
    """Drawing data for a landscape; its parameters go in the query by name, e.g. ``?condition=50&angle=30``."""
    reserved = {"levels", "resolution", "l1", "l2"}
    params: dict[str, Any] = {k: v for k, v in request.query_params.items() if k not in reserved}
    surface = get_landscape(name).surface(params, l1=l1, l2=l2)
    return cached_json(request, contour_data(surface, levels=levels, resolution=resolution))


def _finite(values: list[float]) -> list[float | None]:
    return [v if v == v and abs(v) != float("inf") else None for v in values]
