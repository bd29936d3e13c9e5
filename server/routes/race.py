"""Races: the whole result, the NDJSON stream, the scene from a query string, and the learning-rate sweep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from core.race import race_frames, run
from core.scene import Scene
from core.scene_url import scene_from_query, scene_to_query
from core.sweep import sweep
from server.responses import cached_json, dumps, json_reply
from server.settings import get_settings

router = APIRouter(prefix="/api", tags=["race"])

SCENE_EXAMPLE = {
    "landscape": {"name": "rosenbrock", "params": {}},
    "start": [-1.5, 2.0],
    "steps": 500,
    "noise": 0.0,
    "seed": 0,
    "l1": 0.0,
    "l2": 0.0,
    "racers": [
        {"optimizer": "sgd", "params": {"lr": 0.001}, "label": "SGD", "color": "#d55e00"},
        {
            "optimizer": "adam",
            "params": {"lr": 0.05, "beta1": 0.9, "beta2": 0.999},
            "schedule": {"name": "cosine", "params": {"T_max": 500}},
            "label": "Adam",
            "color": "#e69f00",
        },
    ],
}
SceneBody = Annotated[Scene, Body(examples=[SCENE_EXAMPLE])]


class SweepRequest(BaseModel):
    """A scene whose racers are each re-run at ``count`` log-spaced learning rates."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    scene: Scene = Field(default_factory=Scene)
    lr_min: float = Field(1e-4, gt=0.0, le=1e6)
    lr_max: float = Field(10.0, gt=0.0, le=1e6)
    count: int = Field(32, ge=2, le=256)
    steps: int | None = Field(None, ge=1, le=2000, description="overrides the scene's steps (at most 2000)")


@router.post("/race", summary="Run a race")
def race(scene: SceneBody) -> Response:
    """Every racer's path (start included), loss, learning rates, status, arrival and divergence steps."""
    return json_reply(run(scene))


@router.get("/race", summary="Run a race given as a query string")
def race_from_query(request: Request) -> Response:
    """The scene in the page's URL form, e.g.
    ``?landscape=bowl&landscape.condition=50&steps=400&racer=sgd;lr=0.01&racer=adam;lr=0.1;schedule=cosine``."""
    return cached_json(request, run(scene_from_query(str(request.url.query))))


@router.post("/race/stream", summary="Run a race as an NDJSON stream")
def race_stream(scene: SceneBody) -> StreamingResponse:
    """One JSON object per line: a header (the filled scene), chunks of steps as they are computed, a summary."""
    frames = race_frames(scene, chunk_steps=get_settings().stream_chunk_steps)
    lines: Iterator[bytes] = (dumps(frame) + b"\n" for frame in frames)
    return StreamingResponse(lines, media_type="application/x-ndjson")


@router.post("/scene/query", summary="A scene's query string, every value written out")
def scene_query(scene: SceneBody) -> Response:
    """The readable query string of a scene (for links, /embed and exports) and the filled scene."""
    return json_reply({"query": scene_to_query(scene), "scene": scene.filled().model_dump(mode="json")})


@router.post("/sweep", summary="Learning-rate sensitivity of every racer")
def lr_sweep(request: Annotated[SweepRequest, Body(examples=[{"scene": SCENE_EXAMPLE, "count": 16}])]) -> Response:
    """Final loss gap and arrival step at ``count`` learning rates from lr_min to lr_max (log-spaced)."""
    scene = request.scene
    if request.steps is not None or scene.steps > 2000:
        scene = scene.model_copy(update={"steps": min(request.steps or scene.steps, 2000)})
    return json_reply(sweep(scene, request.lr_min, request.lr_max, request.count))
