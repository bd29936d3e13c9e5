"""The page and the embed in a lecture hall: keys whatever has focus, the lr and β sliders, the lr multiplier,
suggested lrs, presenter mode at 1920 × 1080, markers by optimizer, Export and Embed, and /embed with live controls."""

from __future__ import annotations

import itertools
import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from core.landscape_notes import SUGGESTED_LR
from core.palette import STYLES
from core.presets import PRESETS, get_preset, scene_of
from tests.e2e.test_embed import DRAWING_AREA, deck_url  # noqa: F401  (the fixture serving tests/e2e/deck)

SHORT = "landscape=bowl&landscape.condition=10&steps=60&racer=sgd;lr=1&racer=rmsprop;lr=0.1"


def open_scene(page: Page, query: str = SHORT) -> None:
    page.goto(f"/?{query}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(page.locator(".racer").first).to_be_visible()


def racers_of(page: Page) -> list[str]:
    return [value for key, value in parse_qsl(urlsplit(page.url).query) if key == "racer"]


def lr_of(racer: str) -> float:
    return float(re.search(r";lr=([^;]+)", racer).group(1))


# --- keyboard -----------------------------------------------------------------------------------------------


def test_keys_work_with_the_focus_on_a_slider(page: Page) -> None:
    open_scene(page)
    player = page.locator(".player")
    slider = page.locator(".racer").first.locator("[data-param=lr] input[type=range]")
    slider.focus()
    expect(slider).to_be_focused()
    url = page.url
    page.keyboard.press("r")
    expect(player).to_have_attribute("data-step", "0")
    page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-step", "1")
    page.keyboard.press("ArrowLeft")
    expect(player).to_have_attribute("data-step", "0")
    assert racers_of(page) == [value for key, value in parse_qsl(urlsplit(url).query) if key == "racer"]
    page.keyboard.press("Space")
    expect(player).to_have_attribute("data-playing", "true")
    page.keyboard.press("Space")
    expect(player).to_have_attribute("data-playing", "false")
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    expect(page.locator("#help")).to_contain_text("presenter mode")


def test_arrow_up_on_an_lr_slider_moves_to_the_next_two_digit_value(page: Page) -> None:
    open_scene(page)
    slider = page.locator(".racer").nth(1).locator("[data-param=lr] input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowUp")
    expect(page).to_have_url(re.compile(r"racer=rmsprop;lr=0\.11;"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page).to_have_url(re.compile(r"racer=rmsprop;lr=0\.099;"))


def test_clicking_empty_header_space_focuses_nothing_and_r_resets(page: Page) -> None:
    open_scene(page)
    demo = page.locator("#preset").bounding_box()
    bar = page.locator(".bar").bounding_box()
    assert demo is not None and bar is not None
    # the empty bar right of the demo picker
    page.mouse.click(demo["x"] + demo["width"] + 30, demo["y"] + demo["height"] / 2)
    assert page.evaluate("document.activeElement === document.body")
    before = page.url
    page.keyboard.press("r")
    expect(page.locator(".player")).to_have_attribute("data-step", "0")
    assert page.url == before


def test_keys_work_with_the_focus_on_the_demo_select(page: Page) -> None:
    open_scene(page)
    page.locator("#preset").focus()
    before = page.url
    page.keyboard.press("r")
    page.keyboard.press("ArrowRight")
    expect(page.locator(".player")).to_have_attribute("data-step", "1")
    assert page.url == before  # R did not pick a demo by its first letter


# --- sliders, suggested lrs, the lr multiplier ---------------------------------------------------------------


def test_dragging_the_lr_slider_lands_on_two_significant_digits(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    open_scene(page)
    slider = page.locator(".racer").first.locator("[data-param=lr] input[type=range]")
    box = slider.bounding_box()
    assert box is not None and box["width"] >= 250, box
    steps = int(slider.get_attribute("max"))
    assert box["width"] >= steps * 0.9  # about a pixel for every two-digit value
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    for x in range(int(box["x"] + box["width"] * 0.5), int(box["x"] + box["width"] * 0.8), 7):
        page.mouse.move(x, y)
    page.mouse.up()
    expect(page).not_to_have_url(re.compile(r"racer=sgd;lr=1;"))
    lr = lr_of(racers_of(page)[0])
    assert float(f"{lr:.2g}") == lr, lr


def test_beta_sliders_are_on_a_one_minus_beta_log_scale(page: Page) -> None:
    open_scene(page, "landscape=bowl&steps=60&racer=adam;lr=0.1")
    page.locator(".racer details.more summary").first.click()
    beta2 = page.locator(".racer [data-param=beta2]")
    expect(beta2.locator(".ticks span")).to_have_text(["0.5", "0.9", "0.99", "0.999", "0.9999"])
    positions = beta2.evaluate("""(row) => [...row.querySelectorAll('datalist option')].map((o) => Number(o.value))""")
    gaps = [b - a for a, b in itertools.pairwise(positions[1:])]
    assert max(gaps) - min(gaps) <= 1, positions  # 0.9, 0.99, 0.999, 0.9999 evenly spaced
    slider = beta2.locator("input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowUp")
    expect(page).to_have_url(re.compile(r"beta2=0\.99901;"))  # 1 − β from 0.001 to 0.00099


def test_a_new_racer_and_a_new_landscape_take_the_suggested_lr(page: Page) -> None:
    open_scene(page, "landscape=bowl&steps=60&racer=sgd;lr=1")
    page.locator("#add-optimizer").select_option("adam")
    page.get_by_role("button", name="+ Add racer").click()
    expect(page.locator(".racer")).to_have_count(2)
    assert lr_of(racers_of(page)[1]) == SUGGESTED_LR["bowl"]["adam"]
    page.locator("#landscape").select_option("rosenbrock")
    expect(page).to_have_url(re.compile(r"landscape=rosenbrock"))
    lrs = [lr_of(r) for r in racers_of(page)]
    assert lrs == [SUGGESTED_LR["rosenbrock"]["sgd"], SUGGESTED_LR["rosenbrock"]["adam"]]


def test_the_lr_multiplier_scales_every_racer_and_the_link_keeps_it(page: Page, browser, base_url: str) -> None:
    open_scene(page, "landscape=bowl&steps=60&racer=sgd;lr=0.5&racer=adam;lr=0.2")
    scale = page.locator("#lrscale")
    scale.focus()
    for _ in range(10):
        page.keyboard.press("ArrowUp")  # ×1 → ×2
    expect(page).to_have_url(re.compile(r"lrscale=2(&|$)"))
    expect(page).to_have_url(re.compile(r"racer=sgd;lr=1;.*racer=adam;lr=0\.4;"))
    # the scene sent to the API has the actual lrs
    page.wait_for_function(
        """() => performance.getEntriesByType('resource').map((e) => e.name)
            .some((n) => n.includes('/api/race?') && n.includes(';lr=1;') && n.includes(';lr=0.4;'))"""
    )
    races = page.evaluate(
        "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/'))"
    )
    assert not [r for r in races if "lrscale" in r]
    other = browser.new_page(base_url=base_url)
    other.goto(page.url)
    expect(other.locator("#lrscale + output")).to_have_text("2")
    other.close()


# --- presenter mode ------------------------------------------------------------------------------------------


def test_presenter_mode_at_1920_by_1080(page: Page) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/?landscape=beale&steps=300&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(page.locator("body")).to_have_class(re.compile("present"))
    expect(page.locator(".player")).to_have_attribute("data-playing", "false")  # no autoplay
    expect(page.locator(".player")).to_have_attribute("data-step", "0")
    plot = page.locator(".plot").bounding_box()
    assert plot is not None and plot["height"] >= 700 and plot["y"] + plot["height"] <= 1080
    assert float(page.locator(".plot").get_attribute("data-path-width")) >= 3
    sizes = page.evaluate(
        """() => ['#caption', '.leaderboard td', '.transport .play', '.transport .counter']
            .map((s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"""
    )
    assert min(sizes) >= 24, sizes
    tick_font = page.evaluate(
        "(async () => (await import('/static/plot.js'))"
        ".readTheme(document.querySelector('.player')).scaledFont(1200))()"
    )
    assert tick_font >= 24
    expect(page.locator(".controls")).to_be_hidden()
    page.keyboard.press("f")
    expect(page.locator("body")).not_to_have_class(re.compile("present"))
    expect(page).not_to_have_url(re.compile("present=1"))
    page.keyboard.press("F")
    expect(page).to_have_url(re.compile("present=1"))


# Everything the lecturer needs in the hall: the caption, the map, the transport (Play, lr ×, steps/s, the
# scrubber), the leaderboard, the loss chart, and Zoom to the end; the lr chart with its toggle when a racer has a
# schedule (with none, every lr is a flat line and the chart steps aside).
PRESENTER_PARTS = [
    "#caption",
    ".plot",
    ".transport .play",
    "#lrscale",
    ".transport select",
    ".transport .scrubber",
    ".transport .counter",
    ".leaderboard",
    "#leaderboard-body tr:last-child",
    "#loss-chart",
    "#zoom-end",
]
LR_PARTS = ["#lr-chart", "#lr-log"]


def has_schedule(preset_id: str) -> bool:
    """Whether some racer of the demo has a schedule other than constant."""
    return any(racer.schedule.name != "constant" for racer in scene_of(get_preset(preset_id).query).racers)


def presenter_parts(preset_id: str) -> list[str]:
    return PRESENTER_PARTS + (LR_PARTS if has_schedule(preset_id) else [])


INSIDE_PARTS = {
    "vectors": ("&vectors=1", None, ".vectors-legend"),
    "inspector": ("", "#inspect", "#inspector"),
}


@pytest.mark.parametrize("part", list(INSIDE_PARTS))
def test_presenter_mode_puts_the_vectors_legend_and_the_inspector_beside_the_map(page: Page, part: str) -> None:
    """In the one-screen grid the stage's own children (display: contents) need a place: the vectors' legend stands in
    the right column under the tools; the step inspector, open, takes the results' place above them (its worked lines
    need the column's height; the map stays in view to scrub); never over the map, and nothing scrolls the page."""
    extra, button, selector = INSIDE_PARTS[part]
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"/?preset=race-beale&present=1{extra}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    if button:
        page.locator(button).click()
    expect(page.locator(selector)).to_be_visible()
    boxes = page.evaluate(
        """(s) => Object.fromEntries(
            [['part', s], ['plot', '.plot'], ['tools', '.stage-tools'], ['results', '.results']]
                .map(([k, q]) => [k, document.querySelector(q).getBoundingClientRect().toJSON()]))""",
        selector,
    )
    part_box, plot, tools = boxes["part"], boxes["plot"], boxes["tools"]
    assert part_box["left"] >= plot["right"]  # beside the map, not over it
    if part == "inspector":
        assert boxes["results"]["height"] == 0  # in the results' place: they come back when it closes
        assert part_box["bottom"] <= tools["top"] + 1 and part_box["height"] >= 500
        assert abs(part_box["left"] - tools["left"]) <= 1  # in the results' column
    else:
        assert part_box["top"] >= tools["bottom"] - 1 and part_box["bottom"] <= 1080.5
        assert abs(part_box["left"] - boxes["results"]["left"]) <= 1  # in the results' column
        # the closed panels step aside while the legend stands there: the results fit without scrolling, no line
        # half hidden under the tools
        expect(page.locator("#sweep-panel")).to_be_hidden()
        expect(page.locator("#map-panel")).to_be_hidden()
        assert (
            page.evaluate(
                "(() => { const r = document.querySelector('.results'); return r.scrollHeight - r.clientHeight; })()"
            )
            <= 1
        )
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080


@pytest.mark.parametrize(
    ("width", "height", "preset"),
    [
        (1920, 1080, "race-beale"),
        (1920, 1080, "schedules"),
        (1920, 1080, "lr"),
        (1366, 768, "schedules"),
        (1280, 720, "race-beale"),
        (1280, 720, "lr"),
    ],
)
def test_presenter_mode_fits_the_whole_race_in_one_screen(page: Page, width: int, height: int, preset: str) -> None:
    """No scrolling: every part of the race lies inside the screen, none covers another, and the map's column is as
    wide as the map (no empty band beside it)."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/?preset={preset}&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("End")
    expect(page.locator(".board-state")).to_have_attribute("data-finished", "true")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    layout = page.evaluate(
        """(parts) => {
            const root = document.documentElement;
            const inside = parts.map((s) => {
                const e = document.querySelector(s);
                const r = e.getBoundingClientRect();
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                return { s, ok: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
                    && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5, shown: !!hit && e.contains(hit) };
            });
            const results = document.querySelector('.results');
            return { scrollH: root.scrollHeight, scrollW: root.scrollWidth, inside,
                     resultsScroll: results.scrollHeight - results.clientHeight,
                     plot: document.querySelector('.plot').getBoundingClientRect().toJSON(),
                     results: results.getBoundingClientRect().toJSON() };
        }""",
        presenter_parts(preset),
    )
    assert layout["scrollH"] <= height and layout["scrollW"] <= width, layout
    assert [p["s"] for p in layout["inside"] if not p["ok"]] == [], layout["inside"]
    assert [p["s"] for p in layout["inside"] if not p["shown"]] == [], layout["inside"]
    assert layout["resultsScroll"] <= 1  # the results column does not scroll either
    area = page.evaluate(DRAWING_AREA)
    assert layout["results"]["left"] - area["right"] <= 60, (area, layout)  # the map reaches its column's edge
    assert area["left"] - layout["plot"]["left"] <= 160  # only the y labels left of the map
    if (width, height) == (1920, 1080):
        assert area["bottom"] - area["top"] >= 700


# every demo, its caption the longest first: the longer the caption, the less height is left for the charts
BY_CAPTION = [preset.id for preset in sorted(PRESETS, key=lambda preset: -len(preset.caption))]


@pytest.mark.parametrize("preset", BY_CAPTION)
def test_presenter_mode_keeps_the_charts_readable_under_a_long_caption(page: Page, preset: str) -> None:
    """At 1920 × 1080 a demo's caption, however long, leaves each chart a plot ≥ 140 px tall (axes' labels aside), read
    from the back row, and the race still fits the one screen. With no schedule on any racer the lr chart would be flat
    lines: it steps aside and the loss chart takes the results' width."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"/?preset={preset}&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("End")
    expect(page.locator(".board-state")).to_have_attribute("data-finished", "true")
    if has_schedule(preset):
        expect(page.locator("#lr-chart")).to_be_visible()
    else:
        expect(page.locator("#lr-card")).to_be_hidden()
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    charts = page.evaluate(
        """() => ['#loss-chart', '#lr-chart'].map((s) => document.querySelector(s)).filter((c) => c.checkVisibility())
            .map((c) => ({ id: c.id, plot: Number(c.dataset.plotHeight), box: c.getBoundingClientRect().toJSON(),
                           drawn: c.height === Math.round(c.getBoundingClientRect().height * devicePixelRatio) }))"""
    )
    assert [chart["id"] for chart in charts] == ["loss-chart", "lr-chart"][: 1 + has_schedule(preset)]
    for chart in charts:
        assert chart["drawn"], chart  # drawn at the size it is shown
        assert chart["plot"] >= 140, chart
        assert chart["box"]["bottom"] <= 1080 and chart["box"]["top"] >= 0, chart
    if len(charts) == 2:  # side by side, as tall as each other
        loss, lr = (chart["box"] for chart in charts)
        assert lr["left"] >= loss["right"] and abs(lr["top"] - loss["top"]) <= 2
    else:  # alone, across the results' width
        assert charts[0]["box"]["width"] >= page.locator(".leaderboard").bounding_box()["width"] - 40
    sizes = page.evaluate(
        """() => {
            const results = document.querySelector('.results');
            return { page: document.documentElement.scrollHeight, results: results.scrollHeight - results.clientHeight,
                     caption: document.querySelector('#caption').getBoundingClientRect().bottom };
        }"""
    )
    assert sizes["page"] <= 1080 and sizes["results"] <= 1 and sizes["caption"] <= 1080, sizes


@pytest.mark.parametrize("preset", BY_CAPTION)
def test_presenter_mode_on_a_phone_fits_the_leaderboard_in_its_card(page: Page, preset: str) -> None:
    """On a 390 × 844 phone the presenter's large type would push the leaderboard's status and f − f* columns off its
    card: there the table takes about the page's own size and wraps names and states, and every column shows."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/?preset={preset}&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("End")
    expect(page.locator(".board-state")).to_have_attribute("data-finished", "true")
    fit = page.evaluate(
        """() => {
            const card = document.querySelector('#board-card');
            const box = card.getBoundingClientRect();
            const cells = [...card.querySelectorAll('.leaderboard :is(th, td)')].map((c) => c.getBoundingClientRect());
            return { overflow: card.scrollWidth - card.clientWidth, page: document.documentElement.scrollWidth,
                     outside: cells.filter((c) => c.right > box.right + 0.5 || c.left < box.left - 0.5).length };
        }"""
    )
    assert fit == {"overflow": 0, "page": 390, "outside": 0}, fit


def test_presenter_mode_gives_the_open_sensitivity_panel_the_charts_place(page: Page) -> None:
    """Opened in the hall, the lr sensitivity takes the charts' room beside the map (no scrolling); closed, the charts
    come back."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/?preset=schedules&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.locator("#sweep-panel > summary").click()
    expect(page.locator("#sweep-status")).not_to_be_empty(timeout=60_000)
    expect(page.locator("#loss-chart")).to_be_hidden()
    box = page.locator("#sweep-chart").bounding_box()
    assert box is not None and box["height"] >= 140 and box["y"] + box["height"] <= 1080, box
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    page.locator("#sweep-panel > summary").click()
    expect(page.locator("#loss-chart")).to_be_visible()
    expect(page.locator("#lr-chart")).to_be_visible()


def test_presenter_mode_has_no_text_under_24_px(page: Page) -> None:
    """Every visible line of text in presenter mode, a story's caption and finished leaderboard included."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/?preset=schedules&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("End")
    expect(page.locator(".board-state")).to_have_attribute("data-finished", "true")
    small = page.evaluate(
        """() => {
            const small = [];
            const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node; (node = walk.nextNode()); ) {
                const el = node.parentElement;
                if (!node.textContent.trim() || !el.checkVisibility({ visibilityProperty: true })) continue;
                const size = parseFloat(getComputedStyle(el).fontSize);
                if (size < 24) small.push(`${el.tagName}.${el.className} "${node.textContent.trim()}" ${size}px`);
            }
            return small;
        }"""
    )
    assert small == []


@pytest.mark.parametrize("width", [1920, 1280, 390])
def test_the_charts_last_tick_label_is_not_cut_at_the_right_edge(page: Page, width: int) -> None:
    """The x labels under the loss chart stay inside its canvas: its last column has no ink below the plot box."""
    page.set_viewport_size({"width": width, "height": 1080})
    page.goto("/?preset=race-beale" + ("&present=1" if width == 1920 else ""))
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    page.keyboard.press("End")
    expect(page.locator(".player")).to_have_attribute("data-step", "600")
    inked = page.evaluate(
        """() => {
            const canvas = document.querySelector('#loss-chart');
            const band = Math.round(canvas.height * 0.12);  // the tick labels' band, under the plot box
            const column = canvas.getContext('2d').getImageData(canvas.width - 1, canvas.height - band, 1, band).data;
            let inked = 0;
            for (let i = 3; i < column.length; i += 4) if (column[i] > 0) inked += 1;
            return inked;
        }"""
    )
    assert inked == 0


def test_races_are_paced_by_their_length(page: Page) -> None:
    open_scene(page, "landscape=bowl&steps=1200&racer=sgd;lr=0.5")
    rate = float(page.locator(".player").get_attribute("data-rate"))
    assert 1200 / rate >= 10  # the 1 200-step race lasts seconds, not 6 s for any length
    page.locator(".transport .speed").select_option("10")
    expect(page.locator(".player")).to_have_attribute("data-rate", "10")


# --- one marker per optimizer, saddles --------------------------------------------------------------------


def test_markers_follow_the_optimizer_not_the_slot(page: Page) -> None:
    for query in ("racer=adam;lr=0.1&racer=sgd;lr=0.5", "racer=sgd;lr=0.5&racer=momentum;lr=0.1&racer=adam;lr=0.1"):
        open_scene(page, f"landscape=bowl&steps=60&{query}")
        optimizers = [racer.split(";")[0] for racer in racers_of(page)]
        shapes = page.locator(".racer .racer-marker").evaluate_all("(nodes) => nodes.map((n) => n.dataset.shape)")
        assert shapes == [STYLES[name].marker for name in optimizers]


def test_saddle_points_are_listed_in_the_help_and_served(page: Page, base_url: str) -> None:
    open_scene(page, "landscape=saddle&steps=60&racer=sgd;lr=0.1")
    saddles = page.evaluate(
        "JSON.parse(document.getElementById('page-data').textContent)"
        ".landscapes.find((l) => l.name === 'saddle').saddles"
    )
    assert saddles == [[0, 0]]


# --- Export and Embed ------------------------------------------------------------------------------------


def test_export_menu_offers_a_1920_by_1080_png(page: Page) -> None:
    open_scene(page)
    page.get_by_role("button", name="Export").click()
    dialog = page.locator("#export-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("PNG").check()
    page.locator("#export-size").select_option("1920x1080")
    page.locator("#export-theme").select_option("dark")
    href = page.locator("#export-download").get_attribute("href")
    assert (
        href.startswith("/export/race.png?") and "width=1920" in href and "height=1080" in href and "theme=dark" in href
    )
    reply = page.request.get(href)
    assert reply.ok and reply.headers["content-type"] == "image/png"
    assert reply.body()[16:24] == (1920).to_bytes(4, "big") + (1080).to_bytes(4, "big")
    for fmt in ("gif", "svg", "html"):
        dialog.get_by_label(fmt.upper(), exact=True).check()
        expect(page.locator("#export-download")).to_have_attribute("href", re.compile(rf"^/export/race\.{fmt}\?"))


def test_embed_dialog_toggles_write_the_src_and_the_preview_follows(page: Page) -> None:
    open_scene(page)
    page.get_by_role("button", name="Embed").click()
    dialog = page.locator("#embed-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Loss chart").check()
    dialog.get_by_label("lr slider per racer").check()
    code = page.locator("#embed-code")
    expect(code).to_contain_text("chart=loss")
    expect(code).to_contain_text("controls=lr")
    preview = page.frame_locator("#embed-preview")
    expect(preview.locator(".live input[type=range]")).to_have_count(2)
    expect(preview.locator(".side canvas.chart")).to_have_count(1)


# --- /embed with live controls, in a frame of a slide's size and in a reveal.js deck ----------------------

LIVE = "landscape=bowl&landscape.condition=10&steps=80&racer=sgd;lr=0.5&racer=adam;lr=0.3"


@pytest.mark.parametrize(("width", "height"), [(960, 540), (1280, 720), (960, 720)])
def test_embed_with_lr_controls_fills_the_frame_and_a_slider_redraws_the_race(
    page: Page, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/embed?{LIVE}&controls=lr&chart=loss&caption=Drag%20the%20lr")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#slide-caption")).to_have_text("Drag the lr")
    expect(page.locator("#legend li").first).to_contain_text("lr 0.5")
    # no empty band: the map and the side panel share the frame's width
    widths = page.evaluate(
        """() => ({ map: document.querySelector('.plot').getBoundingClientRect().width,
                   side: document.querySelector('#side').getBoundingClientRect().width,
                   body: document.body.scrollWidth, bodyH: document.body.scrollHeight })"""
    )
    assert abs(widths["map"] + widths["side"] - width) <= 2, widths
    assert widths["body"] == width and widths["bodyH"] == height
    pixels = page.evaluate("document.querySelector('.layer-race').toDataURL()")
    slider = page.locator(".live input[type=range]").first
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowUp")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(page.locator("#legend li").first).to_contain_text("lr 0.55")
    page.wait_for_function("p => document.querySelector('.layer-race').toDataURL() !== p", arg=pixels)
    # "open in optirace" opens the scene the slide shows now
    expect(page.locator("#open")).to_have_attribute("href", re.compile(r"racer=sgd;lr=0\.55;"))


def test_embed_legend_says_a_racer_left_the_minimum_as_the_leaderboard_does(page: Page) -> None:
    """Beale's story: SGD touches the minimum and cannot stay; at the end the slide's legend says it left."""
    page.goto("/embed?preset=race-beale")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.keyboard.press("End")
    expect(page.locator(".player")).to_have_attribute("data-step", "600")
    outcomes = page.locator("#legend li .outcome")
    expect(outcomes.nth(0)).to_have_text(re.compile(r"^✓ \d+, left \d+$"))  # SGD
    expect(outcomes.nth(1)).to_have_text(re.compile(r"^✓ \d+$"))  # Momentum arrived and stays
    page.keyboard.press("Home")
    expect(outcomes.nth(0)).to_have_text(re.compile(r"^gap "))


def test_embed_lrscale_control_multiplies_every_lr(page: Page) -> None:
    page.goto(f"/embed?{LIVE}&controls=lrscale")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.locator(".live input[type=range]").focus()
    for _ in range(10):
        page.keyboard.press("ArrowUp")
    expect(page.locator("#legend li").nth(0)).to_contain_text("lr 1")
    expect(page.locator("#legend li").nth(1)).to_contain_text("lr 0.6")


def test_embed_with_controls_in_a_reveal_deck_redraws_on_a_slider(page: Page, base_url: str, deck_url: str) -> None:  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 720})
    src = f"{base_url}/embed?{LIVE}&controls=lr"
    page.goto(f"{deck_url}/index.html?embed={quote(src, safe='')}")
    page.wait_for_function("window.Reveal && Reveal.isReady()")
    page.evaluate("Reveal.slide(1)")
    frame = page.frame_locator("#race")
    expect(frame.locator("body")).to_have_attribute("data-ready", "1")
    pixels = frame.locator(".layer-race").evaluate("(c) => c.toDataURL()")
    slider = frame.locator(".live input[type=range]").first
    box = slider.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    expect(frame.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(frame.locator("#legend li").first).not_to_contain_text("lr 0.5")
    frame.locator(".layer-race").evaluate(
        "(c, p) => new Promise((ok) => {"
        " const f = () => (c.toDataURL() !== p ? ok() : requestAnimationFrame(f)); f(); })",
        pixels,
    )
    assert page.evaluate("Reveal.getIndices().h") == 1


def test_embed_schedule_control_changes_a_racers_schedule(page: Page) -> None:
    page.goto(f"/embed?{LIVE}&controls=schedule&chart=loss")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    page.get_by_label("SGD schedule").select_option("cosine")
    expect(page.locator("body")).to_have_attribute("data-races", "1")
    page.wait_for_function(
        """() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/race'))"""
    )


def test_embed_preset_shows_the_demos_caption_until_its_scene_changes(page: Page) -> None:
    """preset=<id> is the demo's scene and its caption (GET /api/presets); a scene key beside it changes the
    scene, and the slide then says what it was changed from rather than the demo's claims."""
    demo = page.request.get("/api/presets/race-beale").json()
    page.goto("/embed?preset=race-beale")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#slide-caption")).to_have_text(demo["caption"])
    page.goto("/embed?preset=race-beale&steps=80")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#slide-caption")).to_have_text(f"Changed from “{demo['title']}”")


def test_a_demo_keeps_presenter_mode_and_starts_the_multiplier_again(page: Page) -> None:
    page.goto(f"/?{SHORT}&lrscale=2&present=1")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(page.locator("#lrscale + output")).to_have_text("2")
    page.locator("#preset").select_option(index=1)
    expect(page).to_have_url(re.compile(r"present=1$"))
    expect(page).not_to_have_url(re.compile("lrscale"))
    expect(page.locator("#lrscale + output")).to_have_text("1")
    expect(page.locator("body")).to_have_class(re.compile("present"))
