"""The race page in a real Chromium: load, play, sliders, the map, landscapes, presets, the URL, keys."""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from core.presets import at_minimum
from core.race import run
from core.scene_url import scene_from_query

SHORT = "landscape=bowl&landscape.condition=10&steps=60&racer=sgd;lr=1&racer=rmsprop;lr=0.1"


def races_drawn(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.races || 0)"))


def wait_for_new_race(page: Page, before: int) -> None:
    page.wait_for_function("n => Number(document.body.dataset.races || 0) > n", arg=before)


def open_scene(page: Page, query: str = SHORT) -> None:
    page.goto(f"/?{query}")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))


def query_of(page: Page) -> dict[str, list[str]]:
    pairs: dict[str, list[str]] = {}
    for key, value in parse_qsl(urlsplit(page.url).query, keep_blank_values=True):
        pairs.setdefault(key, []).append(value)
    return pairs


def post(base_url: str, path: str, body: object) -> dict:
    request = urllib.request.Request(
        f"{base_url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())


def race_pixels(page: Page) -> str:
    return page.evaluate("document.querySelector('.layer-race').toDataURL()")


def test_page_loads_and_draws_the_default_race(page: Page, base_url: str) -> None:
    """No query: the server's default scene, every value written into the address."""
    with urllib.request.urlopen(f"{base_url}/api/presets") as reply:
        default_query = json.loads(reply.read())["presets"][0]["query"]  # the first demo
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(page).to_have_url(f"{base_url}/?{default_query}")
    expect(page.locator("#caption-title")).not_to_be_empty()
    racers = len(query_of(page)["racer"])
    expect(page.locator("#leaderboard-body tr")).to_have_count(racers)
    expect(page.locator(".racer")).to_have_count(racers)
    expect(page.locator(".plot-status")).to_be_hidden()


def test_the_first_race_and_contours_come_from_the_preloads(page: Page, watch) -> None:
    page.goto("/?landscape=saddle&steps=300&racer=sgd;lr=0.01&racer=adam;lr=1e-5")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    requests = page.evaluate(
        "() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/'))"
    )
    requests = [r for r in requests if "/api/race?" in r or "/contours?" in r]
    assert len([r for r in requests if "/api/race?" in r]) == 1, requests
    assert len([r for r in requests if "/contours?" in r]) == 1, requests
    links = page.eval_on_selector_all("link[rel=preload]", "links => links.map((l) => l.href)")
    assert sorted(links) == sorted(requests), (links, requests)
    assert not [w for w in watch.warnings if "preload" in w]


def test_play_runs_the_race_to_the_end(page: Page) -> None:
    open_scene(page)
    player = page.locator(".player")
    page.get_by_role("button", name="Reset").click()
    expect(player).to_have_attribute("data-step", "0")
    page.locator(".transport .play").click()
    expect(player).to_have_attribute("data-playing", "true")
    expect(player).to_have_attribute("data-step", "60", timeout=15_000)
    expect(player).to_have_attribute("data-playing", "false")
    expect(page.locator(".transport .counter")).to_have_text("60 / 60")
    expect(page.locator("#leaderboard-body tr[data-status=arrived]")).to_have_count(2)


def test_dragging_an_lr_slider_changes_the_paths_and_the_url(page: Page) -> None:
    open_scene(page)
    page.keyboard.press("End")
    expect(page.locator(".player")).to_have_attribute("data-step", "60")
    before_pixels = race_pixels(page)
    before = races_drawn(page)
    slider = page.locator(".racer").first.locator("[data-param=lr] input[type=range]")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.55, y)
    page.mouse.down()
    for fraction in (0.6, 0.65, 0.7, 0.75):
        page.mouse.move(box["x"] + box["width"] * fraction, y)
    page.mouse.up()
    wait_for_new_race(page, before)
    expect(page).not_to_have_url(re.compile(r"racer=sgd;lr=1;"))
    lr = float(query_of(page)["racer"][0].split(";")[1].removeprefix("lr="))
    expect(page.locator(".racer").first.locator("[data-param=lr] input.value")).to_have_value(re.compile(str(lr)))
    page.wait_for_function("p => document.querySelector('.layer-race').toDataURL() !== p", arg=before_pixels)
    expect(page.locator(".plot-status")).to_be_hidden()


def test_clicking_the_map_moves_the_start_and_reruns(page: Page) -> None:
    open_scene(page)
    before = races_drawn(page)
    plot = page.locator(".plot")
    box = plot.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    wait_for_new_race(page, before)
    x, y = (float(v) for v in query_of(page)["start"][0].split(","))
    assert x > 0 and y > 0, (x, y)
    expect(page.locator("[data-param=x] input.value")).to_have_value(str(query_of(page)["start"][0].split(",")[0]))


