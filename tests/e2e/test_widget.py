"""The notebook widget in a real JupyterLab, in headless Chromium: the map is drawn, a slider races again in the kernel.

A JupyterLab server starts on a free loopback port with a token, in a temporary folder holding one notebook,
and stops after the test. Without JupyterLab installed the test skips with a reason, except under CI=true.
Every request the page makes must stay on the loopback server (no CDN: the widget's module is inline).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from server.local import free_port
from tests.e2e.conftest import LOCAL_HOSTS, PageWatch

CELLS = [
    "import optirace\n"
    "widget = optirace.widget(landscape='bowl', steps=120, racers=[('sgd', {'lr': 0.05}), ('adam', {'lr': 0.1})])\n"
    "widget",
    "print('kernel lr:', widget.scene['racers'][0]['params']['lr'])",
]


def _require_jupyterlab() -> None:
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        reason = "JupyterLab is not installed (pip install -e '.[test]'); the widget's browser test needs it"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture
def jupyter(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab on a free loopback port with a token, rooted in a temp folder with widget.ipynb; (url, token)."""
    _require_jupyterlab()
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, tmp_path / "widget.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / "home"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.open_browser=False",
        "--allow-root",  # CI runs as root
        "--LabApp.extension_manager=readonly",  # no listing from PyPI
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (tmp_path / "jupyter.log").open("wb")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start: {(tmp_path / 'jupyter.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _painted_pixels(page, selector: str) -> int:
    """How many pixels of the canvas differ from its first pixel (a blank canvas has none)."""
    return page.evaluate(
        """(selector) => {
            const canvas = document.querySelector(selector);
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4) {
                if ([0, 1, 2, 3].some((c) => data[i + c] !== data[c])) count++;
            }
            return count;
        }""",
        selector,
    )


def test_the_widget_draws_the_race_and_a_slider_races_again_in_the_kernel(
    browser, jupyter: tuple[str, str], watch: PageWatch
) -> None:
    url, token = jupyter
    context = browser.new_context(viewport={"width": 1400, "height": 1000})

    def route(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            watch.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
    try:
        page.goto(f"{url}/lab/tree/widget.ipynb?token={token}")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=120_000)  # the kernel is ready
        page.locator(".jp-Cell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        widget = page.locator(".optirace-widget")
        widget.wait_for(timeout=120_000)
        page.wait_for_function(
            "() => document.querySelector('.optirace-widget')?.dataset.races === '1'", timeout=120_000
        )
        map_layer = ".optirace-widget canvas.layer-map"
        page.wait_for_function(
            "(s) => { const c = document.querySelector(s); return c && c.width > 100 && c.height > 100; }",
            arg=map_layer,
        )
        assert _painted_pixels(page, map_layer) > 10_000, "the contour map is blank"
        page.locator(".optirace-widget .transport .play").click()  # pause (it autoplays), then scrub to the end
        page.locator(".optirace-widget .transport .scrubber").fill("120")
        assert _painted_pixels(page, ".optirace-widget canvas.layer-race") > 200, "no paths drawn"
        assert page.locator(".optirace-widget .transport .counter").inner_text() == "120 / 120"
        page.screenshot(path="/tmp/optirace-widget-jupyterlab.png")

        # The first racer's learning-rate slider: let go at 10^-1.5, the kernel races again and says so.
        slider = page.locator(".optirace-widget .ow-slider[data-racer='0'] input")
        slider.fill("-1.5")
        page.wait_for_function(
            "() => document.querySelector('.optirace-widget')?.dataset.races === '2'", timeout=120_000
        )
        page.locator(".jp-Cell").nth(1).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        output = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
        output.wait_for(timeout=60_000)
        text = output.inner_text()
        lr = float(text.split("kernel lr:")[1].split()[0])
        assert lr == pytest.approx(10**-1.5), text
        assert _painted_pixels(page, map_layer) > 10_000
        page.screenshot(path="/tmp/optirace-widget-jupyterlab-after-slider.png")
        assert not watch.foreign, f"requests left the loopback server: {watch.foreign}"
        assert not [e for e in watch.errors if "optirace" in e.lower() or "widget" in e.lower()], watch.errors
    finally:
        context.close()


def test_the_widget_module_is_self_contained() -> None:
    """What the notebook loads imports nothing: no CDN, no server; the page's modules are inside it."""
    from optirace.notebook import css, esm

    module = esm()
    assert "export default __m_widget;" in module
    assert not [line for line in module.splitlines() if line.startswith("import ")]
    for name in ("player.js", "charts.js", "race.js", "plot.js", "animate.js"):
        assert f"// --- {name}" in module
    assert "http://" not in module and "https://" not in module
    assert ":root" not in css()
    json.dumps(module)  # travels as a JSON string in the widget's state
