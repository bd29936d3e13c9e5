"""Benchmark the race page in a real Chromium: medians over several runs.

Run from the repository root:  python bench/bench_page.py [--runs 7] [--url http://127.0.0.1:8000]

Without --url it serves server.app:app with uvicorn on a free localhost port. Four numbers (the
page issue's targets in brackets):
  1. navigation to the first drawn race, fresh browser context each run (cold cache)   [≤ 500 ms]
  2. an lr slider's input event to the redrawn paths, default scene, one input at a time [≤ 50 ms]
     (and, for a continuous 60 Hz drag, how many races are drawn per second)
  3. work per animation frame while 8 racers × 5000 steps play, p50 and p95           [≤ 16 ms p95]
     (every requestAnimationFrame callback timed; frame intervals reported beside)
  4. bytes of HTML + JS + CSS the page loads (the lazily loaded modules included), uncompressed  [≤ 150 KB]
  5. bytes of HTML + JS + CSS requested before the first race is drawn, as transferred (gzip)   [≤ 80 KB]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import shutil
import statistics
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from server.local import CHROMIUM_ARGS, serving

EIGHT = (
    "landscape=rosenbrock&steps=5000&racer=sgd;lr=0.001&racer=momentum;lr=0.001&racer=rmsprop;lr=0.003"
    "&racer=adam;lr=0.05&racer=nesterov;lr=0.001&racer=adagrad;lr=0.5&racer=adamw;lr=0.05&racer=nadam;lr=0.05"
)
# Times every requestAnimationFrame callback and the gaps between frames.
FRAME_PROBE = """
(() => {
  const raf = window.requestAnimationFrame.bind(window);
  window.__frames = { work: [], starts: [] };
  window.requestAnimationFrame = (callback) => raf((now) => {
    const t0 = performance.now();
    callback(now);
    window.__frames.work.push(performance.now() - t0);
    window.__frames.starts.push(now);
  });
})();
"""


def wait_for_race(page: Page) -> None:
    page.wait_for_function("() => Number(document.body.dataset.races || 0) > 0", timeout=20_000)


def first_race(browser: Browser, url: str) -> dict[str, float]:
    """When the race was drawn, and when the page's code and the race's reply had arrived (ms after navigation)."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    page.goto(url)
    # Playwright's own script, injected on its first query of the page, would compete with the page's
    # boot: wait without querying, then read the marks.
    page.wait_for_timeout(2500)
    wait_for_race(page)
    times = page.evaluate(
        """() => {
            const drawn = performance.getEntriesByName('optirace:race-drawn')[0].startTime;
            const resources = performance.getEntriesByType('resource').filter((e) => e.startTime < drawn);
            const end = (test) => Math.max(0, ...resources.filter((e) => test(e.name)).map((e) => e.responseEnd));
            return {
                drawn,
                code: end((n) => n.includes('/static/')),
                race: end((n) => n.includes('/api/race')),
            };
        }"""
    )
    context.close()
    return times


