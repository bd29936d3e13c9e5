"""Exports: GET /export/race.gif, race.png and race.svg from the page's scene query string."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from core.landscape_notes import SADDLES
from core.landscapes import LANDSCAPES
from core.palette import STYLES
from core.presets import get_preset
from core.race import run
from core.scene_url import scene_from_query
from server.render import FORMATS, formats, raster
from server.render.raster import encode_gif

IMAGE_FORMATS = [name for name, fmt in FORMATS.items() if fmt.media_type.startswith("image/")]
SVG = "{http://www.w3.org/2000/svg}"
# A small, quick race: three racers, 60 steps, one of them with a label that needs escaping.
SCENE = "landscape=saddle&steps=60&racer=sgd;lr=0.1&racer=momentum;lr=0.05&racer=adam;lr=0.05;label=A%26B%20%3Cfast%3E"
LABELS = ["SGD", "Momentum", "A&B <fast>"]


def frames_of(body: bytes) -> list[int]:
    """Each frame's duration in ms."""
    image = Image.open(io.BytesIO(body))
    durations = []
    for index in range(image.n_frames):
        image.seek(index)
        durations.append(image.info["duration"])
    return durations


def test_gif_has_the_frames_size_and_final_pause_asked(client: TestClient) -> None:
    reply = client.get(f"/export/race.gif?{SCENE}&width=320&height=240&frames=12&fps=10")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/gif"
    image = Image.open(io.BytesIO(reply.content))
    assert image.size == (320, 240)
    durations = frames_of(reply.content)
    assert len(durations) == 12
    assert durations[:-1] == [100] * 11
    assert durations[-1] > 1000


def test_gif_has_at_most_one_frame_per_step(client: TestClient) -> None:
    reply = client.get("/export/race.gif?landscape=bowl&steps=5&racer=sgd;lr=0.1&width=200&height=160&frames=50")
    assert reply.status_code == 200
    assert len(frames_of(reply.content)) == 6  # steps 0..5


def test_gif_defaults_are_800_by_600_with_120_frames(client: TestClient) -> None:
    reply = client.get("/export/race.gif?landscape=bowl&steps=200&racer=sgd;lr=0.05&racer=adam;lr=0.1")
    assert reply.status_code == 200
    assert Image.open(io.BytesIO(reply.content)).size == (800, 600)
    assert len(frames_of(reply.content)) == 120
    assert len(reply.content) < 600_000


def test_gif_encoder_round_trips_frames_and_merges_repeats() -> None:
    """Delta frames (changed rectangle, unchanged pixels transparent) decode to exactly the frames given."""
    rng = np.random.default_rng(0)
    palette = [channel for index in range(6) for channel in (40 * index, 255 - 40 * index, 7 * index)]
    frames = [rng.integers(0, 6, size=(30, 40), dtype=np.uint8)]
    for _ in range(4):
        frame = frames[-1].copy()
        frame[5:9, 10:25] = rng.integers(0, 6, size=(4, 15))
        frames.append(frame)
    frames.insert(3, frames[2].copy())  # a repeat: lengthens frame 2
    body = encode_gif(((frame, 40) for frame in frames), palette, (40, 30))
    image = Image.open(io.BytesIO(body))
    assert image.n_frames == 5
    assert frames_of(body) == [40, 40, 80, 40, 40]
    colors = np.array(palette, dtype=np.uint8).reshape(-1, 3)
    for index, frame in enumerate(frames[:3] + frames[4:]):
        image.seek(index)
        assert np.array_equal(np.asarray(image.convert("RGB")), colors[frame])


def test_png_is_exactly_the_size_asked(client: TestClient) -> None:
    reply = client.get(f"/export/race.png?{SCENE}&width=500&height=300")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(reply.content)).size == (500, 300)


def test_png_scale_2_doubles_the_pixels(client: TestClient) -> None:
    reply = client.get(f"/export/race.png?{SCENE}&width=400&height=300&scale=2&theme=dark")
    assert reply.status_code == 200
    assert Image.open(io.BytesIO(reply.content)).size == (800, 600)


def test_svg_is_xml_with_one_path_per_racer_and_the_legend(client: TestClient) -> None:
    reply = client.get(f"/export/race.svg?{SCENE}&width=640&height=480")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("image/svg+xml")
    assert reply.headers["content-security-policy"] == "default-src 'none'"
    root = ET.fromstring(reply.content)
    assert (root.get("width"), root.get("height")) == ("640", "480")
    racers = root.findall(f".//{SVG}path[@class='racer']")
    assert [path.get("data-label") for path in racers] == LABELS
    texts = [text.text for text in root.iter(f"{SVG}text")]
    for label in LABELS:
        assert label in texts


