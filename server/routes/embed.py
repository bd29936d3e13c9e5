"""The slide embed: GET /embed?<scene>&<options>, the race alone, filling its iframe.

The scene is the page's query string (core.scene_url); the embed's options (autoplay, loop, controls,
theme, speed: static/embed-snippet.js) go alongside and are stripped before the scene is read. The
contours and the landscape come inlined in the HTML, and so does the race of a small scene
(server.render.offline.embed_payload), so its first frame needs no second request. A race of
STREAM_ABOVE racer-steps or more (the page's threshold: up to 16 × 20 000 would be megabytes of HTML)
is left out: the page gets the stream's header instead, draws the map, the start and the legend at
once, and streams the race (POST /api/race/stream) as the page does, drawing it as it arrives. The
options are read by the page itself: a bad value falls back to its default with a console warning
(the frame is for people, not programs).

A scene the server cannot run answers 422 with an HTML page, inside the frame, that says what is wrong
and links to the full page, where the teacher can see what the link should be. Framing is allowed for
/embed (server/middleware.py: frame-ancestors *).
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from core.presets import expand_preset
from core.scene import Scene
from core.scene_url import parse_query, scene_from_query, scene_json_from_query, scene_to_query
from server.render.offline import (
    embed_payload,
    json_block,
    module_order,
    render_page,
    theme_attribute,
)
from server.routes.pages import STREAM_ABOVE

router = APIRouter(include_in_schema=False)

# qr=1: the short link's QR code in a corner; chart, caption, lrscale, vectors, view: the slide's
# (static/embed-snippet.js).
# preset=<id> is not among them: it names the scene (core.presets.expand_preset); the embed reads its caption too.
EMBED_OPTIONS = (
    "autoplay",
    "loop",
    "controls",
    "theme",
    "speed",
    "qr",
    "chart",
    "caption",
    "lrscale",
    "vectors",
    "view",
)


@lru_cache(maxsize=1)
def modules() -> tuple[str, ...]:
    """The modules embed.js imports, for <link rel="modulepreload"> (read once per process)."""
    return tuple(module.name for module in module_order())


def start_theme(theme: str) -> str | None:
    """The <html data-theme> to start with: light, dark, or none for auto; a bad value starts light."""
    return theme_attribute(theme) if theme in ("light", "dark", "auto") else "light"


def problem_text(error: ValueError) -> str:
    """A scene's problems, one a line, each naming its field (``racers.0.params.lr: …``)."""
    if isinstance(error, ValidationError):
        return "\n".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {_message(problem['msg'])}"
            if problem["loc"]
            else _message(problem["msg"])
            for problem in error.errors(include_url=False)
        )
    return str(error)


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


@router.get("/embed", response_class=HTMLResponse)
def embed(request: Request) -> HTMLResponse:
    """The race of the query's scene, with minimal chrome, sized to its frame."""
    pairs = parse_query(request.url.query)
    theme = next((value for key, value in reversed(pairs) if key == "theme"), "light")
    qr = next((value for key, value in reversed(pairs) if key == "qr"), "0") in ("1", "true")
    vectors = next((value for key, value in reversed(pairs) if key == "vectors"), "0") in ("1", "true")
    view3d = next((value for key, value in reversed(pairs) if key == "view"), "2d") == "3d"
    scene_pairs = [(key, value) for key, value in pairs if key not in EMBED_OPTIONS]
    try:
        scene = Scene.model_validate(scene_json_from_query(expand_preset(scene_pairs)))
        html = _page(scene_to_query(scene), start_theme(theme), qr, vectors, view3d)
    except ValueError as error:
        page_query = "&".join(
            part for part in request.url.query.split("&") if part.split("=", 1)[0] not in EMBED_OPTIONS
        )
        html = render_page(
            title="This race cannot be shown",
            theme=start_theme(theme),
            error=problem_text(error),
            page_href=f"/?{page_query}",
        )
        return HTMLResponse(html, status_code=422)
    return HTMLResponse(html)


def streams(scene: Scene) -> bool:
    """Whether the embed streams this scene's race rather than inlining it (as the page decides, pages.py)."""
    return scene.steps * len(scene.racers) >= STREAM_ABOVE


@lru_cache(maxsize=32)
def _page(canonical: str, theme: str | None, qr: bool = False, vectors: bool = False, view3d: bool = False) -> str:
    """The embed of a scene (by its written-out query, so a race is run once for a class opening the same slide).

    About 150–250 kB each, mostly contours, whatever the race's length: a race of STREAM_ABOVE racer-steps
    or more is streamed, not inlined. The race and its contours take 0.1–0.3 s to compute, the cached page nothing.
    """
    scene = scene_from_query(canonical)
    payload = embed_payload(scene, with_race=not streams(scene))
    return render_page(
        title=payload["landscape"]["title"],
        theme=theme,
        data=json_block(payload),
        page_href=f"/?{payload['query']}",
        modules=modules(),
        qr=qr,
        vectors=vectors,
        view3d=view3d,
    )
