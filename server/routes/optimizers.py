"""Optimizers and schedules: the catalogues the page builds its controls from, and schedule curves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from core.optimizers import OPTIMIZERS
from core.scene import MAX_STEPS, ScheduleChoice
from core.schedules import SCHEDULES, lr_per_step
from server.responses import cached_json, json_reply
from server.routes.catalog import optimizer_json, schedule_json

router = APIRouter(prefix="/api", tags=["optimizers and schedules"])


class CurveRequest(BaseModel):
    """A schedule, the base learning rate and the number of steps."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    schedule: ScheduleChoice
    lr: float = Field(ge=0.0, le=1e6)
    steps: int = Field(ge=1, le=MAX_STEPS)


@router.get("/optimizers", summary="List the optimizers")
def list_optimizers(request: Request) -> Response:
    """Every optimizer: hyperparameters (torch's names and defaults, valid range, slider range and scale),
    its update rule as text, and the torch call that reproduces it."""
    return cached_json(request, {"optimizers": [optimizer_json(spec) for spec in OPTIMIZERS.values()]})


@router.get("/schedules", summary="List the learning-rate schedules")
def list_schedules(request: Request) -> Response:
    return cached_json(request, {"schedules": [schedule_json(s) for s in SCHEDULES.values()]})


@router.post("/schedules/curve", summary="The learning rate of every step")
def schedule_curve(
    request: Annotated[
        CurveRequest,
        Body(examples=[{"schedule": {"name": "cosine", "params": {"T_max": 100}}, "lr": 0.1, "steps": 100}]),
    ],
) -> Response:
    """lr[t] is the learning rate used by update t, as torch.optim.lr_scheduler gives it."""
    curve = lr_per_step(request.schedule.name, request.schedule.params, request.lr, request.steps)
    return json_reply({"lr": curve.tolist()})