def test_svg_legend_says_how_each_racer_ended(client: TestClient) -> None:
    query = "landscape=rosenbrock&steps=100&racer=sgd;lr=0.01;label=Wild&racer=adam;lr=0.1"
    result = run(scene_from_query(query))
    wild = result["racers"][0]
    assert wild["status"] == "diverged"
    root = ET.fromstring(client.get(f"/export/race.svg?{query}").content)
    status = [path.get("data-status") for path in root.findall(f".//{SVG}path[@class='racer']")]
    assert status[0] == f"diverged @ {wild['diverged_at']}"
    assert any(f"diverged @ {wild['diverged_at']}" in (text.text or "") for text in root.iter(f"{SVG}text"))


def test_svg_legend_says_a_racer_left_the_minimum_and_names_the_schedule(client: TestClient) -> None:
    """Schedules' story: constant lr reaches Beale's minimum and leaves it (the page's leaderboard: "✓ 223, left
    335"); the legend says so, as the page does, and names a schedule as the page's picker does."""
    query = get_preset("schedules").query
    root = ET.fromstring(client.get(f"/export/race.svg?{query}").content)
    status = {path.get("data-label"): path.get("data-status") for path in root.findall(f".//{SVG}path[@class='racer']")}
    assert re.fullmatch(r"arrived @ \d+, left @ \d+", status["constant"]), status
    assert all(re.fullmatch(r"arrived @ \d+", status[label]) for label in ("cosine", "step decay")), status
    texts = " ".join(text.text or "" for text in root.iter(f"{SVG}text"))
    assert "lr 0.1 · warm-up + cosine" in texts and "warmup_cosine" not in texts


@pytest.mark.parametrize("name", list(LANDSCAPES))
def test_every_landscape_exports_as_svg_and_png(client: TestClient, name: str) -> None:
    svg = client.get(f"/export/race.svg?landscape={name}&steps=40&width=320&height=240")
    assert svg.status_code == 200
    assert len(ET.fromstring(svg.content).findall(f".//{SVG}path[@class='racer']")) == 4
    png = client.get(f"/export/race.png?landscape={name}&steps=40&width=320&height=240&theme=dark")
    assert png.status_code == 200
    assert Image.open(io.BytesIO(png.content)).size == (320, 240)


def test_sixteen_racers_on_the_smallest_canvas(client: TestClient) -> None:
    racers = "&".join(f"racer=sgd;lr={0.001 * (i + 1)}" for i in range(16))
    for fmt in ("png", "svg"):
        reply = client.get(f"/export/race.{fmt}?landscape=bowl&steps=20&{racers}&width=160&height=160")
        assert reply.status_code == 200
    reply = client.get(f"/export/race.gif?landscape=bowl&steps=20&{racers}&width=160&height=160&frames=2")
    assert reply.status_code == 200
    assert len(frames_of(reply.content)) == 2


