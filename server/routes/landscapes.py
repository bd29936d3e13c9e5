"""Landscapes: metadata, point evaluation and contour data."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from core.contours import contour_data
from core.landscapes import LANDSCAPES, Landscape, Surface, get_landscape
from core.scene import MAX_REGULARIZATION, Params
from server.responses import GET_ERRORS, NOT_FOUND, NOT_MODIFIED, POST_ERRORS, NotFound, cached_json, json_reply, ok
from server.routes.catalog import landscape_json
from server.schemas import (
    CUSTOM_LANDSCAPE,
    EVALUATE_POINTS,
    NUMBER_PATTERN,
    PARAMS_OF_PATH_LANDSCAPE,
    WINDOW_IN_DOMAIN,
    ContoursReply,
    EvaluateReply,
    Exact,
    LandscapeList,
    LandscapeReply,
    any_landscape_params,
    landscape_query_parameters,
    states,
)
from server.settings import get_settings
from server.strict import strict_json

router = APIRouter(prefix="/api/landscapes", tags=["landscapes"])

MAX_COORDINATE = 1e6
CONTOUR_KEYS = ("levels", "resolution", "l1", "l2", "window")

LandscapeName = Annotated[
    str,
    Path(
        description="a landscape's name (GET /api/landscapes); an unknown one is a 404 listing the known ones",
        json_schema_extra={"enum": list(LANDSCAPES)},
        examples=["rosenbrock"],
    ),
]


def landscape_named(name: str) -> Landscape:
    """The landscape in the path, or a 404 naming the known ones."""
    try:
        return get_landscape(name)
    except ValueError as error:
        raise NotFound(str(error), loc=["path", "name"]) from None


class EvaluateRequest(BaseModel):
    """Points to evaluate, with the landscape's parameters and the L1/L2 penalty."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    points: list[
        tuple[
            Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)],
            Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)],
        ]
    ] = Field(min_length=1, max_length=10_000, examples=[[[3.0, 0.5], [0.0, 0.0]]])
    params: Annotated[Params, Exact(any_landscape_params())] = Field(default_factory=dict)
    l1: float = Field(0.0, ge=0.0, le=MAX_REGULARIZATION)
    l2: float = Field(0.0, ge=0.0, le=MAX_REGULARIZATION)


@router.get(
    "",
    summary="List the landscapes",
    responses={**ok({"landscapes": [landscape_json(LANDSCAPES["rosenbrock"])]}, LandscapeList), **NOT_MODIFIED},
)
def list_landscapes(request: Request) -> Response:
    """Every landscape: formula, what it teaches, domain, minima, default start, parameters."""
    return cached_json(request, {"landscapes": [landscape_json(ls) for ls in LANDSCAPES.values()]})


@router.get(
    "/{name}",
    summary="One landscape's metadata",
    responses={**ok(landscape_json(LANDSCAPES["bowl"]), LandscapeReply), **NOT_MODIFIED, **NOT_FOUND, **GET_ERRORS},
)
def one_landscape(name: LandscapeName, request: Request) -> Response:
    return cached_json(request, landscape_json(landscape_named(name)))


@router.post(
    "/{name}/evaluate",
    dependencies=[
        strict_json(EvaluateRequest, then=lambda body, request: surface_for(request.path_params["name"], body))
    ],
    summary="Loss and gradient at points",
    responses={
        **ok({"loss": [0.925, 14.203125], "grad": [[0.6, 0.1], [-12.75, 0.0]]}, EvaluateReply),
        **NOT_FOUND,
        **POST_ERRORS,
    },
)
@states(PARAMS_OF_PATH_LANDSCAPE, CUSTOM_LANDSCAPE, EVALUATE_POINTS)
def evaluate(
    name: LandscapeName,
    request: Annotated[EvaluateRequest, Body(examples=[{"points": [[3.0, 0.5], [0.0, 0.0]], "l2": 0.1}])],
) -> Response:
    """f and ∇f (regularization included) at each point; a value too large for float64 comes back as null."""
    limit = get_settings().max_evaluate_points
    if len(request.points) > limit:
        raise ValueError(f"points must hold at most {limit} points, got {len(request.points)}")
    surface = surface_for(name, request)
    with np.errstate(all="ignore"):
        loss, grads = surface.value_and_grad(request.points)
    return json_reply({"loss": _finite(loss.tolist()), "grad": [_finite(g) for g in grads.tolist()]})


@router.get(
    "/{name}/contours",
    summary="Contour levels, polylines and a value grid",
    responses={
        **ok(
            {
                "domain": {"x": [-5.0, 5.0], "y": [-5.0, 5.0]},
                "log_scale": False,
                "grid": {"nx": 16, "ny": 16, "z": [13.125, 12.9694, 12.8361]},
                "z_min": 0.0138889,
                "z_max": 13.125,
                "levels": [4.38, 8.75],
                "lines": [{"level": 4.38, "paths": [[[-2.9, -3.12], [-2.33, -3.13]]]}],
            },
            ContoursReply,
        ),
        **NOT_MODIFIED,
        **NOT_FOUND,
        **GET_ERRORS,
    },
    openapi_extra={"parameters": landscape_query_parameters("")},
)
@states(PARAMS_OF_PATH_LANDSCAPE, CUSTOM_LANDSCAPE, WINDOW_IN_DOMAIN)
def contours(
    name: LandscapeName,
    request: Request,
    levels: Annotated[int, Query(ge=2, le=200)] = 24,
    resolution: Annotated[int, Query(ge=16, le=512)] = 160,
    l1: Annotated[float, Query(ge=0.0, le=MAX_REGULARIZATION, allow_inf_nan=False)] = 0.0,
    l2: Annotated[float, Query(ge=0.0, le=MAX_REGULARIZATION, allow_inf_nan=False)] = 0.0,
    window: Annotated[
        str | None,
        Query(
            description="a close-up xmin,xmax,ymin,ymax inside the domain (default: the whole domain)",
            examples=["2.5,3.5,0,1"],
            max_length=200,
            pattern=f"^{NUMBER_PATTERN},{NUMBER_PATTERN},{NUMBER_PATTERN},{NUMBER_PATTERN}$",
        ),
    ] = None,
) -> Response:
    """Drawing data for a landscape; its parameters go in the query by name, e.g. ``?condition=50&angle=30``."""
    landscape = landscape_named(name)
    params = {k: v for k, v in request.query_params.items() if k not in CONTOUR_KEYS}
    surface = landscape.surface(params, l1=l1, l2=l2)
    box = None if window is None else [_window_number(part) for part in window.split(",")]
    return cached_json(request, contour_data(surface, levels=levels, resolution=resolution, window=box))


def _window_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"window must be four numbers xmin,xmax,ymin,ymax, got {text!r}") from None


def surface_for(name: str, request: EvaluateRequest) -> Surface:
    """The landscape of the path with the body's parameters and penalties; 404 or 422 naming what is wrong."""
    return landscape_named(name).surface(request.params, l1=request.l1, l2=request.l2)


def _finite(values: list[float]) -> list[float | None]:
    return [v if v == v and abs(v) != float("inf") else None for v in values]
