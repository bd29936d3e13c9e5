"""Inside a step, in a real Chromium: the ghost of the previous run, vectors on the map, the step
inspector and the 3D view, each checked against the API's step internals."""

from __future__ import annotations

import itertools
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


def test_the_export_of_the_step_with_vectors_draws_what_the_page_draws(page: Page, base_url: str) -> None:
    page.goto(f"/?{VECTORS}&vectors=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => { const l = document.querySelector('.vectors-legend');"
        " return l && l.dataset.step === '7' && JSON.parse(l.dataset.vectors || '[]').length === 3; }"
    )
    shown = {v["racer"]: v for v in drawn_vectors(page)}
    page_key = page.locator(".vectors-key").inner_text()
    page.get_by_role("button", name="Export").click()
    dialog = page.locator("#export-dialog")
    dialog.get_by_label("SVG", exact=True).check()
    expect(page.locator("#export-at-step")).to_be_checked()
    expect(page.locator("#export-vectors")).to_be_checked()
    href = page.locator("#export-download").get_attribute("href") or ""
    assert "step=7" in href and "vectors=1" in href
    svg = page.request.get(href).text()
    # the same scales as the page's key (its lengths in px differ with the picture's size)
    units = dict(re.findall(r'data-kind="(\w+)" data-px="[\d.]+" data-units="([^"]+)"', svg))
    assert set(units) == {"grad", "momentum", "update", "box"}
    for kind, label in (("grad", "what it saw"), ("update", "step taken"), ("box", "lr per coordinate")):
        number = re.search(rf"{label}\)?: \d+ px = ([^\s]+)", page_key)
        assert number and float(number.group(1).replace("−", "-")) == pytest.approx(float(units[kind]))
    # each racer's arrows, the page's vectors at the same step
    px = dict(re.findall(r'data-kind="(\w+)" data-px="([\d.]+)"', svg))
    for r, label in enumerate(["SGD", "Momentum", "Adam"]):
        group = svg.split(f'<g class="vector-racer" data-label="{label}">')[1].split("</g>")[0]
        x1, y1 = (
            float(v) for v in re.search(r'class="vector grad" data-x1="([^"]+)" data-y1="([^"]+)"', group).groups()
        )
        x0, y0 = (float(v) for v in re.search(r'class="vector grad"[^>]* d="M(\S+) (\S+)L', group).groups())
        f = float(px["grad"]) / float(units["grad"])
        assert (x1 - x0, y0 - y1) == pytest.approx((shown[r]["grad"][0] * f, shown[r]["grad"][1] * f), abs=0.15)
        assert ('class="vector box"' in group) == ("box" in shown[r])


def six(value: float) -> str:
    """A number as the inspector prints it: six significant digits, a real minus sign (e for ×10ⁿ)."""
    if value != 0 and (abs(value) < 1e-4 or abs(value) >= 1e6):
        mantissa, exponent = f"{value:.5e}".split("e")
        return f"{float(mantissa):g}e{int(exponent)}".replace("-", "−")
    return f"{value:.6g}".replace("-", "−")


