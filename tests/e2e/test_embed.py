"""The slide embed in a real Chromium: alone, in a plain iframe and in a reveal.js deck; its options and keys."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Frame, Page, expect

from core.presets import PRESETS
from server.routes.pages import STREAM_ABOVE

DECK = Path(__file__).parent / "deck"
# Short races: 60 steps play in 4 s at 1× (15 steps/s, animate.js: autoPace), 0.5 s at speed=8.
SCENE = "landscape=bowl&landscape.condition=10&steps=60&racer=sgd;lr=0.1&racer=momentum;lr=0.05&racer=adam;lr=0.3"
STEPS = 60


def open_embed(page: Page, options: str = "", scene: str = SCENE) -> None:
    page.goto(f"/embed?{scene}{'&' + options if options else ''}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")


def step_of(target: Page | Frame) -> str:
    return target.locator(".player").get_attribute("data-step") or ""


def host_page(page: Page, base_url: str, deck_url: str, options: str = "") -> Frame:
    """A plain page of another origin (tests/e2e/deck/plain.html) holding the embed in an iframe; its frame."""
    src = f"{base_url}/embed?{SCENE}{'&' + options if options else ''}"
    page.goto(f"{deck_url}/plain.html?embed={quote(src, safe='')}")
    frame = page.frame_locator("#race")
    expect(frame.locator("body")).to_have_attribute("data-ready", "1")
    found = page.frame(url=re.compile(r"/embed\?"))
    assert found is not None
    return found


@pytest.fixture(scope="module")
def deck_url() -> Iterator[str]:
    """tests/e2e/deck served on loopback by a tiny static server (another origin than the app's)."""
    handler = functools.partial(_QuietHandler, directory=str(DECK))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


# --- sizing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (800, 600), (480, 270), (400, 700)])
def test_embed_fills_its_frame_without_scrollbars(page: Page, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_embed(page)
    sizes = page.evaluate(
        """() => {
          const el = document.scrollingElement, plot = document.querySelector('.plot').getBoundingClientRect();
          const bar = document.querySelector('#bar').getBoundingClientRect();
          const legend = document.querySelector('#legend').getBoundingClientRect();
          return { sw: el.scrollWidth, sh: el.scrollHeight, plotW: plot.width, plotBottom: plot.bottom, barTop: bar.top,
                   barBottom: bar.bottom, canvas: document.querySelector('.layer-map').getBoundingClientRect().width,
                   stage: document.querySelector('#stage').getBoundingClientRect().width, legendRight: legend.right,
                   mode: document.querySelector('#stage').dataset.legend };
        }"""
    )
    assert (sizes["sw"], sizes["sh"]) == (width, height)
    assert sizes["stage"] == width and abs(sizes["canvas"] - sizes["plotW"]) < 1
    # the map takes the frame's width, or, with the legend beside it, the map and the legend's panel share it
    side = page.locator("#side").bounding_box()
    assert side is not None
    if sizes["mode"] == "top":
        assert sizes["plotW"] == width
    else:
        assert abs(sizes["plotW"] + side["width"] - width) <= 2 and sizes["plotW"] > width * 0.4
    assert sizes["legendRight"] <= width
    assert sizes["plotBottom"] <= sizes["barTop"] + 0.5
    assert sizes["barBottom"] <= height + 0.5


# --- the legend: beside or above the map, never on it ---------------------------------------------------------

SLIDE_SIZES = [(800, 600), (960, 540), (1280, 720), (640, 480), (400, 300)]
# The lecture's four racers on a square map (the legend fits beside it) and on a map twice as wide as high
# (it fits above it).
LEGEND_SCENES = {"square": "landscape=himmelblau&steps=100", "wide": "landscape=six_hump_camel&steps=100"}
# The map's drawing area, found in the pixels of the map layer: the heat map is its only long opaque run
# (tick labels are short runs beside it). Client coordinates.
DRAWING_AREA = """() => {
  const canvas = document.querySelector(".layer-map");
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const opaque = (x, y) => pixels[4 * (y * width + x) + 3] === 255;
  const longest = (n, at) => {
    let best = [0, -1];
    let first = -1;
    for (let i = 0; i <= n; i++) {
      if (i < n && at(i)) { if (first < 0) first = i; }
      else if (first >= 0) { if (i - 1 - first > best[1] - best[0]) best = [first, i - 1]; first = -1; }
    }
    return best;
  };
  let [x0, x1] = longest(width, (x) => opaque(x, Math.floor(height / 2)));
  const [y0, y1] = longest(height, (y) => opaque(Math.floor(x0 + 0.4 * (x1 - x0)), y));
  [x0, x1] = longest(width, (x) => opaque(x, Math.floor(y0 + 0.4 * (y1 - y0))));
  const box = canvas.getBoundingClientRect();
  const k = box.width / width;
  return { left: box.left + x0 * k, right: box.left + (x1 + 1) * k,
           top: box.top + y0 * k, bottom: box.top + (y1 + 1) * k };
}"""


@pytest.mark.parametrize("scene", LEGEND_SCENES)
@pytest.mark.parametrize(("width", "height"), SLIDE_SIZES)
def test_the_legend_never_covers_the_map(page: Page, width: int, height: int, scene: str) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_embed(page, scene=LEGEND_SCENES[scene])
    area = page.evaluate(DRAWING_AREA)
    assert area["right"] - area["left"] > 0.5 * min(width, height), area  # found the map, not a tick label
    assert area["bottom"] - area["top"] > 0.25 * min(width, height), area
    legend = page.locator("#legend").bounding_box()
    assert legend is not None
    apart = (
        legend["x"] >= area["right"]
        or legend["x"] + legend["width"] <= area["left"]
        or legend["y"] >= area["bottom"]
        or legend["y"] + legend["height"] <= area["top"]
    )
    assert apart, f"legend {legend} covers the map's drawing area {area}"
    # all of it in the frame, every label whole, the text as large as the frame's
    assert legend["x"] >= 0 and legend["y"] >= 0
    assert legend["x"] + legend["width"] <= width and legend["y"] + legend["height"] <= height
    expect(page.locator("#legend li .name")).to_have_text(["SGD", "Momentum", "RMSProp", "Adam"])
    assert page.evaluate("[...document.querySelectorAll('#legend li')].every((li) => li.scrollWidth <= li.clientWidth)")
    legend_font, body_font = page.evaluate(
        "['#legend', 'body'].map((s) => getComputedStyle(document.querySelector(s)).fontSize)"
    )
    assert legend_font == body_font and float(legend_font.removesuffix("px")) >= 13


def test_the_legend_moves_when_the_frame_changes_shape(page: Page) -> None:
    """Beside the map in a wide frame; above it in a tall one, the map then as wide as the frame."""
    page.set_viewport_size({"width": 960, "height": 540})
    open_embed(page)
    stage = page.locator("#stage")
    expect(stage).to_have_attribute("data-legend", "side")
    page.set_viewport_size({"width": 400, "height": 700})
    expect(stage).to_have_attribute("data-legend", "top")
    expect(page.locator(".layer-map")).to_have_attribute("width", "400")
    page.set_viewport_size({"width": 960, "height": 540})
    expect(stage).to_have_attribute("data-legend", "side")


def test_embed_draws_the_race_and_a_legend(page: Page) -> None:
    open_embed(page)
    expect(page.locator("#legend li .name")).to_have_text(["SGD", "Momentum", "Adam"])
    expect(page.locator("#counter")).to_have_text(f"0 / {STEPS}")
    assert page.evaluate("document.querySelector('.layer-race').toDataURL().length") > 5000  # balls at the start
    expect(page).to_have_title(re.compile("optirace"))


def test_open_in_optirace_links_to_the_page_with_the_same_scene(page: Page, base_url: str) -> None:
    open_embed(page, "autoplay=1&theme=dark&speed=2")
    link = page.get_by_role("link", name=re.compile("open in optirace"))
    expect(link).to_have_attribute("target", "_blank")
    href = link.get_attribute("href") or ""
    assert href.startswith("/?landscape=bowl&landscape.condition=10&")
    assert "autoplay" not in href and "theme" not in href and "speed" not in href
    with page.context.expect_page() as opened:
        link.click()
    full = opened.value
    expect(full.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    assert full.url == f"{base_url}{href}"


# --- transport and keys -------------------------------------------------------------------------------------


def test_buttons_play_step_and_reset(page: Page) -> None:
    open_embed(page, "speed=8")
    player = page.locator(".player")
    page.get_by_role("button", name="Step").click()
    expect(player).to_have_attribute("data-step", "1")
    page.get_by_role("button", name="Play").click()
    expect(player).to_have_attribute("data-step", str(STEPS))
    expect(page.locator("body")).to_have_attribute("data-playing", "false")
    expect(page.locator("#counter")).to_have_text(f"{STEPS} / {STEPS}")
    page.get_by_role("button", name="Reset").click()
    expect(player).to_have_attribute("data-step", "0")


def test_keys_work_in_a_plain_iframe_and_stay_in_the_frame(page: Page, base_url: str, deck_url: str) -> None:
    frame = host_page(page, base_url, deck_url)
    page.evaluate("window.seen = []; document.addEventListener('keydown', (e) => window.seen.push(e.key))")
    page.locator("#race").click()  # the frame takes the focus (a click on the map also toggles play)
    body = frame.locator("body")
    player = frame.locator(".player")
    if body.get_attribute("data-playing") == "true":
        page.keyboard.press("r")
    expect(body).to_have_attribute("data-playing", "false")
    expect(player).to_have_attribute("data-step", "0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-step", "2")
    page.keyboard.press("Space")
    expect(body).to_have_attribute("data-playing", "true")
    page.keyboard.press("Space")
    expect(body).to_have_attribute("data-playing", "false")
    page.keyboard.press("R")
    expect(player).to_have_attribute("data-step", "0")
    page.keyboard.press("End")
    expect(player).to_have_attribute("data-step", str(STEPS))
    assert page.evaluate("window.seen") == []  # nothing reached the host page
    assert page.evaluate("scrollY") == 0


def test_space_on_the_focused_play_button_toggles_once(page: Page) -> None:
    open_embed(page)
    page.get_by_role("button", name="Play").focus()
    page.keyboard.press("Space")
    expect(page.locator("body")).to_have_attribute("data-playing", "true")
    page.keyboard.press("Space")
    expect(page.locator("body")).to_have_attribute("data-playing", "false")


# --- the reveal.js deck ---------------------------------------------------------------------------------------


def open_deck(page: Page, base_url: str, deck_url: str) -> Frame:
    embed = f"{base_url}/embed?{SCENE}"
    page.goto(f"{deck_url}/index.html?embed={quote(embed, safe='')}")
    page.wait_for_function("window.Reveal && Reveal.isReady()")
    page.evaluate("Reveal.slide(1)")
    expect(page.locator("section#race-slide")).to_have_class(re.compile(r"\bpresent\b"))
    expect(page.frame_locator("#race").locator("body")).to_have_attribute("data-ready", "1")
    frame = page.frame(url=re.compile(r"/embed\?"))
    assert frame is not None
    return frame


def test_embed_in_a_reveal_deck_plays_and_keeps_its_keys(page: Page, base_url: str, deck_url: str) -> None:
    frame = open_deck(page, base_url, deck_url)
    slide = "Reveal.getIndices().h"
    page.locator("#race").click(position={"x": 480, "y": 200})  # focus the frame (and toggle play)
    frame.locator("body").evaluate("() => {}")
    page.keyboard.press("r")  # whatever the click did: paused at step 0
    expect(frame.locator(".player")).to_have_attribute("data-step", "0")
    expect(frame.locator("body")).to_have_attribute("data-playing", "false")
    page.keyboard.press("ArrowRight")
    expect(frame.locator(".player")).to_have_attribute("data-step", "1")
    page.keyboard.press("Space")
    expect(frame.locator("body")).to_have_attribute("data-playing", "true")
    page.keyboard.press("Space")
    expect(frame.locator("body")).to_have_attribute("data-playing", "false")
    assert page.evaluate(slide) == 1, "a key pressed in the frame moved the deck"
    # and the deck does answer keys when the frame does not have the focus
    page.locator("#race-slide h3").click()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{slide} === 2")


def test_embed_in_a_reveal_deck_draws_at_the_slides_scale(page: Page, base_url: str, deck_url: str) -> None:
    frame = open_deck(page, base_url, deck_url)
    stage, plot, canvas = frame.evaluate(
        "['#stage', '.plot', '.layer-map'].map((s) => document.querySelector(s).getBoundingClientRect().width)"
    )
    assert stage == 960 and abs(canvas - plot) < 1
    page.screenshot(path=_shot("deck-slide.png"))


# --- options ----------------------------------------------------------------------------------------------


def test_controls_0_hides_the_transport_and_keys_still_work(page: Page) -> None:
    open_embed(page, "controls=0")
    expect(page.locator("#bar")).to_be_hidden()
    expect(page.get_by_role("button", name="Play")).to_have_count(0)
    page.locator(".plot").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".player")).to_have_attribute("data-step", "1")
    plot_height = page.evaluate("document.querySelector('.plot').getBoundingClientRect().height")
    assert plot_height == page.viewport_size["height"]


@pytest.mark.parametrize(
    ("options", "scheme", "dark"),
    [
        ("", "dark", False),  # light by default, whatever the laptop's setting
        ("theme=dark", "light", True),
        ("theme=auto", "dark", True),
        ("theme=auto", "light", False),
    ],
)
def test_theme_option(page: Page, options: str, scheme: str, dark: bool) -> None:
    page.emulate_media(color_scheme=scheme)
    open_embed(page, options)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert (sum(channels) / 3 < 80) == dark, background


def test_autoplay_1_plays_on_load(page: Page) -> None:
    open_embed(page, "autoplay=1&speed=8")
    expect(page.locator(".player")).to_have_attribute("data-step", str(STEPS))


def test_without_autoplay_the_race_waits_at_the_start(page: Page) -> None:
    open_embed(page)
    expect(page.locator("body")).to_have_attribute("data-playing", "false")
    expect(page.locator(".player")).to_have_attribute("data-step", "0")


def test_loop_1_plays_again_after_the_end(page: Page) -> None:
    open_embed(page, "autoplay=1&loop=1&speed=8")
    player = page.locator(".player")
    expect(player).to_have_attribute("data-step", str(STEPS))
    expect(page.locator("body")).to_have_attribute("data-playing", "true", timeout=5000)  # after the 1.5 s hold
    page.keyboard.press("Space")
    expect(page.locator("body")).to_have_attribute("data-playing", "false")


@pytest.mark.parametrize(("speed", "finished"), [("8", True), ("4", False)])
def test_speed_changes_how_long_the_race_takes(browser, base_url: str, speed: str, finished: bool) -> None:
    """At 1× the 60-step race plays at its auto pace, 15 steps/s (4 s); speed multiplies it.
    Playwright's fake clock drives requestAnimationFrame: no wall-clock timing."""
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.clock.install()
    open_embed(page, f"speed={speed}")
    page.keyboard.press("Space")
    page.clock.run_for(750)  # past 4 s / 8 = 500 ms, short of 4 s / 4 = 1000 ms
    step = int(step_of(page))
    if finished:
        assert step == STEPS
    else:
        assert 0 < step < STEPS
    context.close()


def test_bad_option_values_fall_back_to_defaults_with_a_warning(page: Page, watch) -> None:
    page.emulate_media(color_scheme="light")
    open_embed(page, "theme=purple&speed=99&autoplay=yes&controls=2")
    warnings = " ".join(watch.warnings)
    for key in ("theme=purple", "speed=99", "autoplay=yes", "controls=2"):
        assert key in warnings, watch.warnings
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.locator("#bar")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-playing", "false")


def test_a_bad_scene_shows_a_readable_message_in_the_frame(browser, base_url: str, deck_url: str) -> None:
    context = browser.new_context()  # not the watched page: the 422 is logged as a console error, by design
    page = context.new_page()
    page.goto(f"{deck_url}/plain.html?embed={quote(f'{base_url}/embed?landscape=nope&racer=adam;lr=-1', safe='')}")
    frame = page.frame_locator("#race")
    expect(frame.get_by_role("alert")).to_contain_text("This race cannot be shown")
    expect(frame.locator(".message")).to_contain_text("landscape")
    expect(frame.locator(".message")).to_contain_text("nope")
    expect(frame.get_by_role("link", name=re.compile("Open it in optirace"))).to_have_attribute(
        "href", "/?landscape=nope&racer=adam;lr=-1"
    )
    context.close()


# --- large races: streamed, drawn as they arrive ------------------------------------------------------------------

# 4 × 2000 racer-steps, over the page's threshold: the page inlines the stream's header, not the race.
LARGE_SCENE = (
    "landscape=rosenbrock&steps=2000"
    "&racer=sgd;lr=0.001&racer=momentum;lr=0.001&racer=rmsprop;lr=0.01&racer=adam;lr=0.05"
)
LARGE_STEPS = 2000


def test_a_large_race_is_streamed_and_plays_to_the_end(page: Page) -> None:
    assert 4 * LARGE_STEPS >= STREAM_ABOVE
    calls: list[tuple[str, str]] = []
    page.on("request", lambda r: calls.append((r.method, urlsplit(r.url).path)) if "/api/" in r.url else None)
    open_embed(page, "autoplay=1&speed=8", scene=LARGE_SCENE)
    assert page.evaluate("JSON.parse(document.getElementById('embed-data').textContent).race") is None
    expect(page.locator("#legend li .name")).to_have_text(["SGD", "Momentum", "RMSProp", "Adam"])
    expect(page.locator("body")).to_have_attribute("data-complete", "1")
    # the last step is shown only once every racer's path has arrived up to it
    expect(page.locator(".player")).to_have_attribute("data-step", str(LARGE_STEPS))
    expect(page.locator("#counter")).to_have_text(f"{LARGE_STEPS} / {LARGE_STEPS}")
    assert page.evaluate("document.querySelector('.layer-race').toDataURL().length") > 5000
    assert calls == [("POST", "/api/race/stream")]
    page.keyboard.press("R")
    expect(page.locator(".player")).to_have_attribute("data-step", "0")
    page.keyboard.press("End")
    expect(page.locator(".player")).to_have_attribute("data-step", str(LARGE_STEPS))


def test_a_large_race_that_cannot_be_streamed_says_so_in_the_frame(browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url)  # not the watched page: the refused stream is a console error
    page = context.new_page()
    try:
        page.route("**/api/race/stream", lambda route: route.fulfill(status=503, json={"error": "server busy"}))
        open_embed(page, scene=LARGE_SCENE)
        expect(page.locator(".plot-status")).to_have_text("The race did not load: server busy")
        expect(page.locator("#legend li")).to_have_count(4)
        expect(page.locator("body")).not_to_have_attribute("data-complete", "1")
    finally:
        context.close()


# --- speed ------------------------------------------------------------------------------------------------------


def test_first_frame_is_marked_when_drawn(page: Page) -> None:
    """The embed marks its first drawn frame (benchmarks read the time; tests do not judge it)."""
    open_embed(page)
    assert page.evaluate("performance.getEntriesByName('optirace:embed-drawn').length") == 1


def _shot(name: str) -> str:
    folder = Path("/tmp/shots")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


def test_embed_in_a_deck_opened_from_a_file(browser, base_url: str) -> None:
    context = browser.new_context()  # not the watched page: the refusal is logged as a console error
    page = context.new_page()
    try:
        embed = quote(f"{base_url}/embed?{SCENE}", safe="")
        page.goto(f"{(DECK / 'plain.html').as_uri()}?embed={embed}")
        expect(page.frame_locator("#race").locator("body")).to_have_attribute("data-ready", "1", timeout=5000)
    finally:
        context.close()


def test_embed_snippet_writes_an_iframe_for_the_scene_and_its_options(page: Page) -> None:
    open_embed(page)
    snippet, options = page.evaluate(
        """async () => {
          const m = await import('/static/embed-snippet.js');
          const html = m.embedSnippet('?landscape=bowl&racer=adam;lr=0.1', { origin: 'https://race.example.org/',
            width: 800, height: 450, autoplay: true, loop: false, theme: 'dark', speed: 2,
            title: 'A "quoted" <race>' });
          const src = html.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
          return [html, m.parseEmbedOptions(new URL(src).search).options];
        }"""
    )
    assert snippet == (
        '<iframe src="https://race.example.org/embed?landscape=bowl&amp;racer=adam;lr=0.1&amp;autoplay=1&amp;theme=dark'
        '&amp;speed=2" width="800" height="450" title="A &quot;quoted&quot; &lt;race&gt;" style="border:0" '
        'loading="lazy" allow="fullscreen" allowfullscreen></iframe>'
    )
    assert options == {
        "autoplay": True,
        "loop": False,
        "controls": True,
        "theme": "dark",
        "speed": 2,
        "qr": False,
        "chart": "",
        "caption": "",
        "preset": "",
        "lrscale": 1,
        "vectors": False,
        "view": "2d",
    }


def test_embed_snippet_writes_and_reads_a_slides_caption_chart_and_live_controls(page: Page) -> None:
    open_embed(page)
    snippet, options = page.evaluate(
        """async () => {
          const m = await import('/static/embed-snippet.js');
          const html = m.embedSnippet('landscape=bowl', { controls: ['lr', 'lrscale'], chart: 'loss',
            caption: 'Too small crawls & too large diverges' });
          const src = html.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
          return [src, m.parseEmbedOptions(new URL(src, location.href).search).options];
        }"""
    )
    assert "controls=lr,lrscale" in snippet and "chart=loss" in snippet
    assert options["controls"] == ["lr", "lrscale"] and options["chart"] == "loss"
    assert options["caption"] == "Too small crawls & too large diverges"


# --- a slide's live controls ---------------------------------------------------------------------------------

# Every live control of the slide, its value field included: its box inside the frame and its centre not under
# anything else (elementFromPoint there is the control or inside it).
LIVE_CONTROLS_REACHABLE = """() => [...document.querySelectorAll('.live input, .live select')].map((e) => {
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return { name: e.getAttribute('aria-label') || e.closest('.param')?.querySelector('label')?.textContent || e.type,
           inside: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
             && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5,
           shown: !!hit && (hit === e || e.contains(hit)) };
})"""


@pytest.mark.parametrize("preset", [preset.id for preset in PRESETS])
@pytest.mark.parametrize(("width", "height"), [(960, 540), (1280, 720), (800, 600)])
def test_every_live_control_is_inside_the_frame_and_uncovered(page: Page, width: int, height: int, preset: str) -> None:
    """A demo's slide with its lr sliders, the lr multiplier and the loss chart: up to four racers, in a 16:9 or
    4:3 frame from 960 × 540 / 800 × 600 up, every control can be seen and used."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"/embed?preset={preset}&controls=lr,lrscale&chart=loss")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    racers = page.locator("#legend li").count()
    expect(page.locator(".live input[type=range]")).to_have_count(racers + 1)
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    controls = page.evaluate(LIVE_CONTROLS_REACHABLE)
    assert len(controls) == 2 * (racers + 1)  # a slider and its value field each
    assert [c["name"] for c in controls if not c["inside"]] == [], controls
    assert [c["name"] for c in controls if not c["shown"]] == [], controls
    sizes = page.evaluate("() => [document.body.scrollWidth, document.body.scrollHeight]")
    assert sizes == [width, height]
    # the last racer's slider works where it stands: a click at its right end raises its lr
    last = page.locator(".live input[type=range]").last
    before = last.input_value()
    box = last.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    expect(last).not_to_have_value(before)
