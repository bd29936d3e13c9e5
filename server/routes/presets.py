"""The lecture's demos as data (GET /api/presets) and a scene as a runnable PyTorch script (GET /api/pytorch)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from core.presets import PRESETS, PRESETS_BY_ID, STORIES
from core.scene import Scene
from core.scene_url import scene_from_query, scene_to_query
from server.pytorch import filename, script
from server.responses import (
    GET_ERRORS,
    NOT_FOUND,
    NOT_MODIFIED,
    POST_ERRORS,
    NotFound,
    cached_json,
    etag_matches,
    json_reply,
    ok,
)
from server.routes.race import SCENE_EXAMPLE, SMALL_SCENE
from server.schemas import SCENE_QUERY_RULES, SCENE_RULES, SceneInput, scene_query_parameters, states
from server.settings import get_settings
from server.strict import strict_json

router = APIRouter(prefix="/api", tags=["lecture"])

PYTHON = "text/x-python; charset=utf-8"


class ClaimReply(BaseModel):
    """One fact a caption states (core/presets.py lists the checks and their fields)."""

    model_config = ConfigDict(extra="allow")
    says: str = Field(description="the caption's own words that this fact backs")
    check: str = Field(description="setup, status, arrives_first, gap_order, left_minimum or measure")


class PresetReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    story: str = Field(description=f"the lecture's story it tells: one of {', '.join(STORIES)}")
    title: str
    caption: str
    query: str = Field(description="the scene, every value written out (the page's URL form)")
    claims: list[ClaimReply]


class PresetList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    presets: list[PresetReply]


class PytorchReply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str
    query: str
    script: str = Field(description="a self-contained Python script: torch + numpy, runs as is")


@lru_cache(maxsize=1)
def presets_json() -> list[dict[str, Any]]:
    return [preset.to_json() for preset in PRESETS]


@router.get(
    "/presets",
    summary="The lecture's demos, with the claims their captions make",
    responses={**ok({"presets": presets_json()[:1]}, PresetList), **NOT_MODIFIED},
)
def presets(request: Request) -> Response:
    """Every demo: its story, title, caption, scene (as a query string) and the facts its caption claims,
    each quoting the caption's words; tests hold every claim against the race."""
    return cached_json(request, {"presets": presets_json()})


@router.get(
    "/presets/{preset_id}",
    summary="One demo",
    responses={**ok(presets_json()[0], PresetReply), **NOT_MODIFIED, **NOT_FOUND, **GET_ERRORS},
)
def one_preset(
    request: Request,
    preset_id: Annotated[str, Path(json_schema_extra={"enum": list(PRESETS_BY_ID)}, examples=["valley"])],
) -> Response:
    if preset_id not in PRESETS_BY_ID:
        known = ", ".join(PRESETS_BY_ID)
        raise NotFound(f"unknown preset {preset_id!r}; expected one of: {known}", loc=["path", "preset_id"])
    return cached_json(request, next(p for p in presets_json() if p["id"] == preset_id))


@router.get(
    "/pytorch",
    summary="A scene given as a query string, as a runnable PyTorch script",
    responses={**ok(script(SMALL_SCENE), None, PYTHON), **NOT_MODIFIED, **GET_ERRORS},
    response_class=Response,
    openapi_extra={"parameters": scene_query_parameters()},
)
@states(*SCENE_QUERY_RULES)
def pytorch_from_query(request: Request) -> Response:
    """The same query as GET /api/race. The script defines the landscape (parameters, l1/l2), the start, the
    noise (NumPy, same seed and order as the race), each racer's torch.optim optimizer and scheduler; after
    running, ``paths`` maps each racer's label to its [[x, y], …], and it prints one line per racer."""
    scene = scene_from_query(str(request.url.query))
    body = script(scene).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={get_settings().cache_seconds}",
        "Content-Disposition": f'inline; filename="{filename(scene)}"',
    }
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=PYTHON, headers=headers)


@router.post(
    "/pytorch",
    dependencies=[strict_json(Scene)],
    summary="A scene as a runnable PyTorch script",
    responses={
        **ok(
            {"filename": filename(SMALL_SCENE), "query": scene_to_query(SMALL_SCENE), "script": script(SMALL_SCENE)},
            PytorchReply,
        ),
        **POST_ERRORS,
    },
)
@states(*SCENE_RULES)
def pytorch(scene: Annotated[SceneInput, Body(openapi_examples={"rosenbrock": {"value": SCENE_EXAMPLE}})]) -> Response:
    """The script of GET /api/pytorch for a scene given as JSON, with its file name and query string."""
    return json_reply({"filename": filename(scene), "query": scene_to_query(scene), "script": script(scene)})
