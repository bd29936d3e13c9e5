"""Inside a step, in a real Chromium: the ghost of the previous run, vectors on the map, the step
inspector and the 3D view, each checked against the API's step internals."""

from __future__ import annotations

import re

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
