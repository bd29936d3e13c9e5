"""Short links on the page, in a real Chromium: Share shows the short link and its QR code, qr=1 keeps them in a
corner (page and embed), and opening /s/{id} restores the scene. Each QR code is read back from a screenshot of
what Chromium drew (zxing-cpp), so the SVG is checked as a browser renders it."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from urllib.parse import quote

import zxingcpp
from PIL import Image
from playwright.sync_api import Locator, Page, expect

SCENE = "landscape=saddle&steps=120&racer=sgd;lr=0.05&racer=momentum;lr=0.05"
SHORT_URL = re.compile(r"^http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{8,10}$")
FIRST_LOAD_GZIP_BYTES = 80 * 1024


def drawn(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-races", re.compile(r"^[1-9]"))


def read_qr(image: Locator) -> str:
    """The text of the QR code that ``image`` shows on screen."""
    expect(image).to_be_visible()
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))
    assert [r.format for r in results] == [zxingcpp.BarcodeFormat.QRCode]
    return results[0].text


def create_link(base_url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/links", data=query.encode(), headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())


def test_share_shows_the_short_link_and_its_qr_code(page: Page, base_url: str) -> None:
    page.goto(f"/?{SCENE}")
    drawn(page)
    page.click("#share")
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("data-state", "ready")
    link = page.locator("#share-url")
    href = link.get_attribute("href")
    assert href and SHORT_URL.match(href)
    expect(link).to_have_text(href.removeprefix("http://"))
    assert read_qr(page.locator("#share-qr")) == href
    expect(page.locator("#share-status")).to_contain_text("copied")
    assert page.evaluate("navigator.clipboard.readText()") == href
    assert create_link(base_url, SCENE)["url"].endswith(href.rsplit("/", 1)[1])  # the same scene, the same link
    page.click("#share-dialog .close")
    expect(dialog).to_be_hidden()


def test_share_on_a_phone_fits_the_screen(phone: Page) -> None:
    phone.goto(f"/?{SCENE}")
    drawn(phone)
    phone.click("#share")
    expect(phone.locator("#share-dialog")).to_have_attribute("data-state", "ready")
    box = phone.locator("#share-dialog").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    qr = phone.locator("#share-qr").bounding_box()
    assert qr and qr["width"] >= 200  # large enough for another phone to read off this one
    assert read_qr(phone.locator("#share-qr")) == phone.locator("#share-url").get_attribute("href")


def test_opening_a_short_link_restores_the_scene(page: Page, base_url: str) -> None:
    link = create_link(base_url, SCENE)
    page.goto(f"/s/{link['id']}")
    drawn(page)
    expect(page).to_have_url(f"{base_url}/?{link['query']}")
    expect(page.locator("#caption-title")).to_have_text(re.compile("saddle", re.IGNORECASE))
    expect(page.locator("#leaderboard-body tr")).to_have_count(2)
    expect(page.locator(".racer")).to_have_count(2)


def test_the_share_modules_load_on_demand_and_the_first_load_stays_small(page: Page) -> None:
    loaded: list[tuple[str, int]] = []

    def record(response) -> None:
        if response.request.resource_type in ("document", "script", "stylesheet"):
            loaded.append((response.url, response.request.sizes()["responseBodySize"]))

    page.on("requestfinished", lambda request: record(request.response()))
    page.goto(f"/?{SCENE}")
    drawn(page)
    page.wait_for_load_state("networkidle")
    first = list(loaded)
    assert not [url for url, _ in first if "/static/share" in url]
    total = sum(size for _, size in first)
    assert 0 < total <= FIRST_LOAD_GZIP_BYTES, f"{total} bytes: {first}"
    page.click("#share")
    expect(page.locator("#share-dialog")).to_have_attribute("data-state", "ready")
    later = [url for url, _ in loaded[len(first) :]]
    assert any(url.endswith("/static/share.js") for url in later)
    assert any(url.endswith("/static/share.css") for url in later)


def test_qr_1_shows_the_short_link_and_its_qr_code_in_a_corner(page: Page, base_url: str) -> None:
    page.goto(f"/?{SCENE}&qr=1")
    drawn(page)
    corner = page.locator(".share-corner")
    expect(corner).to_have_attribute("data-state", "ready")
    link = create_link(base_url, SCENE)
    expect(corner.locator(".share-corner-url")).to_have_text(link["url"].removeprefix("http://"))
    assert read_qr(corner.locator("img")) == link["url"]
    expect(page).to_have_url(f"{base_url}/?{link['query']}&qr=1")  # the option stays in the address
    box = corner.bounding_box()
    assert box and box["x"] + box["width"] > 1400 - 40 and box["y"] + box["height"] > 900 - 40  # bottom right
    # another scene: the corner follows with the new scene's link
    page.select_option("#preset", index=2)
    expect(page).not_to_have_url(f"{base_url}/?{link['query']}&qr=1")
    expect(page).to_have_url(re.compile(r"&qr=1$"))
    other = create_link(base_url, page.url.split("?", 1)[1].removesuffix("&qr=1"))
    assert other["id"] != link["id"]
    expect(corner).to_have_attribute("data-id", other["id"])
    assert read_qr(corner.locator("img")) == other["url"]


def test_the_embed_shows_the_corner_qr_code_with_qr_1(page: Page, base_url: str) -> None:
    link = create_link(base_url, SCENE)
    page.goto(f"/embed?{SCENE}&qr=1&autoplay=0")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    corner = page.locator(".share-corner")
    expect(corner).to_have_attribute("data-state", "ready")
    assert read_qr(corner.locator("img")) == link["url"]
    page.goto(f"/embed?{quote(SCENE, safe='=&;,')}")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator(".share-corner")).to_have_count(0)  # only when asked


def test_presenter_mode_shows_the_qr_code_in_a_corner_on_q(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"/?{SCENE}&present=1")
    drawn(page)
    expect(page.locator("body")).to_have_class(re.compile(r"\bpresent\b"))
    expect(page.locator(".share-corner")).to_have_count(0)  # only when asked
    page.keyboard.press("q")
    corner = page.locator(".share-corner")
    expect(corner).to_have_attribute("data-state", "ready")
    link = create_link(base_url, SCENE)
    assert read_qr(corner.locator("img")) == link["url"]
    expect(page).to_have_url(re.compile(r"[?&]qr=1(&|$)"))  # kept in the address, with presenter mode
    expect(page).to_have_url(re.compile(r"[?&]present=1(&|$)"))
    box = corner.bounding_box()
    assert box and box["x"] + box["width"] <= 1920 and box["y"] + box["height"] <= 1080  # on screen
    assert box["width"] >= 150  # readable from the back of the hall
    page.keyboard.press("q")
    expect(corner).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"[?&]qr=1(&|$)"))
