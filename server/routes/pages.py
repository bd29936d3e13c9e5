"""HTML pages: the race page (/), the slide embed (/embed) and the API docs (/docs)."""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.palette import PALETTE
from core.presets import PRESETS, expand_preset
from core.scene import MAX_NOISE, MAX_RACERS, MAX_REGULARIZATION, MAX_STEPS, OPTIMIZER_COLORS, Scene
from core.scene_url import parse_query, scene_from_query, scene_json_from_query, scene_to_query
from core.schedules import MAX_UPDATES, SCHEDULES
from server.paths import TEMPLATES
from server.routes.catalog import landscape_json, optimizer_json, schedule_json

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)

# The page's contour request (GET /api/landscapes/{name}/contours): coarser than the API's default,
# which is plenty for a heat map under the paths and a few times smaller to send.
CONTOUR_RESOLUTION = 96
CONTOUR_LEVELS = 16
# Races with at least this many racer-steps are streamed (POST /api/race/stream); smaller ones are
# fetched whole with GET /api/race?<the page's query>, which the browser can preload and cache.
STREAM_ABOVE = 6000
# Keys of the page's address that are not the scene's (static/main.js: VIEW_KEYS): the short link's QR code in a
# corner, presenter mode, where the global lr multiplier stands (the scene's lrs are already multiplied),
# vectors on the map (vectors=1) and the 3D view (view=3d).
VIEW_KEYS = ("qr", "present", "lrscale", "vectors", "view")

# Keys the page does without at first: what it fetches with the full catalogues once the first race
# is drawn (update rules, torch templates for "Copy as PyTorch"), and what it never shows.
_LEFT_OUT = {
    "optimizers": ("rule", "summary", "fixed", "torch"),
    "schedules": ("formula", "torch"),
    "landscapes": ("log_scale",),
}
# Values the page assumes when a parameter spec leaves a key out (besides None and False).
_ASSUMED = {"kind": "float", "scale": "linear"}


def _compact_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec without "allowed" (derived), "help" (the page fetches it with the catalogues, for
    tooltips, once the race is drawn), the values the page assumes for a missing key, and a schedule
    length's bound of MAX_UPDATES (10⁹ updates, far past any race: the server's 422 names it)."""
    return {
        key: value
        for key, value in spec.items()
        if key in ("name", "default")
        or (
            key not in ("allowed", "help")
            and value is not None
            and value is not False
            and _ASSUMED.get(key) != value
            and not (key == "maximum" and value == MAX_UPDATES)
        )
    }


@lru_cache(maxsize=1)
def page_data() -> str:
    """The catalogues, the default scene and the limits as one JSON text, safe inside a <script> block.

    The page builds its controls from this, so the first race needs no catalogue round trip.
    """

    def trimmed(entry: dict[str, Any], catalogue: str) -> dict[str, Any]:
        entry = {key: value for key, value in entry.items() if key not in _LEFT_OUT[catalogue]}
        entry["params"] = [_compact_spec(spec) for spec in entry["params"]]
        if "minima" in entry:  # markers on the map only; a race's reply carries the exact minima
            entry["minima"] = [
                {**m, "point": [round(v, 6) for v in m["point"]], "value": round(m["value"], 9)}
                for m in entry["minima"]
            ]
        return entry

    data = {
        "landscapes": [trimmed(landscape_json(landscape), "landscapes") for landscape in LANDSCAPES.values()],
        "optimizers": [trimmed(optimizer_json(spec), "optimizers") for spec in OPTIMIZERS.values()],
        "schedules": [trimmed(schedule_json(schedule), "schedules") for schedule in SCHEDULES.values()],
        "default_scene": Scene().filled().model_dump(mode="json"),  # what omitted values default to
        # the demos without their claims (GET /api/presets has them): the select, the captions; the first
        # is the page's scene when its address has no query
        "presets": [preset.to_json(with_claims=False) for preset in PRESETS],
        "colors": {"palette": list(PALETTE), "optimizers": OPTIMIZER_COLORS},
        "contours": {"resolution": CONTOUR_RESOLUTION, "levels": CONTOUR_LEVELS},
        "stream_above": STREAM_ABOVE,
        "limits": {
            "max_steps": MAX_STEPS,
            "max_racers": MAX_RACERS,
            "max_noise": MAX_NOISE,
            "max_regularization": MAX_REGULARIZATION,
            "max_seed": 2**32 - 1,
        },
    }
    text = json.dumps(_whole_numbers_as_ints(data), allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    # "</script>" and "<!--" must not appear inside the block; \u003c is the same JSON string.
    return text.replace("<", "\\u003c")


def _whole_numbers_as_ints(value: Any) -> Any:
    """Floats with no fraction written as integers ("1" for "1.0"): the same number to JavaScript, 2 bytes fewer."""
    if (
        isinstance(value, float)
        and value.is_integer()
        and abs(value) < 2**53
        and not (value == 0 and math.copysign(1, value) < 0)
    ):
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers_as_ints(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_whole_numbers_as_ints(item) for item in value]
    return value


def contours_query(canonical: str) -> str:
    """The page's contour query for a scene query written out by scene_to_query (static/api.js builds the same)."""
    pieces = canonical.split("&")
    penalty = [piece for piece in pieces if piece.startswith(("l1=", "l2="))]
    params = [piece.removeprefix("landscape.") for piece in pieces if piece.startswith("landscape.")]
    return "&".join([f"resolution={CONTOUR_RESOLUTION}", f"levels={CONTOUR_LEVELS}", *penalty, *params])


def default_scene() -> Scene:
    """The page's scene when its address has no query: the first demo."""
    return PRESETS[0].scene()


def page_query(query: str) -> str:
    """The scene query of a page address: ``preset=<id>`` expanded (core.presets.expand_preset), as the page does."""
    pairs = parse_query(query)
    if not any(key == "preset" for key, _ in pairs):
        return query
    return scene_to_query(Scene.model_validate(scene_json_from_query(expand_preset(pairs))))


def preloads(query: str) -> list[str]:
    """The first requests the page will make for this query, so the browser starts them with the HTML.

    The page writes every scene out as scene_to_query does, and asks for exactly these URLs; a query
    the server cannot read gets no preload (the page falls back to defaults and says so).
    """
    try:
        query = "&".join(part for part in query.split("&") if part.split("=", 1)[0] not in VIEW_KEYS)
        query = page_query(query)
        scene = scene_from_query(query) if query else default_scene()
    except ValueError:
        return []
    canonical = scene_to_query(scene)
    urls = [f"/api/landscapes/{scene.landscape.name}/contours?{contours_query(canonical)}"]
    if scene.steps * len(scene.racers) < STREAM_ABOVE:
        urls.append(f"/api/race?{canonical}")
    return urls


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    """The race page: contour plot, race, controls, charts; the scene lives in the query string."""
    context = {"page_data": page_data(), "preloads": preloads(request.url.query)}
    return templates.TemplateResponse(request, "index.html", context)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from static/vendor, pointed at the OpenAPI schema."""
    return templates.TemplateResponse(request, "docs.html", {"openapi_url": request.app.openapi_url})
