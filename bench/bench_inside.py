"""Benchmark inside a step in a real Chromium: vectors on the map and the 3D view while a long race plays.

Run from the repository root:  python bench/bench_inside.py [--runs 3] [--url http://127.0.0.1:8000]

Without --url it serves server.app:app on a free localhost port. The numbers (issue #12's targets in brackets):
  1. 8 racers × 5000 steps playing at 1000 steps/s with the vectors on (every racer's internals loaded):
     work per animation frame (every requestAnimationFrame callback timed, summed per frame) and frame
     intervals, p50 and p95 over all runs                                                   [≤ 16 ms p95]
  2. the same race in the 3D view (headless Chromium's software GL, SwiftShader)            [≤ 33 ms p95]
  3. bytes the 3D view loads when first opened (view3d.js, three.js, OrbitControls): as transferred (gzip)
     and decoded
  4. bytes of HTML + JS + CSS requested before the first race is drawn, gzip (vectors, inspector and 3D
     load on demand, so this stays as it was)                                                [≤ 80 KB]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import shutil
import statistics
import sys
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.bench_page import EIGHT, FRAME_PROBE, first_load_bytes, p95
from server.local import CHROMIUM_ARGS, serving

READY = {
    "vectors": "() => JSON.parse(document.querySelector('.vectors-legend')?.dataset.vectors || '[]').length === 8",
    "view=3d": "() => document.querySelector('.view3d')?.dataset.step !== undefined",
}


def play(browser: Browser, url: str, option: str) -> tuple[list[float], list[float]]:
    """Frame work and intervals while the eight racers play from step 0 to 5000 with `option` on."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    context.add_init_script(FRAME_PROBE)
    page = context.new_page()
    key = "vectors=1" if option == "vectors" else option
    page.goto(f"{url}/?{EIGHT}&{key}")
    page.wait_for_function("() => Number(document.body.dataset.races || 0) > 0", timeout=60_000)
    page.locator(".transport .speed").select_option("1000")
    page.locator("body").click(position={"x": 2, "y": 2})
    page.keyboard.press("r")
    page.wait_for_function(READY[option], timeout=120_000)
    page.evaluate("window.__frames.work.length = 0; window.__frames.starts.length = 0")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('.player').dataset.playing === 'false'", timeout=120_000)
    frames = page.evaluate("window.__frames")
    context.close()
    work: dict[float, float] = {}
    for start, ms in zip(frames["starts"], frames["work"], strict=True):
        work[start] = work.get(start, 0.0) + ms
    starts = sorted(work)
    return list(work.values()), [b - a for a, b in itertools.pairwise(starts)]


def view3d_bytes(browser: Browser, url: str) -> dict[str, tuple[int, int]]:
    """What opening the 3D view loads from static/: (gzip-transferred, decoded) bytes per file."""
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/?{EIGHT.replace('steps=5000', 'steps=500')}")
    page.wait_for_function("() => Number(document.body.dataset.races || 0) > 0", timeout=30_000)
    before = page.evaluate("() => performance.getEntriesByType('resource').length")
    page.locator("#view3d").click()
    page.wait_for_function(READY["view=3d"], timeout=30_000)
    sizes = page.evaluate(
        """(before) => Object.fromEntries(performance.getEntriesByType('resource').slice(before)
            .map((e) => [new URL(e.name).pathname, [e.encodedBodySize, e.decodedBodySize]])
            .filter(([path]) => path.startsWith('/static/')))""",
        before,
    )
    context.close()
    return {name: tuple(size) for name, size in sizes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a running server; default: start one")
    args = parser.parse_args()
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("bench_inside.py needs Chromium (apt-get install -y chromium)")
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(serving()).url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            with open("/proc/loadavg") as load:
                print(f"load average: {load.read().split()[0]} on {__import__('os').cpu_count()} CPUs")
            for number, option, target in ((1, "vectors", 16), (2, "view=3d", 33)):
                work: list[float] = []
                intervals: list[float] = []
                for _ in range(args.runs):
                    w, i = play(browser, url, option)
                    work += w
                    intervals += i
                print(
                    f"{number}. 8 racers × 5000 steps, {option}: frame work p50 {statistics.median(work):5.2f} ms, "
                    f"p95 {p95(work):5.2f} ms, max {max(work):.2f} ms ({len(work)} frames, {args.runs} runs)"
                    f"   [≤ {target} ms p95]"
                )
                print(f"   frame intervals p50 {statistics.median(intervals):5.2f} ms, p95 {p95(intervals):5.2f} ms")
            sizes = view3d_bytes(browser, url)
            sent = sum(s for s, _ in sizes.values())
            decoded = sum(d for _, d in sizes.values())
            print(
                f"3. the 3D view loads on demand: {sent / 1000:.1f} kB gzip-transferred, "
                f"{decoded / 1000:.1f} kB decoded"
            )
            for name, (s, d) in sorted(sizes.items(), key=lambda item: -item[1][1]):
                print(f"     {s:7d} {d:8d}  {name}")
            first = first_load_bytes(browser, url)
            total = sum(first.values())
            print(f"4. first load (before the first race), gzip-transferred: {total / 1000:.1f} kB   [≤ 80 KB]")
            browser.close()


if __name__ == "__main__":
    main()