def test_the_inspector_shows_each_line_of_the_rule_with_the_numbers_of_the_chosen_step(
    page: Page, base_url: str
) -> None:
    page.goto(f"/?{VECTORS}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.locator("#inspect").click()
    panel = page.locator("#inspector")
    expect(panel).to_be_visible()
    panel.locator("select").select_option(label="Adam")
    page.locator(".player canvas").last.focus()
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
    assert values["theta"] == racer["path"][k] and values["theta_next"] == racer["path"][k + 1]
    assert values["g"] == inside["grad"][k]
    # the docstring's lines, each followed by the same line with this step's numbers, x then y
    m_line = panel.locator(".inspector-line", has_text="m ← m + (1 − β1)·(g − m)")
    expect(m_line.locator(".inspector-rule-line")).to_contain_text("m ← m + (1 − β1)·(g − m)")
    m_before, m_after, g = inside["state"]["exp_avg"][k - 1], inside["state"]["exp_avg"][k], inside["grad"][k]
    for c, name in enumerate("xy"):
        row = m_line.locator(f".inspector-numbers[data-c={name}]")
        numbers = [float(n) for n in row.locator(".n").evaluate_all("(ns) => ns.map((n) => n.title)")]
        # m ← m_before + (1 − β1)·(g − m_before) = m_after: every number exactly the API's
        assert numbers == [m_before[c], 0.9, g[c], m_before[c], m_after[c]]
        expect(row.locator("output")).to_have_text(six(m_after[c]))
    theta_line = panel.locator(".inspector-line", has_text="θ ← θ − lr/(1 − β1t)")
    expect(theta_line.locator("[data-c=x] output")).to_have_text(six(racer["path"][k + 1][0]))
    expect(theta_line.locator("[data-c=y] output")).to_have_text(six(racer["path"][k + 1][1]))
    expect(theta_line.locator("[data-c=x]")).to_contain_text("0.912")  # β1 to the power t = 12, as a superscript
    # m̂, v̂, the denominator and the step, written out
    step_row = panel.locator(".inspector-line", has_text="step ← −lr·m̂").locator("[data-c=x] output .n")
    assert float(step_row.get_attribute("title") or "nan") == pytest.approx(inside["update"][k][0], rel=1e-12)
    # one coordinate at a time
    panel.get_by_label("y", exact=True).check()
    expect(m_line.locator("[data-c=x]")).to_be_hidden()
    expect(m_line.locator("[data-c=y]")).to_be_visible()
    # → moves one step on, and the numbers with it
    page.locator(".player canvas").last.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => JSON.parse(document.querySelector('#inspector').dataset.values).step === 12")
    expect(m_line.locator("[data-c=y] output")).to_have_text(six(inside["state"]["exp_avg"][12][1]))
    # scrubbing moves it too
    page.locator(".transport .scrubber").fill("20")
    page.wait_for_function("() => JSON.parse(document.querySelector('#inspector').dataset.values).step === 20")
    expect(m_line.locator("[data-c=y] output")).to_have_text(six(inside["state"]["exp_avg"][20][1]))
    page.locator(".transport .scrubber").fill("12")
    page.wait_for_function("() => JSON.parse(document.querySelector('#inspector').dataset.values).step === 12")
    # another racer: momentum's buffer, at the same step
    panel.locator("select").select_option(label="Momentum")
    page.wait_for_function("() => JSON.parse(document.querySelector('#inspector').dataset.values || '{}').racer === 1")
    momentum = scene_json(base_url, VECTORS)["racers"][1]["internals"]["state"]["momentum_buffer"]
    b_line = panel.locator(".inspector-line", has_text="b ← momentum·b + (1 − dampening)·g")
    expect(b_line.locator("[data-c=y] output")).to_have_text(six(momentum[12][1]))
    assert float(b_line.locator("[data-c=y] output .n").get_attribute("title") or "nan") == momentum[12][1]


# Every optimizer the API lists, at its defaults and in the variants whose rule takes other branches.
EVERY_RULE = "landscape=bowl&landscape.condition=10&landscape.angle=30&start=-4,1.5&steps=12&noise=0.3&seed=5"
VARIANTS = {
    "sgd": ["sgd;lr=0.05;weight_decay=0.1;momentum=0.5;dampening=0.2"],
    "rmsprop": ["rmsprop;lr=0.05;centered=true;momentum=0.5;weight_decay=0.1"],
    "adam": ["adam;lr=0.1;amsgrad=true;weight_decay=0.1"],
    "nadam": ["nadam;lr=0.1;decoupled_weight_decay=true;weight_decay=0.1"],
    "radam": ["radam;lr=0.1;weight_decay=0.1"],
    "asgd": ["asgd;lr=0.05;t0=3;lambd=0.01;weight_decay=0.1"],
    "adafactor": ["adafactor;lr=0.05;weight_decay=0.1"],
    "rprop": ["rprop;lr=0.5"],
    "lbfgs": ["lbfgs;lr=0.5;history_size=3", "lbfgs;lr=1;line_search_fn=strong_wolfe;max_eval=5"],
}


def test_the_inspector_works_every_rule_out_with_the_numbers_of_the_internals(page: Page, base_url: str) -> None:
    open_scene(page)
    with urllib.request.urlopen(f"{base_url}/api/optimizers") as reply:
        catalog = {o["name"]: o for o in json.loads(reply.read())["optimizers"]}
    racers = [name for name in catalog] + [v for name in catalog for v in VARIANTS.get(name, [])]
    for racer_query in racers:
        result = scene_json(base_url, f"{EVERY_RULE}&racer={racer_query}")
        racer, scene_racer = result["racers"][0], result["scene"]["racers"][0]
        info = catalog[racer["optimizer"]]
        inside = racer["internals"]
        for k in sorted({0, min(7, len(inside["grad"]) - 1)}):  # a racer may diverge before step 7
            explained = page.evaluate(
                """async ([name, catalog, racer, params, k]) => {
                  const m = await import('/static/inspector.js');
                  return m.explain(m.familyOf(name, catalog), catalog[name].rule, racer, params, k);
                }""",
                [racer["optimizer"], catalog, racer, {**scene_racer["params"], **info["fixed"]}, k],
            )
            where = f"{racer_query} at step {k}"
            assert explained["unmatched"] == [], f"{where}: lines the docstring no longer holds"
            assignments = [line for line in explained["lines"] if "←" in line["text"]]
            assert assignments and all(line["defined"] or line["rows"] for line in assignments), where
            checked = 0
            for line in explained["lines"] + explained["extra"]:
                for row in line["rows"]:
                    for coord in row["coords"]:
                        c = 0 if coord["c"] in (None, "x") else 1
                        source = coord["from"]
                        if source == "path":
                            assert coord["value"] == racer["path"][k + 1][c], f"{where}: {line['text']}"
                        elif source == "grad":
                            assert coord["value"] == inside["grad"][k][c], f"{where}: {line['text']}"
                        elif source:
                            kept = inside["state"][source][k]
                            assert coord["value"] == (kept[c] if isinstance(kept, list) else kept), where
                        # the line's own numbers give its result (the rule worked out here, as written)
                        assert coord["calc"] == pytest.approx(coord["value"], rel=1e-9, abs=1e-15), (
                            f"{where}: {line['text']}"
                        )
                        checked += 1
            assert checked >= 3, where


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


def test_presenter_mode_with_vectors_keeps_the_map_tall_and_their_key_beside_it(page: Page) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/?preset=rotated&vectors=1&present=1")
    expect(page.locator(".vectors-legend .vectors-key")).to_be_visible()
    page.wait_for_function("() => JSON.parse(document.querySelector('.vectors-legend').dataset.vectors || '[]').length")
    box = page.evaluate(
        """() => {
          const rect = (s) => document.querySelector(s).getBoundingClientRect().toJSON();
          return { plot: rect('.plot'), legend: rect('.vectors-legend'), loss: rect('#loss-chart'),
                   scrollH: document.documentElement.scrollHeight,
                   keyFont: parseFloat(getComputedStyle(document.querySelector('.vectors-key')).fontSize) };
        }"""
    )
    assert box["plot"]["height"] > 700, box  # the map keeps the screen's height
    assert box["legend"]["left"] >= box["plot"]["right"] and box["legend"]["bottom"] <= 1080, box
    assert box["scrollH"] <= 1080, box
    assert box["loss"]["height"] > 80, box  # the loss chart still reads
    assert box["keyFont"] >= 24, box  # the key reads from the back row


# The single letters of a typeset line: (letter, in italics as a variable?) in reading order.
TYPESET_LETTERS = """async ([rule, line]) => {
  const m = await import('/static/inspector.js');
  const box = document.createElement('div');
  box.innerHTML = m.typeset(line, m.ruleSymbols(rule));
  const letters = [];
  const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    if (node.parentElement.closest('sub, sup')) continue;
    for (const hit of node.data.matchAll(/(?<![\\p{L}\\p{N}_'’])[A-Za-zα-ωΑ-ΩθΔΠ](?![\\p{L}\\p{N}_'’])/gu)) {
      letters.push([hit[0], Boolean(node.parentElement.closest('var'))]);
    }
  }
  return letters;
}"""


def rule_of(base_url: str, name: str) -> str:
    with urllib.request.urlopen(f"{base_url}/api/optimizers") as reply:
        return next(o["rule"] for o in json.loads(reply.read())["optimizers"] if o["name"] == name)


def test_the_inspector_sets_a_rules_variables_in_italics_and_its_prose_upright(page: Page, base_url: str) -> None:
    open_scene(page)
    rprop, asgd, lbfgs = (rule_of(base_url, name) for name in ("rprop", "asgd", "lbfgs"))
    # prose: the article in Rprop's note and in L-BFGS's line search is a word, the rule's letters are variables
    line = "if η = etaminus:  g ← 0           (a sign flip: step back no further, forget this gradient)"
    assert page.evaluate(TYPESET_LETTERS, [rprop, line]) == [["η", True], ["g", True], ["a", False]]
    line = "if line_search_fn = strong_wolfe:  t ← a step along d meeting the strong Wolfe conditions"
    assert page.evaluate(TYPESET_LETTERS, [lbfgs, line]) == [["t", True], ["a", False], ["d", True]]
    # "update's" is one word, its s no variable (s is one of L-BFGS's)
    line = "else:  y ← g − prev_flat_grad;  s ← t·d       (the previous update's d and t)"
    assert page.evaluate(TYPESET_LETTERS, [lbfgs, line]) == [[c, True] for c in "ygstddt"]
    # math: ASGD's a is its running average, a variable wherever it stands
    line = "a ← a + μ·(θ − a)          (a ← θ while μ = 1)"
    assert page.evaluate(TYPESET_LETTERS, [asgd, line]) == [[c, True] for c in "aaμθaaθμ"]
    # every optimizer's lines: the only single letters set upright are those two articles
    with urllib.request.urlopen(f"{base_url}/api/optimizers") as reply:
        optimizers = json.loads(reply.read())["optimizers"]
    for optimizer in optimizers:
        upright = []
        for text in page.evaluate(
            "async (rule) => (await import('/static/inspector.js')).ruleLines(rule).map((l) => l.text)",
            optimizer["rule"],
        ):
            letters = page.evaluate(TYPESET_LETTERS, [optimizer["rule"], text])
            upright += [letter for letter, italic in letters if not italic]
        assert upright == (["a"] if optimizer["name"] in ("rprop", "lbfgs") else []), optimizer["name"]


# The 3D view's drawn surface (heightAt, a ray from above) and the true surface (the API's values through
# the map's value scale) over the given points, in the scale's units (0 at the grid's least value, 1 at its greatest).
HEIGHTS = """async (points) => {
  const view = document.querySelector('.view3d').view;
  const reply = await (await fetch('/api/landscapes/rosenbrock/evaluate', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ points }) })).json();
  return points.map(([x, y], k) => [view.heightAt(x, y), view.scale(reply.loss[k])]);
}"""


def test_the_3d_view_draws_rosenbrocks_valley_floor_smooth_and_the_paths_on_it(page: Page, base_url: str) -> None:
    page.goto(f"/?{ROSENBROCK}&view=3d")
    expect(page.locator(".view3d")).to_have_attribute("data-step", re.compile(r"^\d+$"))
    # along the floor y = x², from the start's side down to the minimum (1, 1): the drawn height is the true
    # one (no teeth of vertices beside the floor, no triangles bridging over it)
    floor = [[x, x * x] for x in (-1.5 + 2.5 * k / 500 for k in range(501))]
    heights = page.evaluate(HEIGHTS, floor)
    drawn = [d for d, _ in heights]
    assert all(d is not None for d in drawn)
    assert max(abs(d - true) for d, true in heights) < 0.02, max(abs(d - true) for d, true in heights)
    # as smooth as the truth: the drawn floor goes up and down no more than the true floor does
    rise = sum(abs(b - a) for a, b in itertools.pairwise(drawn))
    true_rise = sum(abs(b[1] - a[1]) for a, b in itertools.pairwise(heights))
    assert rise < true_rise * 1.25, (rise, true_rise)  # a regular mesh: several times as much
    # every racer's path lies on the drawn surface where its loss says (Adam's, down the valley)
    result = scene_json(base_url, ROSENBROCK)
    adam = result["racers"][3]
    points = adam["path"][::10]
    on = page.evaluate(HEIGHTS, points)
    assert max(abs(d - true) for d, true in on if d is not None) < 0.02


# a racer diverging out of Rosenbrock's domain within a few steps, in a colour nothing else on the canvas has
LEAVING = "landscape=rosenbrock&start=-1.5,2&steps=300&racer=sgd;lr=0.01;color=ff00ff&racer=adam;lr=0.05&view=3d"
MAGENTA_OUTSIDE = """() => {
  const view = document.querySelector('.view3d').view;
  const canvas = view.canvas;
  const copy = document.createElement('canvas');
  [copy.width, copy.height] = [canvas.width, canvas.height];
  const context = copy.getContext('2d');
  context.drawImage(canvas, 0, 0);
  const pixels = context.getImageData(0, 0, copy.width, copy.height).data;
  const box = view.wallsBox();
  const ratio = canvas.width / canvas.clientWidth;
  let inside = 0, outside = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
    if (!(r > 150 && b > 150 && g < 110)) continue;  // the racer's magenta, shaded or not
    const x = (i / 4) % copy.width / ratio, y = Math.floor(i / 4 / copy.width) / ratio;
    const near = x >= box.left - 4 && x <= box.right + 4 && y >= box.top - 4 && y <= box.bottom + 4;
    if (near) inside += 1; else outside += 1;
  }
  return { inside, outside };
}"""


def test_the_3d_view_cuts_a_path_that_leaves_the_domain_at_its_walls(page: Page, base_url: str) -> None:
    """SGD at lr 0.01 leaves Rosenbrock's domain at its fourth step and diverges: the map cuts its path at the plot's
    edge, and the 3D view cuts it at the domain's walls, instead of drawing it off across the room."""
    result = scene_json(base_url, LEAVING.removesuffix("&view=3d"))
    sgd = result["racers"][0]
    assert sgd["status"] == "diverged" and not (-2 <= sgd["path"][-1][0] <= 2)  # last drawn point outside
    page.goto(f"/?{LEAVING}")
    expect(page.locator(".view3d")).to_have_attribute("data-step", re.compile(r"^\d+$"))
    page.keyboard.press("End")
    expect(page.locator(".view3d")).to_have_attribute("data-step", "300")
    pixels = page.evaluate(MAGENTA_OUTSIDE)
    assert pixels["inside"] > 20, pixels  # the path is drawn, inside the domain
    assert pixels["outside"] == 0, pixels
