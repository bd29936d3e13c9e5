"""The lecture's stories on the page, in a real Chromium: captions that belong to their demo, the leaderboard's
live and final standings (and its ranking function on its own), the lr chart's scale, the zoom onto the
ending, demos by URL (page and embed)."""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import Page, expect

from core.presets import get_preset
from core.race import run
from core.scene_url import scene_from_query


def presets(base_url: str) -> dict[str, dict]:
    with urllib.request.urlopen(f"{base_url}/api/presets") as reply:
        return {p["id"]: p for p in json.loads(reply.read())["presets"]}


def open_preset(page: Page, preset_id: str) -> None:
    page.goto(f"/?preset={preset_id}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))


def races(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.races || 0)"))


def wait_for_new_race(page: Page, before: int) -> None:
    page.wait_for_function("n => Number(document.body.dataset.races || 0) > n", arg=before)


# --- captions -----------------------------------------------------------------------------------------


def test_a_demo_opens_by_url_with_its_caption(page: Page, base_url: str) -> None:
    valley = presets(base_url)["valley"]
    open_preset(page, "valley")
    expect(page).to_have_url(f"{base_url}/?{valley['query']}")
    expect(page.locator("#caption-title")).to_have_text(valley["title"])
    expect(page.locator("#caption-text")).to_have_text(valley["caption"])
    expect(page.locator("#caption")).to_have_attribute("data-state", "preset")
    expect(page.locator("#preset")).to_have_value("valley")
    expect(page.locator("#caption-back")).to_be_hidden()


def test_the_caption_goes_stale_when_the_scene_leaves_its_demo_and_comes_back(page: Page, base_url: str) -> None:
    """The issue's case: Four optimizers on Beale, switched to Rosenbrock, must not keep Beale's claims."""
    beale = presets(base_url)["race-beale"]
    open_preset(page, "race-beale")
    before = races(page)
    page.get_by_label("Landscape", exact=True).select_option("rosenbrock")
    wait_for_new_race(page, before)
    expect(page.locator("#caption")).to_have_attribute("data-state", "changed")
    expect(page.locator("#caption-title")).to_have_text(f"Changed from “{beale['title']}”")
    expect(page.locator("#caption-text")).to_contain_text("landscape Beale → Rosenbrock")
    expect(page.locator("#caption-text")).not_to_contain_text("Momentum arrives first")
    expect(page.locator("#preset")).to_have_value("")
    expect(page).to_have_title(re.compile(r"\(changed\)"))
    # the way back restores the demo's exact scene and its caption
    before = races(page)
    page.get_by_role("button", name=f"Back to “{beale['title']}”").click()
    wait_for_new_race(page, before)
    expect(page).to_have_url(f"{base_url}/?{beale['query']}")
    expect(page.locator("#caption-text")).to_have_text(beale["caption"])
    expect(page.locator("#caption-back")).to_be_hidden()


def test_any_changed_field_makes_the_caption_say_what_changed(page: Page, base_url: str) -> None:
    open_preset(page, "lr-too-large")
    value = page.locator(".racer").first.locator("[data-param=lr] input.value")
    before = races(page)
    value.fill("1.5")
    value.press("Tab")
    wait_for_new_race(page, before)
    expect(page.locator("#caption")).to_have_attribute("data-state", "changed")
    expect(page.locator("#caption-text")).to_contain_text("SGD lr 2.1 → 1.5")
    expect(page.locator("#caption-text")).not_to_contain_text("diverges")
    # Back in history: the demo's own scene, its own caption again
    page.go_back()
    expect(page.locator("#caption")).to_have_attribute("data-state", "preset")
    expect(page.locator("#caption-text")).to_contain_text("SGD overshoots further every step and diverges")


def test_the_embed_takes_a_demo_by_id(page: Page, base_url: str) -> None:
    valley = presets(base_url)["valley"]
    page.goto("/embed?preset=valley")
    expect(page.locator("#legend li .name")).to_have_text(["SGD", "Momentum"])
    expect(page.locator("#slide-caption")).to_have_text(valley["caption"])  # the demo's caption with its scene
    href = page.get_by_role("link", name=re.compile("open in optirace")).get_attribute("href")
    assert href == f"/?{valley['query']}"


# --- the leaderboard ----------------------------------------------------------------------------------


def test_the_leaderboard_is_live_while_playing_and_final_at_the_end(page: Page) -> None:
    open_preset(page, "race-beale")
    state = page.locator("#leaderboard-state")
    rows = page.locator("#leaderboard-body tr")
    page.keyboard.press("r")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator(".player")).to_have_attribute("data-step", "3")
    expect(state).to_have_text("Live at step 3 of 600: ranked by the gap now")
    expect(rows.locator("td.status")).to_have_text(["on the way"] * 4)
    # step 175: Momentum (169) has arrived, the others are still on their way
    page.locator(".scrubber").fill("175")
    expect(state).to_have_text("Live at step 175 of 600: ranked by the gap now")
    expect(rows.filter(has_text="Momentum").locator("td.status")).to_have_text("✓ step 169")
    expect(rows.filter(has_text="Adam").locator("td.status")).to_have_text("on the way")
    page.keyboard.press("End")
    expect(state).to_have_text("Finished: ranked by the final gap f − f*")
    expect(rows.locator("th")).to_have_text(["Momentum", "Adam", "RMSProp", "SGD"])
    expect(rows.locator("td.rank")).to_have_text(["1", "2", "3", "4"])
    # SGD touched the minimum at step 185 and bounced off it: it says so, and ranks by its final gap
    sgd = rows.filter(has_text="SGD")
    expect(sgd).to_have_attribute("data-status", "left")
    expect(sgd.locator("td.status")).to_have_text(re.compile(r"^✓ 185, left \d+$"))
    expect(sgd.locator("td.status")).to_have_attribute(
        "aria-label", re.compile(r"arrived at step 185, left the minimum")
    )
    gaps = [float(t.replace("−", "-")) for t in rows.locator("td.num").all_inner_texts()]
    assert gaps == sorted(gaps)


