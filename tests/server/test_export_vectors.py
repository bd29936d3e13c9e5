"""Vectors in the PNG and SVG exports (vectors=1, step=k): the page's arrows and boxes, from the API's internals."""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

SVG = "{http://www.w3.org/2000/svg}"
SCENE = (
    "landscape=bowl&landscape.condition=10&landscape.angle=30&start=-4,1.5&steps=40&noise=0.3&seed=2"
    "&racer=sgd;lr=0.05&racer=momentum;lr=0.02&racer=adam;lr=0.1"
)
LABELS = ["SGD", "Momentum", "Adam"]


def internals(client: TestClient) -> list[dict]:
    reply = client.get(f"/api/race?{SCENE}&internals=1")
    assert reply.status_code == 200
    return reply.json()["racers"]


def arrow(shape: ET.Element) -> tuple[float, float, float, float]:
    """An arrow's start and tip in px: its shaft's move-to and its data-x1/y1."""
    x0, y0 = (float(v) for v in re.match(r"M(\S+) (\S+)L", shape.get("d", "")).groups())  # type: ignore[union-attr]
    return x0, y0, float(shape.get("data-x1", "nan")), float(shape.get("data-y1", "nan"))


def test_the_svg_draws_each_racers_vectors_at_the_step_from_the_internals(client: TestClient) -> None:
    reply = client.get(f"/export/race.svg?{SCENE}&vectors=1&step=7&width=1280&height=720")
    assert reply.status_code == 200
    root = ET.fromstring(reply.content)
    layer = root.find(f".//{SVG}g[@class='vectors']")
    assert layer is not None and layer.get("data-step") == "7"
    scale = {
        kind.get("data-kind"): float(kind.get("data-px", "nan")) / float(kind.get("data-units", "nan"))
        for kind in root.iter(f"{SVG}g")
        if kind.get("class") == "vectors-kind"
    }
    assert set(scale) == {"grad", "momentum", "update", "box"}  # the key says what each is, and its scale
    key = " ".join(t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "vectors-label")
    assert "−∇f (what it saw): " in key and "lr per coordinate: " in key and " px = " in key
    k = 7
    racers = internals(client)
    sgd_head = next(c for c in root.iter(f"{SVG}circle") if c.get("class") == "head")
    for label, racer in zip(LABELS, racers, strict=True):
        group = next(g for g in layer if g.get("data-label") == label)
        shapes = {s.get("class", "").split()[-1]: s for s in group if s.get("class", "").startswith("vector ")}
        inside, state = racer["internals"], racer["internals"]["state"]
        x0, y0, x1, y1 = arrow(shapes["grad"])
        g = inside["grad"][k]
        # −∇f, y up on the map: (−gx, +gy) in px at the key's scale (SVG numbers have one decimal)
        assert (x1 - x0, y1 - y0) == pytest.approx((-g[0] * scale["grad"], g[1] * scale["grad"]), abs=0.15)
        ux0, uy0, ux1, uy1 = arrow(shapes["update"])
        u = inside["update"][k]
        assert (ux0, uy0) == (x0, y0)
        assert (ux1 - ux0, uy1 - uy0) == pytest.approx((u[0] * scale["update"], -u[1] * scale["update"]), abs=0.15)
        if label == "SGD":  # every arrow starts at the racer's point at step k
            assert (x0, y0) == pytest.approx((float(sgd_head.get("cx")), float(sgd_head.get("cy"))), abs=0.06)
            assert "momentum" not in shapes and "box" not in shapes
        if label == "Momentum":
            mx0, my0, mx1, my1 = arrow(shapes["momentum"])
            b = state["momentum_buffer"][k]
            expected = np.array([-b[0] * scale["momentum"], b[1] * scale["momentum"]])
            length = np.hypot(*expected)
            cap = 3 * float(next(g for g in root.iter(f"{SVG}g") if g.get("data-kind") == "momentum").get("data-px"))
            expected = expected * min(1.0, cap / length)  # a long arrow is cut at 3 L, as on the page
            assert (mx1 - mx0, my1 - my0) == pytest.approx(tuple(expected), abs=0.15)
            assert "box" not in shapes
        if label == "Adam":
            m = state["exp_avg"][k]
            mx0, my0, mx1, my1 = arrow(shapes["momentum"])
            assert (mx1 - mx0, my1 - my0) == pytest.approx(
                (-m[0] * scale["momentum"], m[1] * scale["momentum"]), abs=0.15
            )
            t, lr = state["step"][k], racer["lr"][k]
            box = [lr / (math.sqrt(v / (1 - 0.999**t)) + 1e-8) for v in state["exp_avg_sq"][k]]
            rect = shapes["box"]
            width, height = float(rect.get("width")), float(rect.get("height"))
            assert (width / 2, height / 2) == pytest.approx((box[0] * scale["box"], box[1] * scale["box"]), abs=0.1)
            # the box is centred on the racer's point, where its arrows start
            assert float(rect.get("x")) + width / 2 == pytest.approx(x0, abs=0.1)
            assert float(rect.get("y")) + height / 2 == pytest.approx(y0, abs=0.1)
    # the paths stop at the step, and the title row says which
    steps_text = next(t for t in root.iter(f"{SVG}text") if t.get("class") == "steps")
    assert steps_text.text == "step 7 / 40"