def test_dragging_the_start_marker_redraws_the_race_as_it_moves(page: Page) -> None:
    open_scene(page)
    before = races_drawn(page)
    length = page.evaluate("history.length")
    plot = page.locator(".plot")
    box = plot.bounding_box()
    assert box is not None
    sx, sy = (float(v) for v in plot.get_attribute("data-start-px").split(","))
    page.mouse.move(box["x"] + sx, box["y"] + sy)
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(box["x"] + sx + 10 * k, box["y"] + sy - 5 * k)
    page.mouse.up()
    wait_for_new_race(page, before)
    expect(page.locator("[data-param=x] input.value")).not_to_have_value("-4")
    x, y = (float(v) for v in query_of(page)["start"][0].split(","))
    assert x > -4 and y > 1.5, (x, y)
    assert page.evaluate("history.length") == length + 1  # one entry for the whole drag
    expect(page.locator(".player")).to_have_attribute("data-step", "60")  # the whole paths, not a replay


def test_switching_landscapes_rebuilds_the_controls_and_back_returns(page: Page) -> None:
    open_scene(page, "landscape=beale&steps=80&racer=adam;lr=0.1")
    before = races_drawn(page)
    page.get_by_label("Landscape", exact=True).select_option("rosenbrock")
    wait_for_new_race(page, before)
    expect(page).to_have_url(re.compile(r"\?landscape=rosenbrock&start=-1\.5,2&steps=80&"))
    expect(page.locator("#caption-title")).to_have_text("Rosenbrock")
    page.get_by_label("Landscape", exact=True).select_option("bowl")
    expect(page).to_have_url(re.compile(r"landscape=bowl&landscape\.condition=20&landscape\.angle=0&start=-4,1\.5"))
    expect(page.locator("[data-param=condition] input[type=range]")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?landscape=rosenbrock&"))
    expect(page.get_by_label("Landscape", exact=True)).to_have_value("rosenbrock")
    page.go_back()
    expect(page.get_by_label("Landscape", exact=True)).to_have_value("beale")
    page.go_forward()
    expect(page.get_by_label("Landscape", exact=True)).to_have_value("rosenbrock")


def test_every_preset_runs_and_shows_its_caption(page: Page) -> None:
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    options = page.locator("#preset option:not([disabled])")
    presets = [(options.nth(i).get_attribute("value"), options.nth(i).inner_text()) for i in range(options.count())]
    assert len(presets) >= 9
    for value, title in presets:
        if page.locator("#preset").input_value() == value:
            continue
        before = races_drawn(page)
        page.locator("#preset").select_option(value)
        wait_for_new_race(page, before)
        expect(page.locator("#caption-title")).to_have_text(title)
        expect(page.locator("#leaderboard-body tr")).to_have_count(len(query_of(page)["racer"]))
        expect(page.locator(".plot-status")).to_be_hidden()


def test_every_preset_tells_its_story(page: Page, base_url: str) -> None:
    """At the end of each demo, the leaderboard shows the race's own outcome for every racer (the captions'
    claims themselves are checked against the race in tests/core/test_presets.py)."""
    with urllib.request.urlopen(f"{base_url}/api/presets") as reply:
        presets = json.loads(reply.read())["presets"]
    for preset in presets:
        result = run(scene_from_query(preset["query"]))
        open_scene(page, preset["query"])
        expect(page.locator("#caption-title")).to_have_text(preset["title"])
        page.keyboard.press("End")
        expect(page.locator("#leaderboard-state")).to_have_text("Finished: ranked by the final gap f − f*")
        rows = page.locator("#leaderboard-body tr")
        expect(rows).to_have_count(len(result["racers"]))
        for index, racer in enumerate(result["racers"]):
            status = racer["status"]
            if status == "arrived" and not at_minimum(result, index, len(racer["path"]) - 1):
                status = "left"
            row = rows.filter(has=page.get_by_role("rowheader", name=racer["label"], exact=True))
            expect(row).to_have_attribute("data-status", status)


def test_a_shared_url_restores_the_exact_scene(page: Page, browser, base_url: str) -> None:
    open_scene(
        page,
        "landscape=bowl&landscape.condition=50&landscape.angle=30&steps=120&noise=0.2&seed=7"
        "&racer=adam;lr=0.05;beta1=0.8;schedule=cosine;label=Fast %2B furious;color=123456",
    )
    shared = page.url
    other = browser.new_context(base_url=base_url).new_page()
    errors: list[str] = []
    other.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    other.goto(shared)
    expect(other.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    assert other.url == shared
    card = other.locator(".racer").first
    expect(card.get_by_label("Racer 1 label")).to_have_value("Fast + furious")
    expect(card.locator("[data-param=beta1] input.value")).to_have_value("0.8")
    expect(card.locator("[data-param=T_max] input.value")).to_have_value("120")
    expect(other.locator("[data-param=angle] input.value")).to_have_value("30")
    other.context.close()
    assert not errors


def test_the_page_writes_queries_exactly_as_the_server(page: Page, base_url: str) -> None:
    """scene-url.js mirrors core/scene_url.py: fill every default, then write the same bytes."""
    page.goto("/")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    scenes = [
        "landscape=rosenbrock",
        "landscape=saddle&start=0.001,1.8&steps=7&noise=1e-05&l2=0.0001&racer=sgd;lr=1e-05",
        "landscape=bowl&landscape.condition=123.456&racer=adam;label=Adam %2B L2%253B é %2526 co;color=abcdef",
        "steps=37&racer=sgd;schedule=multistep&racer=momentum;schedule=onecycle&racer=rmsprop;schedule=cyclic"
        "&racer=adam;schedule=warmup_cosine&racer=adamw;schedule=inverse_sqrt&racer=nesterov;schedule=step"
        "&racer=adagrad;schedule=linear&racer=nadam;schedule=cosine_restarts&racer=radam;schedule=polynomial"
        "&racer=adamax;schedule=exponential&racer=adadelta;schedule=cosine&racer=lion&racer=newton&racer=amsgrad",
        "steps=1&racer=sgd;schedule=step&racer=sgd;schedule=warmup_cosine&racer=sgd;schedule=inverse_sqrt",
        "landscape=plateau&landscape.width=0.75&seed=4294967295&l1=0.5&racer=sgd;lr=3.3333333333333335",
    ]
    for query in scenes:
        result = page.evaluate(
            """async (q) => {
                const { createCodec } = await import('/static/scene-url.js');
                const codec = createCodec(JSON.parse(document.getElementById('page-data').textContent));
                const { scene, warnings } = codec.parse(q);
                return { scene, warnings, query: codec.toQuery(scene) };
            }""",
            query,
        )
        assert result["warnings"] == [], (query, result["warnings"])
        # the server reads the same raw query (scene_from_query, filled) ...
        with urllib.request.urlopen(f"{base_url}/api/race?{quote(query, safe='=&;,.:%+-_~')}") as reply:
            server_scene = json.loads(reply.read())["scene"]
        # ... and writes it (scene_to_query) byte for byte as the page does
        assert post(base_url, "/api/scene/query", server_scene)["query"] == result["query"], query
        assert post(base_url, "/api/scene/query", result["scene"])["query"] == result["query"], query


def test_out_of_range_values_fall_back_to_defaults_with_a_warning(page: Page, watch) -> None:
    page.goto("/?landscape=bowl&landscape.condition=1e9&steps=-3&start=99,99&racer=adam;lr=-1;beta1=1&racer=nope")
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))
    expect(page).to_have_url(re.compile(r"landscape\.condition=20&landscape\.angle=0&start=-4,1\.5&steps=500&"))
    expect(page).to_have_url(re.compile(r"racer=adam;lr=0\.001;beta1=0\.9;"))
    assert any("condition" in w for w in watch.warnings)
    assert any("nope" in w for w in watch.warnings)
    expect(page.locator(".racer")).to_have_count(1)