def test_a_diverged_racer_shows_its_step_and_ranks_last(page: Page) -> None:
    open_preset(page, "lr-too-large")
    page.keyboard.press("End")
    rows = page.locator("#leaderboard-body tr")
    expect(rows.locator("th")).to_have_text(["Adam", "SGD"])
    expect(rows.nth(1)).to_have_attribute("data-status", "diverged")
    expect(rows.nth(1).locator("td.status")).to_have_text("✕ step 45")
    expect(rows.nth(1).locator("td.num")).to_have_text("—")


def test_equal_racers_share_their_rank(page: Page) -> None:
    page.goto("/?landscape=bowl&steps=40&racer=sgd;lr=0.5&racer=sgd;lr=0.5&racer=sgd;lr=0.1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("End")
    expect(page.locator("#leaderboard-body td.rank")).to_have_text(["=1", "=1", "3"])


STANDINGS = """async ([race, k]) => {
  const { standings } = await import('/static/leaderboard.js');
  const racers = race.racers.map((r) => ({
    ...r, path: Float64Array.from(r.path.flat()), loss: Float64Array.from(r.loss), length: r.loss.length,
  }));
  const out = standings({ ...race, racers, minValue: 0 }, k, { tolerance: 0.01, radius: 0.1 });
  return { finished: out.finished, rows: out.rows.map((r) => [r.index, r.state, r.rank, r.tied, r.leftAt]) };
}"""


def synthetic_race() -> dict:
    """Four racers, 4 steps, minimum at the origin: one arrives and stays, one arrives at step 1 and leaves at
    step 3, one diverges at step 2 (its path stops there), one stays away."""
    return {
        "steps": 4,
        "complete": True,
        "minima": [{"point": [0, 0], "value": 0}],
        "racers": [
            {
                "path": [[1, 0], [0.5, 0], [0.01, 0], [0, 0], [0, 0]],
                "loss": [1, 0.25, 0.0001, 0, 0],
                "arrivedAt": 2,
                "divergedAt": None,
            },
            {
                "path": [[1, 0], [0, 0], [0, 0], [0.5, 0], [0.6, 0]],
                "loss": [1, 0, 0, 0.25, 0.36],
                "arrivedAt": 1,
                "divergedAt": None,
            },
            {"path": [[1, 0], [3, 0]], "loss": [1, 9], "arrivedAt": None, "divergedAt": 2},
            {
                "path": [[1, 0], [0.9, 0], [0.8, 0], [0.7, 0], [0.7, 0]],
                "loss": [1, 0.81, 0.64, 0.49, 0.49],
                "arrivedAt": None,
                "divergedAt": None,
            },
        ],
    }


def test_standings_rank_by_the_gap_now_and_mark_left_and_diverged(page: Page) -> None:
    page.goto("/?steps=1&racer=sgd")
    race = synthetic_race()
    # step 1: only racer 1 is at the minimum; racer 2 has not diverged yet (its gap is 9)
    live = page.evaluate(STANDINGS, [race, 1])
    assert live["finished"] is False
    assert live["rows"] == [
        [1, "arrived", 1, False, None],
        [0, "running", 2, False, None],
        [3, "running", 3, False, None],
        [2, "running", 4, False, None],
    ]
    # the end: 0 arrived (gap 0); 1 arrived at 1 and left at 3 (gap 0.36); 3 never arrived (0.49); 2 diverged
    final = page.evaluate(STANDINGS, [race, 4])
    assert final["finished"] is True
    assert final["rows"] == [
        [0, "arrived", 1, False, None],
        [1, "left", 2, False, 3],
        [3, "running", 3, False, None],
        [2, "diverged", 4, False, None],
    ]


def test_standings_of_a_race_still_streaming_are_not_finished(page: Page) -> None:
    page.goto("/?steps=1&racer=sgd")
    race = {**synthetic_race(), "complete": False}
    assert page.evaluate(STANDINGS, [race, 4])["finished"] is False


def test_standings_tie_equal_gaps_and_equal_divergence_steps(page: Page) -> None:
    page.goto("/?steps=1&racer=sgd")
    twin = {"path": [[1, 0], [0.5, 0]], "loss": [1, 0.25], "arrivedAt": None, "divergedAt": None}
    gone = {"path": [[1, 0]], "loss": [1], "arrivedAt": None, "divergedAt": 1}
    race = {"steps": 1, "complete": True, "minima": [{"point": [0, 0], "value": 0}], "racers": [twin, gone, twin, gone]}
    rows = page.evaluate(STANDINGS, [race, 1])["rows"]
    assert [row[:4] for row in rows] == [
        [0, "running", 1, True],
        [2, "running", 1, True],
        [1, "diverged", 3, True],
        [3, "diverged", 3, True],
    ]


# --- the lr chart and the zoom onto the ending ----------------------------------------------------------


def test_the_lr_chart_is_linear_until_log_is_asked_for(page: Page) -> None:
    open_preset(page, "schedules")
    page.keyboard.press("End")  # the step cursor stands still
    expect(page.locator(".player")).to_have_attribute("data-step", "600")
    toggle = page.get_by_role("button", name="log scale")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    chart = page.locator("#lr-chart")
    expect(chart).to_have_attribute("data-scale", "linear")
    page.wait_for_function("document.querySelector('#lr-chart').toDataURL().length > 3000")
    for scale, pressed in (("log", "true"), ("linear", "false")):
        before = chart.evaluate("c => c.toDataURL()")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", pressed)
        expect(chart).to_have_attribute("data-scale", scale)
        page.wait_for_function("p => document.querySelector('#lr-chart').toDataURL() !== p", arg=before)


def test_with_no_schedule_the_lr_card_says_so_instead_of_flat_lines(page: Page) -> None:
    """Every racer at a constant lr: the lr card says it in words (a flat line per racer tells nothing); a schedule
    on one racer brings the chart and its log toggle back, and constant again puts the words back."""
    open_preset(page, "race-beale")
    note = page.locator("#lr-constant")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Every racer's schedule is Constant")
    expect(page.locator("#lr-chart")).to_be_hidden()
    expect(page.locator("#lr-log")).to_be_hidden()
    page.locator(".racer").first.get_by_label("schedule", exact=True).select_option("cosine")
    expect(page).to_have_url(re.compile(r"racer=sgd;[^&]*schedule=cosine"))
    expect(page.locator("#lr-chart")).to_be_visible()
    expect(page.locator("#lr-log")).to_be_visible()
    expect(note).to_be_hidden()
    page.wait_for_function("document.querySelector('#lr-chart').dataset.plotHeight > 0")
    page.locator(".racer").first.get_by_label("schedule", exact=True).select_option("constant")
    expect(note).to_be_visible()
    expect(page.locator("#lr-chart")).to_be_hidden()


def test_zoom_fits_the_map_to_the_ending_and_back(page: Page) -> None:
    open_preset(page, "schedules")
    page.keyboard.press("End")
    button = page.get_by_role("button", name="Zoom to the end")
    expect(button).to_be_enabled()
    map_layer = page.locator(".layer-map")
    whole = map_layer.evaluate("c => c.toDataURL()")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    plot = page.locator(".plot")
    expect(plot).to_have_attribute("data-zoom", re.compile(r"^[-0-9.e]+(,[-0-9.e]+){3}$"))
    xmin, xmax, ymin, ymax = (float(v) for v in plot.get_attribute("data-zoom").split(","))
    # the last quarter of every path, and the minimum (3, 0.5), inside a window far smaller than Beale's 9 × 9
    result = run(scene_from_query(get_preset("schedules").query))
    for racer in result["racers"]:
        for x, y in racer["path"][450:]:
            assert xmin <= x <= xmax and ymin <= y <= ymax
    assert xmin < 3 < xmax and ymin < 0.5 < ymax
    assert xmax - xmin < 1 and ymax - ymin < 1
    page.wait_for_function("p => document.querySelector('.layer-map').toDataURL() !== p", arg=whole)
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(plot).not_to_have_attribute("data-zoom", re.compile("."))
    page.wait_for_function("p => document.querySelector('.layer-map').toDataURL() === p", arg=whole)


def test_the_zoom_follows_a_new_race(page: Page) -> None:
    open_preset(page, "valley")
    page.keyboard.press("End")
    page.get_by_role("button", name="Zoom to the end").click()
    plot = page.locator(".plot")
    expect(plot).to_have_attribute("data-zoom", re.compile("."))
    first = plot.get_attribute("data-zoom")
    before = races(page)
    steps = page.get_by_label("steps value", exact=True)
    steps.fill("60")
    steps.press("Tab")
    wait_for_new_race(page, before)
    expect(plot).not_to_have_attribute("data-zoom", first)
