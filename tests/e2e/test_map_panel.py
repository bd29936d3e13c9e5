"""The hyperparameter map panel and the fair race in a real Chromium: loaded on demand, click a cell to race it."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

BOWL = "landscape=bowl&landscape.condition=100&steps=120&racer=sgd;lr=0.5&racer=momentum;lr=0.01;momentum=0.9"


def open_scene(page: Page, query: str = BOWL) -> None:
    page.goto(f"/?{query}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))


def open_map(page: Page) -> None:
    page.locator("#map-panel > summary").click()
    expect(page.locator(".map-canvas")).to_have_attribute("data-state", "ready", timeout=30_000)


def racer_params(page: Page, index: int) -> dict[str, str]:
    racers = [v for k, v in parse_qsl(urlsplit(page.url).query) if k == "racer"]
    return dict(part.split("=", 1) for part in racers[index].split(";")[1:])


def cell_centre(page: Page, i: int, j: int) -> tuple[float, float]:
    """Viewport coordinates of cell (column i, row j), row 0 at the bottom (the lowest y), scrolled into view."""
    page.locator(".map-canvas").scroll_into_view_if_needed()
    box = json.loads(page.locator(".map-canvas").get_attribute("data-box"))
    rect = page.locator(".map-canvas").bounding_box()
    x = rect["x"] + box["left"] + (i + 0.5) * box["width"] / box["nx"]
    y = rect["y"] + box["top"] + (box["ny"] - 1 - j + 0.5) * box["height"] / box["ny"]
    return x, y


def test_the_map_is_not_part_of_the_first_load(page: Page) -> None:
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    open_scene(page)
    assert not [url for url in loaded if "map-panel" in url or "/api/map" in url]
    open_map(page)
    assert any(url.endswith("/static/map-panel.js") for url in loaded)


def test_clicking_a_cell_sets_the_racer_and_moves_the_marker(page: Page) -> None:
    open_scene(page)
    open_map(page)
    page.locator("[data-role=racer]").select_option("1")  # Momentum: lr × momentum
    expect(page.locator("[data-role=y]")).to_have_value("momentum")
    expect(page.locator(".map-canvas")).to_have_attribute("data-state", "ready")
    page.locator("[data-role=count]").select_option("16")
    page.wait_for_function("() => document.querySelector('.map-canvas').dataset.box.includes('\"nx\":16')")
    expect(page.locator(".map-canvas")).to_have_attribute("data-state", "ready")
    marker_before = page.locator(".map-canvas").get_attribute("data-marker")
    races = int(page.evaluate("Number(document.body.dataset.races)"))
    map_reply = page.evaluate("""async () => {
        const body = {scene: {landscape: {name: "bowl", params: {condition: 100}}, steps: 120,
                              racers: [{optimizer: "momentum", params: {lr: 0.01, momentum: 0.9}}]},
                      x: {name: "lr", count: 16, scale: "log"},
                      y: {name: "momentum", count: 16, scale: "one_minus_log"}};
        return (await fetch("/api/map", {method: "POST", headers: {"Content-Type": "application/json"},
                                           body: JSON.stringify(body)})).json();
    }""")
    i, j = 11, 5
    page.mouse.click(*cell_centre(page, i, j))
    # the URL holds the cell's two values exactly, the race is run again, the other racer is untouched
    page.wait_for_function("n => Number(document.body.dataset.races) > n", arg=races)
    params = racer_params(page, 1)
    assert float(params["lr"]) == map_reply["x"]["values"][i]
    assert float(params["momentum"]) == map_reply["y"]["values"][j]
    assert racer_params(page, 0)["lr"] == "0.5"
    # the marker moved onto the clicked cell, without recomputing the map
    expect(page.locator(".map-canvas")).not_to_have_attribute("data-marker", marker_before)
    x, y = (float(v) for v in page.locator(".map-canvas").get_attribute("data-marker").split(","))
    rect = page.locator(".map-canvas").bounding_box()
    cx, cy = cell_centre(page, i, j)
    assert abs(rect["x"] + x - cx) < 1 and abs(rect["y"] + y - cy) < 1
    expect(page.locator(".map-canvas")).to_have_attribute("data-stage", "moved")
    expect(page.locator("[data-role=status]")).to_contain_text("16 × 16 full races")


def test_a_hovered_cell_is_described(page: Page) -> None:
    open_scene(page)
    open_map(page)
    page.locator("[data-role=count]").select_option("16")
    page.wait_for_function("() => document.querySelector('.map-canvas').dataset.box.includes('\"nx\":16')")
    page.mouse.move(*cell_centre(page, 15, 0))
    expect(page.locator("[data-role=tip]")).to_contain_text(
        re.compile(r"lr = \d.*momentum = 0: (diverged at step \d+|final gap)")
    )


def test_nesterov_cells_without_momentum_are_invalid_and_say_why(page: Page) -> None:
    open_scene(page, "landscape=bowl&steps=60&racer=nesterov;lr=0.01;momentum=0.9")
    open_map(page)
    page.locator("[data-role=y-scale]").select_option("linear")
    expect(page.locator("[data-role=key-invalid]")).to_be_visible()
    page.mouse.move(*cell_centre(page, 3, 0))
    expect(page.locator("[data-role=tip]")).to_contain_text("invalid (nesterov.momentum must be > 0")
    expect(page.locator("[data-role=status]")).to_contain_text("invalid: nesterov.momentum must be > 0")


def test_the_map_exports_as_svg_and_png(page: Page) -> None:
    open_scene(page)
    open_map(page)
    with page.expect_download() as svg:
        page.locator("[data-role=svg]").click()
    text = svg.value.path().read_text(encoding="utf-8")
    assert text.startswith("<svg") and "lr (log scale)" in text and "momentum (log scale of 1 − momentum)" in text
    assert 'fill="url(#diverged)"' in text  # SGD at lr > 2 on this bowl
    with page.expect_download() as png:
        page.locator("[data-role=png]").click()
    assert png.value.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.value.suggested_filename.endswith(".png")


@pytest.mark.parametrize("present", [False, True])
def test_every_decay_rate_axis_is_titled_the_same_way_on_the_page_and_in_the_export(page: Page, present: bool) -> None:
    """Adam's beta1 and Momentum's momentum are both decay rates on a log scale of 1 − value: their y axes say so in the
    same words, on the page and in presenter mode's short, wide map (the scale on a second line, never dropped), in
    the SVG export, and in the scale picker."""
    if present:
        page.set_viewport_size({"width": 1920, "height": 1080})
    query = "landscape=bowl&steps=60&racer=adam;lr=0.1&racer=momentum;lr=0.01;momentum=0.9"
    open_scene(page, query + ("&present=1" if present else ""))
    open_map(page)
    canvas = page.locator(".map-canvas")
    for racer, name in (("0", "beta1"), ("1", "momentum")):
        page.locator("[data-role=racer]").select_option(racer)
        expect(page.locator("[data-role=y]")).to_have_value(name)
        expect(canvas).to_have_attribute("data-state", "ready")
        title = f"{name} (log scale of 1 − {name})"
        expect(canvas).to_have_attribute("data-y-title", title)
        expect(canvas).to_have_attribute("data-x-title", "lr (log scale)")
        expect(canvas).to_have_attribute("aria-label", re.compile(re.escape(f"lr (log scale) × {title}")))
        expect(page.locator("[data-role=y-scale] option:checked")).to_have_text(f"log scale of 1 − {name}")
        with page.expect_download() as svg:
            page.locator("[data-role=svg]").dispatch_event("click")  # the export buttons are hidden in presenter mode
        text = svg.value.path().read_text(encoding="utf-8")
        assert f">{title}</text>" in text and ">lr (log scale)</text>" in text


def test_the_sweep_follows_the_maps_racer(page: Page) -> None:
    open_scene(page)
    page.locator("#sweep-panel > summary").click()
    expect(page.locator("#sweep-status")).to_contain_text("Final loss gap")
    before = page.evaluate("document.querySelector('#sweep-chart').toDataURL()")
    open_map(page)
    page.locator("[data-role=racer]").select_option("1")
    page.wait_for_function("before => document.querySelector('#sweep-chart').toDataURL() !== before", arg=before)


def test_tune_gives_every_racer_its_lr_and_shows_them(page: Page) -> None:
    open_scene(page, "landscape=beale&start=1,1.5&steps=500&racer=sgd;lr=0.001&racer=adam;lr=0.001")
    races = int(page.evaluate("Number(document.body.dataset.races)"))
    page.locator("#tune").click()
    expect(page.locator("#tune-card")).to_be_visible(timeout=30_000)
    page.wait_for_function("n => Number(document.body.dataset.races) > n", arg=races)
    expect(page.locator("#tune-card")).to_contain_text("earliest arrival")
    rows = page.locator("#tune-card tbody tr")
    expect(rows).to_have_count(2)
    tuned_lrs = [float(racer_params(page, k)["lr"]) for k in (0, 1)]
    assert tuned_lrs != [0.001, 0.001]
    for k, lr in enumerate(tuned_lrs):
        expect(rows.nth(k)).to_contain_text(re.compile(r"lr 0\.001 → " + re.escape(f"{lr:.4g}")))
    # moving away from the tuned scene hides the card
    page.go_back()
    expect(page.locator("#tune-card")).to_be_hidden()


def test_on_a_phone_a_tap_on_a_cell_races_it(phone: Page) -> None:
    open_scene(phone, "landscape=bowl&steps=60&racer=adam;lr=0.01")
    open_map(phone)
    phone.locator("[data-role=count]").select_option("16")
    phone.wait_for_function("() => document.querySelector('.map-canvas').dataset.box.includes('\"nx\":16')")
    canvas = phone.locator(".map-canvas").bounding_box()
    assert canvas["x"] >= 0 and canvas["x"] + canvas["width"] <= 390  # the map fits the phone's width
    before = phone.url
    phone.touchscreen.tap(*cell_centre(phone, 8, 8))
    expect(phone).not_to_have_url(before)
    params = racer_params(phone, 0)
    assert params["lr"] != "0.01" and params["beta1"] != "0.9"


def test_arrow_keys_walk_the_cells_and_enter_races_one(page: Page) -> None:
    open_scene(page, "landscape=bowl&steps=60&racer=adam;lr=0.01;beta1=0.9")
    open_map(page)
    player = page.locator("#player .player")
    page.keyboard.press("End")  # the race at its end: an arrow that reached the race would move it back
    expect(player).to_have_attribute("data-step", "60")
    page.locator(".map-canvas").focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    expect(page.locator("[data-role=tip]")).to_contain_text("lr = ")
    expect(player).to_have_attribute("data-step", "60")  # the arrows moved the map's cursor, not the race
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"racer=adam;lr=0\.01;beta1=0\.9;"))


def test_presenter_mode_shows_the_map_and_the_sweep_in_big_type(page: Page) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_scene(page, f"{BOWL}&present=1")
    expect(page.locator("body")).to_have_class(re.compile(r"\bpresent\b"))
    open_map(page)
    expect(page.locator("#sweep-panel")).to_be_visible()
    status_px = float(
        page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.map-status')).fontSize)")
    )
    assert status_px >= 24  # the projector's type, as the rest of presenter mode
    canvas = page.locator(".map-canvas").bounding_box()
    assert canvas["width"] >= 500 and canvas["x"] + canvas["width"] <= 1920
    assert canvas["height"] >= 300  # the map takes the column's height: the leaderboard and charts make room
    for part in (".map-canvas", ".map-legend", ".map-status", "#sweep-panel > summary"):  # one screen, no scrolling
        box = page.locator(part).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 1080, part
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    results = page.locator(".results")
    assert results.evaluate("(e) => e.scrollHeight - e.clientHeight") <= 1
    before = page.locator(".map-canvas").get_attribute("data-marker")
    page.mouse.click(*cell_centre(page, 2, 2))
    expect(page.locator(".map-canvas")).not_to_have_attribute("data-marker", before)


def test_the_map_of_a_typed_formula_races_a_clicked_cell(page: Page) -> None:
    formula = "(x - 1)^2 + 8*(y - 0.5*x)^2 + 0.3*sin(3*x)"
    open_scene(page, f"landscape=custom&landscape.f={quote(formula)}&steps=150&racer=adam;lr=0.1;beta1=0.9")
    open_map(page)
    expect(page.locator("[data-role=y]")).to_have_value("beta1")
    expect(page.locator("[data-role=status]")).to_contain_text("Adam on 32 × 32 full races of 150 steps")
    before = page.locator(".map-canvas").get_attribute("data-marker")
    page.mouse.click(*cell_centre(page, 20, 3))
    expect(page.locator(".map-canvas")).not_to_have_attribute("data-marker", before)
    assert racer_params(page, 0)["lr"] != "0.1"  # the cell's lr and beta1 race now, on the same formula
    assert "landscape.f=" in page.url
