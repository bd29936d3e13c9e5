"""HTML pages: the race page (/), the slide embed (/embed) and the API docs (/docs)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.scene import MAX_NOISE, MAX_RACERS, MAX_REGULARIZATION, MAX_STEPS, Scene
from core.schedules import SCHEDULES
from server.paths import TEMPLATES
from server.routes.catalog import landscape_json, optimizer_json, schedule_json

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)

# Long texts the page fetches from /api/optimizers and /api/schedules only when asked for them.
_LAZY_KEYS = {"optimizers": ("rule",), "schedules": ("formula",), "landscapes": ()}
# Parameter-spec keys the page can do without: "allowed" is derived, and None/False are the JS defaults.
_SPEC_KEEP = ("name", "default")


def _compact_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in spec.items()
        if key in _SPEC_KEEP or (key != "allowed" and value is not None and value is not False)
    }


@lru_cache(maxsize=1)
def page_data() -> str:
    """The catalogues, the default scene and the limits as one JSON text, safe inside a <script> block.

    The page builds its controls from this, so the first race needs no catalogue round trip.
    """

    def trimmed(entry: dict[str, Any], catalogue: str) -> dict[str, Any]:
        entry = {key: value for key, value in entry.items() if key not in _LAZY_KEYS[catalogue]}
        entry["params"] = [_compact_spec(spec) for spec in entry["params"]]
        return entry

    data = {
        "landscapes": [trimmed(landscape_json(landscape), "landscapes") for landscape in LANDSCAPES.values()],
        "optimizers": [trimmed(optimizer_json(spec), "optimizers") for spec in OPTIMIZERS.values()],
        "schedules": [trimmed(schedule_json(schedule), "schedules") for schedule in SCHEDULES.values()],
        "default_scene": Scene().filled().model_dump(mode="json"),
        "limits": {
            "max_steps": MAX_STEPS,
            "max_racers": MAX_RACERS,
            "max_noise": MAX_NOISE,
            "max_regularization": MAX_REGULARIZATION,
            "max_seed": 2**32 - 1,
        },
    }
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    # "</script>" and "<!--" must not appear inside the block; \u003c is the same JSON string.
    return text.replace("<", "\\u003c")


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The race page: contour plot, race, controls, charts; the scene lives in the query string."""
    return templates.TemplateResponse(request, "index.html", {"page_data": page_data()})


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from static/vendor, pointed at the OpenAPI schema."""
    return templates.TemplateResponse(request, "docs.html", {"openapi_url": request.app.openapi_url})