def test_exports_are_cacheable_and_named(client: TestClient) -> None:
    reply = client.get(f"/export/race.png?{SCENE}&width=320&height=240")
    assert reply.headers["cache-control"].startswith("public, max-age=")
    assert reply.headers["content-disposition"] == 'inline; filename="optirace-saddle.png"'
    etag = reply.headers["etag"]
    again = client.get(f"/export/race.png?{SCENE}&width=320&height=240", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_the_etag_follows_the_scene_and_options_not_their_spelling(client: TestClient) -> None:
    def etag(query: str) -> str:
        return client.get(f"/export/race.svg?{query}").headers["etag"]

    base = etag("landscape=bowl&steps=30&racer=adam;lr=0.1&width=320&height=240")
    assert etag("width=320&racer=adam;lr=0.1;beta1=0.9&height=240&steps=30&landscape=bowl") == base
    assert etag("landscape=bowl&steps=30&racer=adam;lr=0.1&width=320&height=240&theme=dark") != base
    assert etag("landscape=bowl&steps=31&racer=adam;lr=0.1&width=320&height=240") != base


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_rendering_is_deterministic(fmt: str) -> None:
    """The ETag promises the same bytes for the same request."""
    scene = scene_from_query(SCENE)
    options = FORMATS[fmt].parse_options({"width": 320, "height": 240, **({"frames": 6} if fmt == "gif" else {})})
    assert FORMATS[fmt].render(scene, options) == FORMATS[fmt].render(scene, options)


def test_raster_exports_work_without_any_truetype_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without fonts installed falls back on Pillow's built-in font (formulas in plain text)."""
    monkeypatch.setattr(raster, "_FONT_FILES", {False: ("no-such-font.ttf",), True: ("no-such-font-bold.ttf",)})
    raster.font.cache_clear()
    try:
        assert raster.font_identity() == "built-in"
        scene = scene_from_query(SCENE)
        png = FORMATS["png"].render(scene, FORMATS["png"].parse_options({"width": 320, "height": 240}))
        assert Image.open(io.BytesIO(png)).size == (320, 240)
        gif = FORMATS["gif"].render(scene, FORMATS["gif"].parse_options({"width": 320, "height": 240, "frames": 3}))
        assert len(frames_of(gif)) == 3
    finally:
        monkeypatch.undo()
        raster.font.cache_clear()


@pytest.mark.parametrize(
    ("path", "loc", "allowed"),
    [
        ("race.gif?width=5000", ["query", "width"], "[160, 1920]"),
        ("race.png?height=10", ["query", "height"], "[160, 1920]"),
        ("race.gif?frames=1", ["query", "frames"], "[2, 300]"),
        ("race.gif?fps=0", ["query", "fps"], "[1, 50]"),
        ("race.gif?fps=ten", ["query", "fps"], "[1, 50]"),
        ("race.svg?theme=blue", ["query", "theme"], "light, dark"),
        ("race.png?scale=3", ["query", "scale"], "[1, 2]"),
        ("race.png?frames=30", ["query", "frames"], "width, height, theme, scale"),
        ("race.gif?scale=2", ["query", "scale"], "width, height, frames, fps, theme"),
        ("race.gif?colour=red", ["query", "colour"], "landscape, start, steps"),
        ("race.gif?width=800&width=900", ["query", "width"], "once"),
        ("race.gif?width=1600&height=1600&frames=300", ["query", "frames"], "at most 30 frames"),
        ("race.png?width=1600&height=1200&scale=2", ["query", "scale"], "use scale=1"),
        ("race.gif?landscape=nope", ["query", "landscape"], "rosenbrock"),
        ("race.svg?steps=abc", ["query", "steps"], "integer"),
        ("race.svg?steps=0", ["query", "steps"], "greater than or equal to 1"),
        ("race.png?racer=adam;lr=-1", ["query", "racers", 0], "[0, inf)"),
        ("race.png?landscape=bowl&start=99,0", ["query"], "domain"),
    ],
)
def test_bad_requests_name_the_field_and_what_is_allowed(
    client: TestClient, path: str, loc: list[str | int], allowed: str
) -> None:
    reply = client.get(f"/export/{path}")
    assert reply.status_code == 422
    body = reply.json()
    assert allowed in body["error"]
    assert any(problem["loc"] == loc for problem in body["detail"]), body["detail"]


def test_every_bad_option_is_reported_at_once(client: TestClient) -> None:
    body = client.get("/export/race.gif?width=100&theme=blue").json()
    assert [problem["loc"] for problem in body["detail"]] == [["query", "width"], ["query", "theme"]]


@pytest.mark.parametrize("order", [("adam", "sgd", "rmsprop"), ("sgd", "rmsprop", "momentum", "adam")])
def test_every_export_gives_each_optimizer_its_own_marker_whatever_its_slot(order: tuple[str, ...]) -> None:
    scene = scene_from_query("landscape=bowl&steps=20&" + "&".join(f"racer={name}" for name in order))
    figure = formats.figure_of(scene)
    assert [racer.marker for racer in figure.racers] == [STYLES[name].marker for name in order]


def test_svg_marks_the_saddle_points_and_not_on_a_regularized_surface(client: TestClient) -> None:
    plain = client.get("/export/race.svg?landscape=himmelblau&steps=20&racer=adam;lr=0.1")
    assert plain.status_code == 200
    saddles = [path for path in ET.fromstring(plain.content).iter() if path.get("class") == "saddle"]
    assert len(saddles) == len(SADDLES["himmelblau"])
    regularized = client.get("/export/race.svg?landscape=himmelblau&steps=20&l2=0.5&racer=adam;lr=0.1")
    assert 'class="saddle"' not in regularized.text