def test_keyboard_plays_steps_resets_and_opens_help(page: Page) -> None:
    open_scene(page)
    player = page.locator(".player")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("r")
    expect(player).to_have_attribute("data-step", "0")
    page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-step", "1")
    page.keyboard.press("ArrowRight")
    expect(player).to_have_attribute("data-step", "2")
    page.keyboard.press("Space")
    expect(player).to_have_attribute("data-playing", "true")
    page.keyboard.press("Space")
    expect(player).to_have_attribute("data-playing", "false")
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()


def test_controls_are_labelled_and_focus_is_visible(page: Page) -> None:
    open_scene(page)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button')].filter((el) => {
            if (el.closest('dialog') && !el.closest('dialog').open) return false;
            const name = el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent)
                || el.textContent || el.title;
            return !name || !name.trim();
        }).map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_copy_as_pytorch_gives_the_whole_scene_as_a_script(page: Page, base_url: str) -> None:
    open_scene(page, "steps=200&racer=adam;lr=0.05;beta2=0.99;schedule=cosine&racer=lion;lr=0.01")
    page.get_by_role("button", name="Copy racer 1 as PyTorch").click()
    code = page.locator("#code-text")
    expect(code).to_contain_text(
        "torch.optim.Adam(params, lr=0.05, betas=(0.9, 0.99), eps=1e-08, weight_decay=0.0, amsgrad=False)"
    )
    expect(code).to_contain_text("CosineAnnealingLR(optimizer, T_max=200, eta_min=0.0)")
    expect(code).to_contain_text("class Lion(torch.optim.Optimizer):")
    expect(page.locator("#code-status")).to_contain_text("Copied to the clipboard")
    with urllib.request.urlopen(f"{base_url}/api/pytorch?{urlsplit(page.url).query}") as reply:
        script = reply.read().decode()
    assert page.evaluate("navigator.clipboard.readText()") == script


