"""The custom landscape's formula field in a real Chromium: type a formula, see the map and the race redrawn;
a bad formula shows its error in place and never reaches the scene; the URL keeps the formula."""

from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.e2e.test_page import open_scene, query_of, race_pixels, races_drawn, wait_for_new_race

BOWL = "x^2 + 10*y^2"
RING = "(x^2 + y^2 - 4)^2 + 0.5*(x^3 - 3*x*y^2)"
START = f"landscape=custom&landscape.f={quote(BOWL)}&steps=80&racer=sgd;lr=0.05&racer=adam;lr=0.2"


def forgive_refused_checks(watch) -> None:
    """A refused formula is the check's 422, which Chromium logs as a failed resource: expected here, nothing else."""
    watch.errors[:] = [e for e in watch.errors if "status of 422" not in e]


def test_typed_formula_redraws_the_map_and_the_race(page: Page, watch) -> None:
    open_scene(page, START)
    field = page.locator(".formula-field")
    expect(field).to_have_value(BOWL)
    expect(page.locator(".formula-note")).to_contain_text("1 minimum")
    plot = page.locator(".plot")
    expect(plot).to_have_attribute("aria-label", re.compile(re.escape(BOWL)))
    before, pixels = races_drawn(page), race_pixels(page)
    with page.expect_response(lambda r: "/api/landscapes/custom/contours" in r.url and "f=%28x%5E2" in r.url) as c:
        field.fill(RING)
        field.press("Enter")
    assert c.value.ok
    assert len(c.value.json()["saddles"]) == 3  # drawn on the map as ×
    wait_for_new_race(page, before)
    expect(page).to_have_url(re.compile(r"landscape\.f=%28x%5E2%20%2B%20y%5E2%20-%204%29%5E2"))
    assert query_of(page)["landscape.f"] == [RING]
    expect(plot).to_have_attribute("aria-label", re.compile(re.escape(RING)))
    expect(page.locator(".formula-note")).to_contain_text("3 minima, saddles at")
    assert race_pixels(page) != pixels
    page.locator(".formula-derivatives summary").click()
    expect(page.locator(".formula-derivatives")).to_contain_text("∂²f/∂x∂y = 8·x·y - 3·y")


def test_bad_formula_shows_its_error_in_place(page: Page, watch) -> None:
    open_scene(page, START)
    url = page.url
    field = page.locator(".formula-field")
    expect(page.locator(".formula-note")).to_contain_text("1 minimum")
    field.fill("x^2 + os*y")
    note = page.locator(".formula-note")
    expect(note).to_have_attribute("data-state", "error")
    expect(note).to_contain_text("unknown name 'os' at 7")
    expect(note.locator("mark")).to_have_text("o")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".formula-derivatives")).to_be_hidden()
    field.press("Enter")  # a refused formula is not committed
    expect(note).to_contain_text("unknown name 'os' at 7")
    assert page.url == url
    field.fill("x^2 + y^2")
    expect(note).to_have_attribute("data-state", "ok")
    expect(field).to_have_attribute("aria-invalid", "false")
    forgive_refused_checks(watch)


def test_example_sets_the_formula_and_its_domain(page: Page) -> None:
    open_scene(page, START)
    before = races_drawn(page)
    page.get_by_role("button", name="Rosenbrock").click()
    wait_for_new_race(page, before)
    query = query_of(page)
    assert query["landscape.f"] == ["(1 - x)^2 + 100*(y - x^2)^2"]
    assert (query["landscape.x"], query["landscape.y"]) == (["-2,2"], ["-1,3"])
    expect(page.locator(".param-range input").first).to_have_value("-2,2")


def test_formula_link_reopens_the_same_scene(page: Page) -> None:
    open_scene(page, f"landscape=custom&landscape.f={quote(RING)}&landscape.x=-2.5,2.5&steps=60")
    expect(page.locator(".formula-field")).to_have_value(RING)
    query = query_of(page)
    assert query["landscape.x"] == ["-2.5,2.5"] and query["landscape.y"] == ["-3,3"]
    assert query["start"] == ["-2,-2.4"]  # a tenth into the domain, as the server's default


BEALE_DOMAIN = "landscape.x=-4.5,4.5&landscape.y=-4.5,4.5&start=1,1.5"


def test_a_builtins_formula_text_pastes_as_the_page_shows_it(page: Page, watch) -> None:
    """A teacher copies Beale's formula from its own page, (1.5 − x + xy)² + …, and pastes it in the field."""
    open_scene(page, "landscape=beale&steps=80&racer=adam;lr=0.2")
    shown = page.locator("p.formula").inner_text()
    assert shown.startswith("f(x, y) = (1.5 − x + xy)²")
    text = shown.removeprefix("f(x, y) = ")
    open_scene(page, f"landscape=custom&landscape.f={quote(BOWL)}&{BEALE_DOMAIN}&steps=80&racer=adam;lr=0.2")
    expect(page.locator(".formula-help")).to_contain_text("as on a slide")
    field = page.locator(".formula-field")
    expect(page.locator(".formula-note")).to_contain_text("1 minimum")
    before, pixels = races_drawn(page), race_pixels(page)
    field.fill(text)
    field.press("Enter")
    wait_for_new_race(page, before)
    assert query_of(page)["landscape.f"] == [text]
    expect(page.locator(".plot")).to_have_attribute("aria-label", re.compile(re.escape(text)))
    expect(page.locator(".formula-note")).to_have_attribute("data-state", "ok")
    expect(page.locator(".formula-note")).to_contain_text("1 minimum")
    assert race_pixels(page) != pixels


def test_a_lookalike_letter_is_marked_where_it_stands(page: Page, watch) -> None:
    """A Cyrillic х pasted among Latin letters: the note names it and marks it; nothing reaches the scene."""
    open_scene(page, START)
    url = page.url
    field = page.locator(".formula-field")
    expect(page.locator(".formula-note")).to_contain_text("1 minimum")
    field.fill("(1.5 − x + xy)² + (2.25 − х + xy²)²")  # the second х is CYRILLIC SMALL LETTER HA
    note = page.locator(".formula-note")
    expect(note).to_have_attribute("data-state", "error")
    expect(note).to_contain_text("unexpected character 'х' at 27; it looks like 'x' but is CYRILLIC SMALL LETTER HA")
    expect(note.locator("mark")).to_have_text("х")
    field.press("Enter")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert page.url == url
    field.fill("1/2x + y²")
    expect(note).to_contain_text("a product right after a division is ambiguous at 4; write (1/2)*x or 1/(2x)")
    expect(note.locator("mark")).to_have_text("x")
    forgive_refused_checks(watch)
