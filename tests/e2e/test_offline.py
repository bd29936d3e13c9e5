"""The offline HTML export in a real Chromium: opened from file:// with the network cut, it plays to the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from server.cli import main
from tests.e2e.conftest import PageWatch

SCENE = "landscape=rosenbrock&steps=300&racer=sgd;lr=0.001&racer=momentum;lr=0.001&racer=adam;lr=0.05"
STEPS = 300
LOCAL_SCHEMES = ("file:", "data:", "blob:")


@pytest.fixture(scope="module")
def race_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``optirace export <scene> --format html -o race.html``, timed."""
    path = tmp_path_factory.mktemp("offline") / "race.html"
    started = time.perf_counter()
    assert main(["export", SCENE, "--format", "html", "-o", str(path)]) == 0
    elapsed = time.perf_counter() - started
    print(f"offline export: {path.stat().st_size} bytes in {elapsed * 1000:.0f} ms")
    return path


class Offline(PageWatch):
    """A watched page's record, plus every request it made and those refused for leaving the machine."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []
        self.refused: list[str] = []


@pytest.fixture
def offline(browser) -> Iterator[tuple[Page, Offline]]:
    """A page with the network cut: offline, and every request that is not file:, data: or blob: aborted."""
    seen = Offline()
    context = browser.new_context(viewport={"width": 1280, "height": 720}, offline=True)

    def route(route) -> None:
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            seen.refused.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("request", lambda request: seen.requests.append(request.url))
    seen.attach(page)
    yield page, seen
    context.close()
    assert not seen.refused, f"the offline file asked the network for: {seen.refused}"
    assert all(url.startswith(LOCAL_SCHEMES) for url in seen.requests), seen.requests
    assert not seen.errors, seen.errors


def test_offline_file_plays_to_the_end(offline, race_file: Path) -> None:
    page, seen = offline
    page.goto(f"{race_file.as_uri()}?speed=8")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(page.locator("#legend li .name")).to_have_text(["SGD", "Momentum", "Adam"])
    expect(page.locator(".player")).to_have_attribute("data-step", "0")
    page.keyboard.press("Space")
    expect(page.locator(".player")).to_have_attribute("data-step", str(STEPS))
    expect(page.locator("body")).to_have_attribute("data-playing", "false")
    expect(page.locator("#counter")).to_have_text(f"{STEPS} / {STEPS}")
    assert seen.requests == [race_file.as_uri() + "?speed=8"]
    page.screenshot(path=_shot("offline-1280x720.png"))


def test_offline_file_takes_the_embed_options_in_its_query(offline, race_file: Path) -> None:
    page, _ = offline
    page.goto(f"{race_file.as_uri()}?autoplay=1&speed=8&controls=0&theme=dark")
    expect(page.locator(".player")).to_have_attribute("data-step", str(STEPS))
    expect(page.locator("#bar")).to_be_hidden()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_offline_file_keeps_the_exports_options(offline, tmp_path: Path) -> None:
    page, _ = offline
    path = tmp_path / "dark.html"
    assert (
        main(
            [
                "export",
                "landscape=bowl&steps=40&racer=adam;lr=0.3",
                "-o",
                str(path),
                "--theme",
                "dark",
                "--autoplay",
                "1",
                "--loop",
                "1",
                "--controls",
                "0",
            ]
        )
        == 0
    )
    page.goto(f"{path.as_uri()}?speed=8")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator("#bar")).to_be_hidden()
    expect(page.locator(".player")).to_have_attribute("data-step", "40")
    expect(page.locator("body")).to_have_attribute("data-playing", "true", timeout=5000)  # looped


def _shot(name: str) -> str:
    folder = Path("/tmp/shots")
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)