def test_share_copies_the_link(page: Page) -> None:
    """Share copies the scene's short link (test_share.py: the dialog, its QR code); the full link is there too."""
    open_scene(page)
    page.get_by_role("button", name="Share").click()
    expect(page.locator("#share-status")).to_contain_text("Short link copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{8,10}", copied)
    expect(page.locator("#share-full")).to_have_value(page.url)


def test_embed_gives_an_iframe_of_this_race_that_plays(page: Page) -> None:
    open_scene(page)
    page.get_by_role("button", name="Embed").click()
    expect(page.locator("#embed-dialog")).to_be_visible()
    page.get_by_role("button", name="Copy the iframe").click()
    snippet = page.evaluate("navigator.clipboard.readText()")
    query = page.url.split("?", 1)[1]
    assert snippet.startswith("<iframe src=") and f"/embed?{query}".replace("&", "&amp;") in snippet
    expect(page.locator("#embed-code")).to_have_text(snippet)
    src = snippet.split('src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    page.goto(src)
    expect(page.locator("body")).to_have_attribute("data-ready", "1")


def test_hover_reads_out_loss_and_gradient(page: Page) -> None:
    open_scene(page)
    box = page.locator(".plot").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.4)
    expect(page.locator("#readout")).to_contain_text("∇f = (")