def test_without_vectors_there_are_none_and_by_default_the_last_update_is_shown(client: TestClient) -> None:
    plain = ET.fromstring(client.get(f"/export/race.svg?{SCENE}").content)
    assert plain.find(f".//{SVG}g[@class='vectors']") is None
    layer = ET.fromstring(client.get(f"/export/race.svg?{SCENE}&vectors=1").content).find(
        f".//{SVG}g[@class='vectors']"
    )
    assert layer is not None and layer.get("data-step") == "39"  # the last step an update leaves
    assert len(layer) == 3


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_step_past_the_race_is_refused_naming_the_key(client: TestClient, fmt: str) -> None:
    reply = client.get(f"/export/race.{fmt}?{SCENE}&step=41")
    assert reply.status_code == 422
    assert "step" in reply.json()["error"] and "[0, 40]" in reply.json()["error"]
    assert client.get(f"/export/race.{fmt}?{SCENE}&vectors=2").status_code == 422


def test_the_png_draws_the_vectors_and_their_key(client: TestClient) -> None:
    size = (800, 600)
    plain = client.get(f"/export/race.png?{SCENE}&step=7&width={size[0]}&height={size[1]}")
    drawn = client.get(f"/export/race.png?{SCENE}&step=7&vectors=1&width={size[0]}&height={size[1]}")
    assert plain.status_code == drawn.status_code == 200
    a = np.asarray(Image.open(io.BytesIO(plain.content)).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(drawn.content)).convert("RGB"), dtype=int)
    assert b.shape == (size[1], size[0], 3)
    changed = np.abs(a - b).sum(axis=2) > 60
    assert changed.sum() > 2000  # arrows, boxes and the key's box of text
    # Adam's colour (the scene's third racer) is drawn where it was not: its arrows and its box
    adam = np.array([0xE6, 0xA1, 0x00])
    near = np.abs(b - adam).sum(axis=2) < 60
    assert (near & changed).sum() > 50


def test_the_command_line_exports_a_step_with_vectors_and_refuses_one_past_the_race(tmp_path) -> None:
    from server.cli import main

    out = tmp_path / "race.svg"
    assert main(["export", f"?{SCENE}", "--step", "7", "--vectors", "1", "-o", str(out)]) == 0
    layer = ET.fromstring(out.read_bytes()).find(f".//{SVG}g[@class='vectors']")
    assert layer is not None and layer.get("data-step") == "7" and len(layer) == 3
    assert main(["export", f"?{SCENE}", "--step", "41", "-o", str(tmp_path / "past.svg")]) != 0
    assert not (tmp_path / "past.svg").exists()
