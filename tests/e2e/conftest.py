"""Browser tests: uvicorn on a free localhost port, Debian's Chromium driven by Playwright.

Without Chromium the browser tests skip with a reason, except under CI=true, where they fail.
Every page is watched: a request to anything but the test server is aborted and recorded, and a
console error or an uncaught exception fails the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from server.local import CHROMIUM_ARGS, serving

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    """``optirace serve`` in a subprocess on a free loopback port."""
    with serving() as server:
        yield server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        reason = "Chromium is not installed (apt-get install -y chromium); the browser tests need it"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """What a page did that it must not: console errors, uncaught exceptions, foreign requests."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.foreign: list[str] = []

    def attach(self, page) -> None:
        """Record the page's console errors and warnings and its uncaught exceptions."""
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            (self.errors if message.type == "error" else self.warnings).append(message.text)


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


def watched_page(browser, base_url: str, watch: PageWatch, **context_options) -> Iterator[object]:
    """A page of a fresh context whose requests, console and exceptions ``watch`` records."""
    options = {"viewport": {"width": 1400, "height": 900}, **context_options}
    context = browser.new_context(base_url=base_url, **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)

    def route(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            watch.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch.attach(page)
    yield page
    context.close()
    assert not watch.foreign, f"requests left localhost: {watch.foreign}"
    assert not watch.errors, f"console errors: {watch.errors}"


@pytest.fixture
def page(browser, base_url: str, watch: PageWatch) -> Iterator[object]:
    yield from watched_page(browser, base_url, watch)


@pytest.fixture
def phone(browser, base_url: str, watch: PageWatch) -> Iterator[object]:
    """A touch screen 390 px wide, as a phone's."""
    yield from watched_page(browser, base_url, watch, viewport={"width": 390, "height": 844}, has_touch=True)
