"""Optimizers and schedules: the catalogues the page builds its controls from, and schedule curves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from core.optimizers import OPTIMIZERS
from core.scene import MAX_STEPS
from core.schedules import SCHEDULES, lr_per_step, resolve_schedule_params
from server.responses import NOT_MODIFIED, POST_ERRORS, cached_json, json_reply, ok
from server.routes.catalog import optimizer_json, schedule_json
from server.schemas import (
    SCHEDULE_FINITE,
    SCHEDULE_FITS_RUN,
    CurveReply,
    OptimizerList,
    ScheduleInput,
    ScheduleList,
    states,
)
from server.strict import strict_json

router = APIRouter(prefix="/api", tags=["optimizers and schedules"])


CURVE_EXAMPLE = {"schedule": {"name": "cosine", "params": {"T_max": 8}}, "lr": 0.1, "steps": 8}


class CurveRequest(BaseModel):
    """A schedule, the base learning rate and the number of steps."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    schedule: ScheduleInput
    lr: float = Field(ge=0.0, le=1e6)
    steps: int = Field(ge=1, le=MAX_STEPS)


def schedule_params(request: CurveRequest) -> dict[str, Any]:
    """The schedule's parameters for this run, checked; ValueError naming the field."""
    return resolve_schedule_params(request.schedule.name, request.schedule.params, request.steps)


def curve_of(request: CurveRequest) -> dict[str, list[float]]:
    curve = lr_per_step(request.schedule.name, request.schedule.params, request.lr, request.steps)
    return {"lr": curve.tolist()}


@router.get(
    "/optimizers",
    summary="List the optimizers",
    responses={**ok({"optimizers": [optimizer_json(OPTIMIZERS["adam"])]}, OptimizerList), **NOT_MODIFIED},
)
def list_optimizers(request: Request) -> Response:
    """Every optimizer: hyperparameters (torch's names and defaults, valid range, slider range and scale),
    its update rule as text, and the torch call that reproduces it."""
    return cached_json(request, {"optimizers": [optimizer_json(spec) for spec in OPTIMIZERS.values()]})


@router.get(
    "/schedules",
    summary="List the learning-rate schedules",
    responses={**ok({"schedules": [schedule_json(SCHEDULES["cosine"])]}, ScheduleList), **NOT_MODIFIED},
)
def list_schedules(request: Request) -> Response:
    return cached_json(request, {"schedules": [schedule_json(s) for s in SCHEDULES.values()]})


@router.post(
    "/schedules/curve",
    dependencies=[strict_json(CurveRequest, then=lambda body, request: schedule_params(body))],
    summary="The learning rate of every step",
    responses={
        **ok(curve_of(CurveRequest.model_validate(CURVE_EXAMPLE)), CurveReply),
        **POST_ERRORS,
    },
)
@states(SCHEDULE_FITS_RUN, SCHEDULE_FINITE)
def schedule_curve(request: Annotated[CurveRequest, Body(examples=[CURVE_EXAMPLE])]) -> Response:
    """lr[t] is the learning rate used by update t, as torch.optim.lr_scheduler gives it."""
    return json_reply(curve_of(request))