def test_theme_toggle_switches_light_and_dark(page: Page) -> None:
    open_scene(page)
    html = page.locator("html")
    page.locator("#theme").click()
    expect(html).to_have_attribute("data-theme", "light")
    page.locator("#theme").click()
    expect(html).to_have_attribute("data-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 25)"


def test_switching_theme_reinks_the_leaderboard_markers(page: Page) -> None:
    """Lion's black marker: black on the light theme, lightened as soon as the theme turns dark."""
    page.emulate_media(color_scheme="light")
    open_scene(page, "landscape=bowl&steps=30&racer=lion;lr=0.1;color=000000")
    centre = """() => {
        const marker = document.querySelector('#leaderboard-body canvas.marker');
        const [x, y] = [marker.width >> 1, marker.height >> 1];
        return Array.from(marker.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3));
    }"""
    assert page.evaluate(centre) == [0, 0, 0]
    page.locator("#theme").click()  # auto → light
    page.locator("#theme").click()  # light → dark
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert min(page.evaluate(centre)) > 90


def test_racers_can_be_added_and_removed(page: Page) -> None:
    open_scene(page)
    page.get_by_label("Add", exact=True).select_option("nesterov")
    page.get_by_role("button", name="+ Add racer").click()
    expect(page.locator(".racer")).to_have_count(3)
    expect(page).to_have_url(
        re.compile(
            r"racer=nesterov;lr=0\.1;momentum=0\.9;weight_decay=0;schedule=constant;"  # bowl's suggested lr
            r"label=Nesterov;color=56b4e9"
        )
    )
    page.get_by_role("button", name="Remove racer 1").click()
    expect(page.locator(".racer")).to_have_count(2)
    expect(page).not_to_have_url(re.compile(r"racer=sgd"))


def test_an_lbfgs_racer_can_be_added_and_given_a_line_search(page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    open_scene(page)
    page.get_by_label("Add", exact=True).select_option("lbfgs")
    page.get_by_role("button", name="+ Add racer").click()
    expect(page.locator(".racer")).to_have_count(3)
    expect(page).to_have_url(
        re.compile(r"racer=lbfgs;lr=[^;&]+;history_size=100;line_search_fn=none;[^&]*label=L-BFGS")
    )
    card = page.locator(".racer").nth(2)
    card.locator("details.more > summary").click()
    choice = card.locator("[data-param=line_search_fn] select")
    expect(choice).to_have_value("none")
    choice.select_option("strong_wolfe")
    expect(page).to_have_url(re.compile(r"racer=lbfgs;[^&]*line_search_fn=strong_wolfe"))
    expect(page.locator("#leaderboard-body tr")).to_have_count(3)
    page.reload()  # the choice comes back from the URL
    expect(page.locator(".racer").nth(2).locator("[data-param=line_search_fn] select")).to_have_value("strong_wolfe")
    assert not errors


def test_no_two_tick_labels_of_a_racer_card_overlap(page: Page) -> None:
    """L-BFGS's tolerances span 12 and 15 decades: their sliders label the ends and one power between, not six
    labels on top of each other; every other slider of the cards keeps its labels apart too."""
    open_scene(page)
    page.get_by_label("Add", exact=True).select_option("lbfgs")
    page.get_by_role("button", name="+ Add racer").click()
    card = page.locator(".racer").nth(2)
    card.locator("details.more > summary").click()
    expect(card.locator("[data-param=tolerance_change] .ticks span")).to_have_text(["1e-15", "1e-8", "1"])
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll('.racer .ticks')].flatMap((ticks) => {
            const boxes = [...ticks.querySelectorAll('span')].map((s) => s.getBoundingClientRect())
              .filter((b) => b.width > 0);
            const param = ticks.closest('[data-param]')?.dataset.param;
            return boxes.slice(1).filter((b, i) => b.left < boxes[i].right).map(() => param);
        })"""
    )
    assert overlaps == []


def test_sweep_panel_draws_the_sensitivity(page: Page) -> None:
    open_scene(page)
    page.locator("#sweep-panel summary").click()
    expect(page.locator("#sweep-status")).to_contain_text("Final loss gap")


@pytest.mark.parametrize("steps", [5000])
def test_a_long_race_streams_and_draws(page: Page, steps: int) -> None:
    open_scene(
        page,
        f"landscape=rosenbrock&steps={steps}&racer=sgd;lr=0.001&racer=momentum;lr=0.001"
        "&racer=rmsprop;lr=0.003&racer=adam;lr=0.05",
    )
    page.keyboard.press("End")
    expect(page.locator(".player")).to_have_attribute("data-step", str(steps))
    expect(page.locator("#leaderboard-body tr[data-status=arrived]")).to_have_count(2)
    expect(page.locator("#leaderboard-body tr").first).to_contain_text("Momentum")


class Finger:
    """Touch events through Chromium's input pipeline, as a finger sends them (one CDP session: one touch)."""

    def __init__(self, page: Page):
        self.session = page.context.new_cdp_session(page)

    def __call__(self, kind: str, x: float | None = None, y: float | None = None) -> None:
        points = [] if x is None else [{"x": x, "y": y}]
        self.session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})


def test_a_finger_drags_the_start_marker_and_reads_out_where_it_slides(phone: Page) -> None:
    open_scene(phone)
    plot = phone.locator(".plot")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    assert box is not None
    sx, sy = (float(v) for v in plot.get_attribute("data-start-px").split(","))
    x0, y0 = box["x"] + sx, box["y"] + sy
    scroll = phone.evaluate("scrollY")
    before = races_drawn(phone)
    touch = Finger(phone)
    touch("touchStart", x0, y0)
    for k in range(1, 9):  # to the right and upwards: a finger that would scroll the page down
        touch("touchMove", x0 + 8 * k, y0 - 6 * k)
    expect(phone.locator("#readout")).to_contain_text("∇f = (")
    touch("touchEnd")
    wait_for_new_race(phone, before)
    x, y = (float(v) for v in query_of(phone)["start"][0].split(","))
    assert x > -4 and y > 1.5, (x, y)
    assert phone.evaluate("scrollY") == scroll  # the page did not scroll under the finger


def test_dark_racer_colours_are_lightened_on_a_dark_theme_only(page: Page) -> None:
    open_scene(page)
    ink = """async (colours) => {
        const { readTheme } = await import('/static/plot.js');
        const theme = readTheme();
        return colours.map((c) => theme.ink(c));
    }"""
    colours = ["#000000", "#332288", "#e69f00", "#56b4e9"]
    page.emulate_media(color_scheme="light")
    assert page.evaluate(ink, colours) == colours
    page.emulate_media(color_scheme="dark")
    black, indigo, gold, sky = page.evaluate(ink, colours)
    assert (gold, sky) == ("#e69f00", "#56b4e9")  # bright enough as they are
    assert black == "rgb(114.75,114.75,114.75)" and indigo.startswith("rgb(")