def slider_latency(browser: Browser, url: str, inputs: int) -> tuple[list[list[float]], float]:
    """Input event → paths redrawn, one input at a time; and races drawn per second in a 60 Hz drag."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    page.goto(url)
    wait_for_race(page)
    page.wait_for_selector(".racer [data-param=lr] input[type=range]")
    page.keyboard.press("End")
    latencies = page.evaluate(
        """async (inputs) => {
            const slider = document.querySelector('.racer [data-param=lr] input[type=range]');
            const out = [];
            performance.clearResourceTimings();
            for (let i = 0; i < inputs; i++) {
                const drawn = new Promise((resolve) => document.addEventListener('optirace:drawn',
                    (e) => resolve(e.detail.drawn), { once: true }));
                slider.value = String(Math.round(Number(slider.max) * 0.45) + (i % 2 ? i : -i));
                const t0 = performance.now();
                slider.dispatchEvent(new Event('input', { bubbles: true }));
                const t1 = await drawn;
                const fetches = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/race'));
                const last = fetches[fetches.length - 1];
                out.push([t1 - t0, last ? last.responseEnd - last.startTime : 0]);
            }
            slider.dispatchEvent(new Event('change', { bubbles: true }));
            return out;
        }""",
        inputs,
    )
    per_second = page.evaluate(
        """async () => {
            const slider = document.querySelectorAll('.racer [data-param=lr] input[type=range]')[3];
            let drawn = 0;
            const count = () => { drawn += 1; };
            document.addEventListener('optirace:drawn', count);
            const t0 = performance.now();
            for (let i = 0; performance.now() - t0 < 2000; i++) {
                const max = Number(slider.max);
                slider.value = String(Math.round(max * 0.2) + (i % Math.round(max * 0.6)));
                slider.dispatchEvent(new Event('input', { bubbles: true }));
                await new Promise((resolve) => setTimeout(resolve, 16));
            }
            const seconds = (performance.now() - t0) / 1000;
            slider.dispatchEvent(new Event('change', { bubbles: true }));
            document.removeEventListener('optirace:drawn', count);
            return drawn / seconds;
        }"""
    )
    context.close()
    return latencies, per_second


def frame_times(browser: Browser, url: str) -> tuple[list[float], list[float]]:
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    context.add_init_script(FRAME_PROBE)
    page = context.new_page()
    page.goto(f"{url}/?{EIGHT}")
    page.wait_for_function("() => document.querySelectorAll('#leaderboard-body tr').length === 8", timeout=30_000)
    page.wait_for_function("() => Number(document.body.dataset.races || 0) > 0", timeout=30_000)
    # 1000 steps per second, about the old fixed pace (5000 steps in 6 s): the work per frame stays comparable
    page.locator(".transport .speed").select_option("1000")
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("r")
    page.evaluate("window.__frames.work.length = 0; window.__frames.starts.length = 0")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('.player').dataset.playing === 'false'", timeout=60_000)
    frames = page.evaluate("window.__frames")
    context.close()
    # callbacks of one frame share its timestamp: a frame's work is their sum
    work: dict[float, float] = {}
    for start, ms in zip(frames["starts"], frames["work"], strict=True):
        work[start] = work.get(start, 0.0) + ms
    starts = sorted(work)
    return list(work.values()), [b - a for a, b in itertools.pairwise(starts)]


def page_bytes(browser: Browser, url: str) -> dict[str, int]:
    context = browser.new_context()
    page = context.new_page()
    sizes: dict[str, int] = {}

    def record(response) -> None:
        kind = response.request.resource_type
        if kind in ("document", "script", "stylesheet"):
            sizes[response.url] = len(response.body())

    page.on("response", record)
    page.goto(url)
    wait_for_race(page)
    # the controls load after the first race, the PyTorch code and the embed snippet on demand: count them too
    page.wait_for_selector(".racer .copy")
    page.locator(".racer .copy").first.click()
    page.wait_for_function("() => document.getElementById('code-text').textContent.includes('torch')")
    page.keyboard.press("Escape")
    page.locator("#embed").click()  # and the Embed dialog's modules
    page.wait_for_function("() => (document.getElementById('embed-code')?.textContent || '').includes('<iframe')")
    context.close()
    return sizes


def first_load_bytes(browser: Browser, url: str) -> dict[str, int]:
    """The HTML, JS and CSS requested before the first race was drawn: their bodies as sent (gzip-encoded)."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_timeout(2500)
    wait_for_race(page)
    sizes = page.evaluate(
        r"""() => {
            const drawn = performance.getEntriesByName('optirace:race-drawn')[0].startTime;
            const nav = performance.getEntriesByType('navigation')[0];
            const out = { [nav.name]: nav.encodedBodySize };
            for (const e of performance.getEntriesByType('resource')) {
                const path = new URL(e.name).pathname;
                if (e.startTime < drawn && /\.(js|css)$/.test(path)) out[e.name] = e.encodedBodySize;
            }
            return out;
        }"""
    )
    context.close()
    return sizes


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--inputs", type=int, default=40)
    parser.add_argument("--url", help="a running server; default: start one")
    args = parser.parse_args()
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("bench_page.py needs Chromium (apt-get install -y chromium)")
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(serving()).url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            with open("/proc/loadavg") as load:
                print(f"load average: {load.read().split()[0]} on {__import__('os').cpu_count()} CPUs")
            first_race(browser, url)  # warm the server's caches and the OS
            loads = [first_race(browser, url) for _ in range(args.runs)]
            firsts = [load["drawn"] for load in loads]
            print(
                f"1. navigation → first drawn race:  median {statistics.median(firsts):6.1f} ms  "
                f"(min {min(firsts):.1f}, max {max(firsts):.1f}, {args.runs} cold loads)   [≤ 500 ms]"
            )
            code = statistics.median(load["code"] for load in loads)
            race = statistics.median(load["race"] for load in loads)
            after = statistics.median(load["drawn"] - max(load["code"], load["race"]) for load in loads)
            print(
                f"   medians: JS + CSS all arrived at {code:.0f} ms, the (preloaded) race reply at {race:.0f} ms; "
                f"drawn {after:.0f} ms after both"
            )
            pairs, per_second = slider_latency(browser, url, args.inputs)
            latencies = [total for total, _ in pairs]
            fetches = [fetch for _, fetch in pairs]
            page_part = [total - fetch for total, fetch in pairs]
            print(
                f"2. lr slider input → redrawn paths: median {statistics.median(latencies):6.1f} ms  "
                f"(p95 {p95(latencies):.1f}, {len(latencies)} inputs)   [≤ 50 ms]"
            )
            print(
                f"   of which GET /api/race (request to last byte) median {statistics.median(fetches):.1f} ms, "
                f"the page's own work median {statistics.median(page_part):.1f} ms"
            )
            print(f"   continuous 60 Hz drag: {per_second:.1f} races drawn per second")
            work, intervals = frame_times(browser, url)
            print(
                f"3. 8 racers × 5000 steps playing:  frame work p50 {statistics.median(work):5.2f} ms, "
                f"p95 {p95(work):5.2f} ms, max {max(work):.2f} ms ({len(work)} frames)   [≤ 16 ms p95]"
            )
            print(f"   frame intervals p50 {statistics.median(intervals):5.2f} ms, p95 {p95(intervals):5.2f} ms")
            sizes = page_bytes(browser, url)
            total = sum(sizes.values())
            print(f"4. HTML + JS + CSS: {total / 1000:.1f} kB ({total} bytes, {len(sizes)} files)   [≤ 150 KB]")
            for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
                print(f"     {size:7d}  {name.removeprefix(url)}")
            first = first_load_bytes(browser, url)
            total = sum(first.values())
            print(
                f"5. first load (before the first race), gzip-transferred: {total / 1000:.1f} kB "
                f"({total} bytes, {len(first)} files)   [≤ 80 KB]"
            )
            for name, size in sorted(first.items(), key=lambda item: -item[1]):
                print(f"     {size:7d}  {name.removeprefix(url)}")
            browser.close()


if __name__ == "__main__":
    main()
