"""Inside a step, in a real Chromium: the ghost of the previous run, vectors on the map, the step
inspector and the 3D view, each checked against the API's step internals."""

from __future__ import annotations

import json
import math
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect

SHORT = "landscape=bowl&landscape.condition=10&steps=60&racer=sgd;lr=1&racer=rmsprop;lr=0.1"

# non-transparent pixels of a canvas layer (alpha > 0)
INKED = """(selector) => {
  const canvas = document.querySelector(selector);
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
  return n;
}"""


def open_scene(page: Page, query: str = SHORT) -> None:
    page.goto(f"/?{query}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))


def races_drawn(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.races || 0)"))


def test_a_slider_change_leaves_the_previous_run_as_a_ghost_until_a_landscape_change(page: Page) -> None:
    open_scene(page)
    plot = page.locator(".plot")
    expect(plot).to_have_attribute("data-ghost", "0")
    assert page.evaluate(INKED, ".layer-ghost") == 0
    before = races_drawn(page)
    lr = page.locator(".racer").first.locator("[data-param=lr] input[type=range]")
    lr.focus()
    page.keyboard.press("PageDown")  # a discrete change from the controls
    page.wait_for_function("n => Number(document.body.dataset.races) > n", arg=before)
    expect(plot).to_have_attribute("data-ghost", "2")  # both racers' previous paths
    assert page.evaluate(INKED, ".layer-ghost") > 200
    # another landscape is not a before/after comparison: the ghost goes
    before = races_drawn(page)
    page.locator("#landscape").select_option("rosenbrock")
    page.wait_for_function("n => Number(document.body.dataset.races) > n", arg=before)
    expect(plot).to_have_attribute("data-ghost", "0")
    assert page.evaluate(INKED, ".layer-ghost") == 0


VECTORS = (
    "landscape=bowl&landscape.condition=10&landscape.angle=30&start=-4,1.5&steps=40&noise=0.3&seed=2"
    "&racer=sgd;lr=0.05&racer=momentum;lr=0.02&racer=adam;lr=0.1"
)


def scene_json(base_url: str, query: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/api/race?{query}&internals=1") as reply:
        return json.loads(reply.read())


def drawn_vectors(page: Page) -> list[dict]:
    return json.loads(page.locator(".vectors-legend").get_attribute("data-vectors") or "[]")


def test_vectors_show_each_racers_gradient_momentum_step_and_boxes_from_the_internals(
    page: Page, base_url: str
) -> None:
    page.goto(f"/?{VECTORS}&vectors=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".player")).to_have_attribute("data-step", "7")
    legend = page.locator(".vectors-legend")
    expect(legend).to_have_attribute("data-step", "7")
    page.wait_for_function("() => JSON.parse(document.querySelector('.vectors-legend').dataset.vectors).length === 3")
    result = scene_json(base_url, VECTORS)
    shown = {v["racer"]: v for v in drawn_vectors(page)}
    k = 7
    for r, racer in enumerate(result["racers"]):
        inside, drawn = racer["internals"], shown[r]
        assert drawn["step"] == k
        assert drawn["at"] == pytest.approx(racer["path"][k], rel=1e-12)
        assert drawn["grad"] == pytest.approx([-g for g in inside["grad"][k]], rel=1e-12)
        assert drawn["update"] == pytest.approx(inside["update"][k], rel=1e-12)
        state = inside["state"]
        if racer["optimizer"] == "sgd":
            assert "momentum" not in drawn and "box" not in drawn
        if racer["optimizer"] == "momentum":
            assert drawn["momentum"] == pytest.approx([-b for b in state["momentum_buffer"][k]], rel=1e-12)
            assert "box" not in drawn
        if racer["optimizer"] == "adam":
            assert drawn["momentum"] == pytest.approx([-m for m in state["exp_avg"][k]], rel=1e-12)
            t, lr = state["step"][k], racer["lr"][k]
            beta2, eps = 0.999, 1e-8
            box = [lr / (math.sqrt(v / (1 - beta2**t)) + eps) for v in state["exp_avg_sq"][k]]
            assert drawn["box"] == pytest.approx(box, rel=1e-9)
            assert min(drawn["boxPx"]) > 1
    # the arrows and boxes are on the race layer: switching them off takes pixels away
    with_vectors = page.evaluate(INKED, ".layer-race")
    page.locator("#vectors").click()
    expect(page.locator(".vectors-legend")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"vectors=1"))
    assert page.evaluate(INKED, ".layer-race") < with_vectors - 100


def test_vectors_load_only_when_switched_on(page: Page) -> None:
    open_scene(page)
    loaded = "() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/static/vectors.js'))"
    assert not page.evaluate(loaded)
    page.locator("#vectors").click()
    expect(page.locator(".vectors-legend")).to_be_visible()
    expect(page).to_have_url(re.compile(r"vectors=1"))
    assert page.evaluate(loaded)


def test_the_embed_draws_vectors_by_url_option(page: Page, base_url: str) -> None:
    page.goto(f"/embed?{VECTORS}&vectors=1")
    expect(page.locator(".vectors-legend")).to_be_visible()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => { const l = document.querySelector('.vectors-legend');"
        " return l.dataset.step === '2' && JSON.parse(l.dataset.vectors || '[]').length === 3; }"
    )
    result = scene_json(base_url, VECTORS)
    for drawn in drawn_vectors(page):
        racer = result["racers"][drawn["racer"]]
        assert drawn["update"] == pytest.approx(racer["internals"]["update"][2], rel=1e-12)
    assert page.evaluate(INKED, ".layer-race") > 0


def test_the_inspector_shows_the_rule_and_the_internals_of_the_chosen_step(page: Page, base_url: str) -> None:
    page.goto(f"/?{VECTORS}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.locator("#inspect").click()
    panel = page.locator("#inspector")
    expect(panel).to_be_visible()
    panel.locator("select").select_option(label="Adam")
    page.keyboard.press("Home")
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")  # ← moves one step back: step 11
    expect(page.locator(".player")).to_have_attribute("data-step", "11")
    page.wait_for_function(
        "() => { const v = document.querySelector('#inspector').dataset.values;"
        " return v && JSON.parse(v).step === 11 && JSON.parse(v).racer === 2; }"
    )
    values = json.loads(panel.get_attribute("data-values") or "{}")
    racer = scene_json(base_url, VECTORS)["racers"][2]
    inside, k = racer["internals"], 11
    assert values["t"] == inside["state"]["step"][k] == 12
    assert values["lr"] == pytest.approx(racer["lr"][k], rel=1e-15)
    assert values["theta"] == pytest.approx(racer["path"][k], rel=1e-15)
    assert values["theta_next"] == pytest.approx(racer["path"][k + 1], rel=1e-15)
    assert values["g"] == pytest.approx(inside["grad"][k], rel=1e-15)
    assert values["update"] == pytest.approx(inside["update"][k], rel=1e-15)
    assert values["state"]["exp_avg"] == pytest.approx(inside["state"]["exp_avg"][k], rel=1e-15)
    assert values["state"]["exp_avg_sq"] == pytest.approx(inside["state"]["exp_avg_sq"][k], rel=1e-15)
    m, v, t = inside["state"]["exp_avg"][k], inside["state"]["exp_avg_sq"][k], 12
    derived = dict((label.split(" ")[0], xy) for label, xy in values["derived"])
    assert derived["m̂"] == pytest.approx([c / (1 - 0.9**t) for c in m], rel=1e-12)
    assert derived["v̂"] == pytest.approx([c / (1 - 0.999**t) for c in v], rel=1e-12)
    assert derived["denominator"] == pytest.approx([math.sqrt(c / (1 - 0.999**t)) + 1e-8 for c in v], rel=1e-12)
    # the rule is the docstring's, and the table shows the same numbers, rounded to six digits
    expect(panel.locator(".inspector-rule")).to_contain_text("θ ← θ − lr/(1 − beta1ᵗ) · m / (√v / √(1 − beta2ᵗ) + eps)")
    g_row = panel.locator(".inspector-numbers tr", has=page.locator("th", has_text=re.compile("^g$")))
    expect(g_row.locator("[data-c=x]")).to_have_text(f"{inside['grad'][k][0]:.6g}".replace("-", "−"))
    # another racer: momentum's buffer, at the same step
    panel.locator("select").select_option(label="Momentum")
    page.wait_for_function("() => JSON.parse(document.querySelector('#inspector').dataset.values || '{}').racer === 1")
    values = json.loads(panel.get_attribute("data-values") or "{}")
    momentum = scene_json(base_url, VECTORS)["racers"][1]["internals"]
    assert values["state"]["momentum_buffer"] == pytest.approx(momentum["state"]["momentum_buffer"][k], rel=1e-15)


# pixels of the WebGL canvas that differ from its top-left corner (the background)
PAINTED = """async (selector) => {
  const source = document.querySelector(selector);
  const image = new Image();
  image.src = source.toDataURL();
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (Math.abs(data[i] - data[0]) + Math.abs(data[i + 1] - data[1]) + Math.abs(data[i + 2] - data[2]) > 30) n++;
  }
  return n;
}"""

ROSENBROCK = (
    "landscape=rosenbrock&start=-1.5,2&steps=300&racer=sgd;lr=0.0015&racer=momentum;lr=0.0015"
    "&racer=rmsprop;lr=0.003&racer=adam;lr=0.05"
)


def test_the_3d_view_loads_when_opened_draws_follows_the_player_and_orbits(page: Page) -> None:
    page.goto(f"/?{ROSENBROCK}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    three = "() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/vendor/three-')).length"
    assert page.evaluate(three) == 0  # the first load does not pay for it
    page.locator("#view3d").click()
    view = page.locator(".view3d")
    expect(view).to_have_attribute("data-step", re.compile(r"^\d+$"))
    expect(page).to_have_url(re.compile(r"view=3d"))
    assert page.evaluate(three) == 2  # three.js and its OrbitControls
    assert page.evaluate(PAINTED, ".view3d-canvas") > 5000  # the surface is drawn
    # it follows the player's step
    page.keyboard.press("Home")
    expect(view).to_have_attribute("data-step", "0")
    at_start = page.evaluate("() => document.querySelector('.view3d-canvas').toDataURL()")
    page.keyboard.press("End")
    expect(view).to_have_attribute("data-step", "300")
    page.wait_for_function(
        "p => document.querySelector('.view3d-canvas').toDataURL() !== p", arg=at_start
    )  # the paths and balls moved
    # a drag turns the camera, and does not move the race's start
    camera = view.get_attribute("data-camera")
    url = page.url
    box = page.locator(".view3d-canvas").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    for dx in (20, 60, 120):
        page.mouse.move(box["x"] + box["width"] * 0.5 + dx, box["y"] + box["height"] * 0.5 + dx / 4)
    page.mouse.up()
    expect(view).not_to_have_attribute("data-camera", camera or "")
    assert page.url == url
    page.get_by_role("button", name="Reset view").click()
    expect(view).to_have_attribute("data-camera", camera or "")
    # closing it shows the map again
    page.locator("#view3d").click()
    expect(page.locator(".view3d")).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"view=3d"))


def test_the_3d_view_opens_from_the_address_and_in_the_embed(page: Page) -> None:
    page.goto(f"/embed?{ROSENBROCK}&view=3d")
    view = page.locator(".view3d")
    expect(view).to_have_attribute("data-step", re.compile(r"^\d+$"))
    assert page.evaluate(PAINTED, ".view3d-canvas") > 5000
    page.keyboard.press("End")
    expect(view).to_have_attribute("data-step", "300")
    page.goto(f"/?{ROSENBROCK}&view=3d")
    expect(page.locator(".view3d")).to_have_attribute("data-step", re.compile(r"^\d+$"))
    expect(page.locator("#view3d")).to_have_attribute("aria-pressed", "true")
