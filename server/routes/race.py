"""Races: the whole result, the NDJSON stream, the scene from a query string, and the learning-rate sweep."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from itertools import chain
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from core.race import race_frames, run
from core.scene import Scene
from core.scene_url import parse_query, scene_json_from_query, scene_to_query
from core.sweep import sweep
from server.admission import BUSY_RESPONSES, admission, admitted, racer_steps
from server.responses import GET_ERRORS, NOT_MODIFIED, POST_ERRORS, cached_json, dumps, json_reply, ok
from server.schemas import (
    INTERNALS_SIZE,
    LR_RANGE_ORDERED,
    SCENE_QUERY_RULES,
    SCENE_RULES,
    SWEEP_SCHEDULES,
    SWEEP_SIZE,
    ChunkFrame,
    HeaderFrame,
    RaceInput,
    RaceReply,
    RaceRequest,
    SceneInput,
    SceneQueryReply,
    SummaryFrame,
    SweepReply,
    scene_query_parameters,
    states,
)
from server.settings import get_settings
from server.strict import strict_json

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
SceneBody = Annotated[SceneInput, Body(openapi_examples={"rosenbrock": {"value": SCENE_EXAMPLE}})]
RaceBody = Annotated[RaceInput, Body(openapi_examples={"rosenbrock": {"value": SCENE_EXAMPLE}})]
# Replies in /docs are real: the example scene, cut to 3 steps.
SMALL_SCENE = Scene.model_validate({**SCENE_EXAMPLE, "steps": 3})
Frame = Annotated[HeaderFrame | ChunkFrame | SummaryFrame, Field(discriminator="type")]


class NDJSONResponse(StreamingResponse):
    media_type = "application/x-ndjson"


def ndjson(frames: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """One frame a line, non-ASCII escaped: a raw U+2028 or U+0085 in a label would end a line for
    readers that split like Python's str.splitlines (requests' iter_lines does)."""
    return (dumps(frame, ascii_only=True) + b"\n" for frame in frames)


def gzip_flushed(lines: Iterator[bytes]) -> Iterator[bytes]:
    """``lines`` gzipped, each flushed (Z_SYNC_FLUSH) as it comes, so the client can read every frame at once.

    A gzip middleware would hold small writes back until its compressor fills; a flush per frame costs
    a few bytes and keeps most of the gain (a race's frames are long runs of similar numbers)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing, level 1 as the middleware
    for line in lines:
        yield compressor.compress(line) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()


INTERNALS_QUERY = {
    "name": "internals",
    "in": "query",
    "required": False,
    "description": "1: add each update's gradient, step and optimizer state (torch's names) to every racer",
    "schema": {"type": "string", "enum": ["0", "1", "true", "false"], "default": "0"},
}


class SweepRequest(BaseModel):
    """A scene whose racers are each re-run at ``count`` log-spaced learning rates."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    scene: SceneInput = Field(default_factory=Scene)
    lr_min: float = Field(1e-4, gt=0.0, le=1e6)
    lr_max: float = Field(10.0, gt=0.0, le=1e6)
    count: int = Field(32, ge=2, le=256)
    steps: int | None = Field(None, ge=1, le=2000, description="overrides the scene's steps (at most 2000)")


@router.post(
    "/race",
    summary="Run a race",
    responses={**ok(run(SMALL_SCENE), RaceReply), **POST_ERRORS, **BUSY_RESPONSES},
    dependencies=[strict_json(RaceRequest)],
)
@admitted(lambda scene, **_: racer_steps(scene))
@states(*SCENE_RULES, INTERNALS_SIZE)
def race(scene: RaceBody) -> Response:
    """Every racer's path (start included), loss, learning rates, status, arrival and divergence steps.

    With ``"internals": true``, each racer also gets ``internals``: per update, the gradient it saw, the
    step it took and its optimizer state under torch's names."""
    return json_reply(run(scene, internals=scene.internals))


@router.get(
    "/race",
    summary="Run a race given as a query string",
    responses={**ok(run(SMALL_SCENE), RaceReply), **NOT_MODIFIED, **GET_ERRORS, **BUSY_RESPONSES},
    openapi_extra={"parameters": [*scene_query_parameters(), INTERNALS_QUERY]},
)
@states(*SCENE_QUERY_RULES, INTERNALS_SIZE)
async def race_from_query(request: Request) -> Response:
    """The scene in the page's URL form, e.g.
    ``?landscape=bowl&landscape.condition=50&steps=400&racer=sgd;lr=0.01&racer=adam;lr=0.1;schedule=cosine``;
    ``internals=1`` adds each update's internals."""
    pairs = parse_query(str(request.url.query))
    internals = internals_flag(pairs)
    scene = Scene.model_validate(scene_json_from_query(pairs, ignore=("internals",)))
    async with admission(racer_steps(scene)):
        return await run_in_threadpool(lambda: cached_json(request, run(scene, internals=internals)))


def internals_flag(pairs: list[tuple[str, str]]) -> bool:
    """The query's ``internals`` flag: 1/true or 0/false, at most once."""
    values = [value for key, value in pairs if key == "internals"]
    if len(values) > 1:
        raise ValueError("internals must be given at most once")
    if not values:
        return False
    if values[0].lower() not in ("0", "1", "true", "false"):
        raise ValueError(f"internals must be 1, true, 0 or false, got {values[0]!r}")
    return values[0].lower() in ("1", "true")


@router.post(
    "/race/stream",
    dependencies=[strict_json(RaceRequest)],
    summary="Run a race as an NDJSON stream",
    response_class=NDJSONResponse,
    responses={
        200: {
            "description": "NDJSON, one frame a line: a header, chunks of steps as they are computed, a summary",
            "model": list[Frame],
            "content": {
                NDJSONResponse.media_type: {
                    "example": b"".join(ndjson(race_frames(SMALL_SCENE, chunk_steps=2))).decode(),
                }
            },
        },
        **POST_ERRORS,
        **BUSY_RESPONSES,
    },
)
@admitted(lambda scene, **_: racer_steps(scene))
@states(*SCENE_RULES, INTERNALS_SIZE)
def race_stream(scene: RaceBody, request: Request) -> NDJSONResponse:
    """One JSON object per line: a header (the filled scene), chunks of steps as they are computed, a summary.

    The header is made before the reply starts, so a scene core rejects still gets a 422, not a cut stream.
    gzipped, frame by frame, for a client that accepts it. The stream holds its room (server/admission.py) while
    it computes, until its last line or until its client leaves."""
    frames = race_frames(scene, chunk_steps=get_settings().stream_chunk_steps, internals=scene.internals)
    header = next(frames)
    lines = ndjson(chain([header], frames))
    if not accepts_gzip(request.headers.get("accept-encoding", "")):
        return NDJSONResponse(lines, headers={"Vary": "Accept-Encoding"})
    return NDJSONResponse(gzip_flushed(lines), headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header admits gzip: named, or through ``*``, with a q above 0."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[name] = weight
    return weights.get("gzip", weights.get("*", 0.0)) > 0


@router.post(
    "/scene/query",
    dependencies=[strict_json(Scene)],
    summary="A scene's query string, every value written out",
    responses={
        **ok(
            {"query": scene_to_query(SMALL_SCENE), "scene": SMALL_SCENE.filled().model_dump(mode="json")},
            SceneQueryReply,
        ),
        **POST_ERRORS,
    },
)
@states(*SCENE_RULES)
def scene_query(scene: SceneBody) -> Response:
    """The readable query string of a scene (for links, /embed and exports) and the filled scene."""
    return json_reply({"query": scene_to_query(scene), "scene": scene.filled().model_dump(mode="json")})


@router.post(
    "/sweep",
    dependencies=[strict_json(SweepRequest)],
    summary="Learning-rate sensitivity of every racer",
    responses={**ok(sweep(SMALL_SCENE, 1e-3, 1.0, 4), SweepReply), **POST_ERRORS, **BUSY_RESPONSES},
)
@admitted(lambda request: len(request.scene.racers) * request.count * sweep_steps(request))
@states(*SCENE_RULES, LR_RANGE_ORDERED, SWEEP_SIZE, SWEEP_SCHEDULES)
def lr_sweep(request: Annotated[SweepRequest, Body(examples=[{"scene": SCENE_EXAMPLE, "count": 16}])]) -> Response:
    """Final loss gap and arrival step at ``count`` learning rates from lr_min to lr_max (log-spaced)."""
    return json_reply(sweep_reply(request))


def sweep_reply(request: SweepRequest) -> dict[str, Any]:
    """The sweep a request asks for (its steps, or the scene's, at most 2000); ValueError naming a bad field."""
    scene = request.scene
    if sweep_steps(request) != scene.steps:
        scene = scene.model_copy(update={"steps": sweep_steps(request)})
    return sweep(scene, request.lr_min, request.lr_max, request.count)


def sweep_steps(request: SweepRequest) -> int:
    """The steps a sweep runs: the request's, else the scene's, at most 2000."""
    return min(request.steps or request.scene.steps, 2000)
