"""Benchmark hyperparameter maps and the fair race: in process, over HTTP, and the page's map in Chromium.

Run from the repository root:  python bench/bench_map.py [--rounds 7] [--no-page]

Measurements (the map issue's targets in brackets), medians over ``--rounds`` runs after one warm-up:
  1. a 64 × 64 map × 500 steps (Adam, lr × beta1 on Rosenbrock), in this process: core.hypermap.hypermap,
     and of it the grid built (plan_map) and the races run, wall clock and this process's CPU time   [≤ 150 ms]
  2. the same map over HTTP: POST /api/map to a real ``optirace serve`` (1 worker), request to last byte
  3. the page's map redrawn after a change, in Chromium: a click on the race's plot (a new start point) to the
     64 × 64 map of the new scene drawn (the panel's optirace:map-drawn event)                        [≤ 300 ms]
  4. Tune lrs for the lecture's four (SGD, Momentum, RMSProp, Adam) × 500 steps on the default landscape:
     core.tune.tune in process, and POST /api/tune over HTTP                                          [≤ 1 s]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.hypermap import Axis, hypermap, plan_map, race_outcome
from core.scene import Scene
from core.tune import tune
from server.local import CHROMIUM_ARGS, HOST, serving

ADAM_ROSENBROCK = {
    "landscape": {"name": "rosenbrock"},
    "steps": 500,
    "racers": [{"optimizer": "adam", "params": {"lr": 0.05}}],
}
MAP_BODY = {
    "scene": ADAM_ROSENBROCK,
    "racer": 0,
    "x": {"name": "lr", "min": 1e-4, "max": 10.0, "count": 64, "scale": "log"},
    "y": {"name": "beta1", "min": 0.0, "max": 0.999, "count": 64, "scale": "one_minus_log"},
}
LECTURE = {"steps": 500}  # the default scene: the lecture's four
PAGE_QUERY = "landscape=rosenbrock&steps=500&racer=adam;lr=0.05"


CPU_TIMES: dict[int, list[float]] = {}  # id(times) → this process's CPU time of the same runs


def timed(function: Callable[[], object], rounds: int, in_process: bool = True) -> list[float]:
    """Wall-clock ms of ``rounds`` calls after a warm-up; their CPU time (this process's) is kept beside them:
    on a shared machine the wall clock counts other processes' turns, CPU time does not."""
    function()  # warm-up (compilation, caches)
    times, cpu = [], []
    for _ in range(rounds):
        began, began_cpu = time.perf_counter(), time.process_time()
        function()
        times.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    if in_process:  # over HTTP the work is the server's, not this process's
        CPU_TIMES[id(times)] = cpu
    return times


def post(port: int, path: str, body: dict) -> Callable[[], object]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    payload = json.dumps(body).encode()

    def call() -> object:
        connection.request("POST", path, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:300]
        return data

    return call


def line(label: str, times: list[float], target: float | None = None) -> str:
    median = statistics.median(times)
    verdict = "" if target is None else f"  target ≤ {target:g} ms: {'met' if median <= target else 'NOT met'}"
    cpu = CPU_TIMES.get(id(times))
    own = f"; CPU {statistics.median(cpu):.1f} ms" if cpu else ""
    return (
        f"{label}: median {median:7.1f} ms  (min {min(times):.1f}, max {max(times):.1f}, n={len(times)}{own}){verdict}"
    )


def page_redraws(url: str, rounds: int) -> tuple[list[float], list[float]]:
    """ms from a click on the race's plot to the new map drawn, and of them the painting alone."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("Chromium is not installed: apt-get install -y chromium (or run with --no-page)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{url}/?{PAGE_QUERY}")
        page.wait_for_function("() => Number(document.body.dataset.races || 0) > 0", timeout=30_000)
        page.locator("#map-panel > summary").click()
        page.wait_for_selector(".map-canvas[data-state=ready]", timeout=60_000)
        page.locator("[data-role=count]").select_option("64")
        page.wait_for_function(
            "() => document.querySelector('.map-canvas').dataset.box.includes('\"nx\":64')"
            " && document.querySelector('.map-canvas').dataset.state === 'ready'",
            timeout=60_000,
        )
        page.evaluate(
            """() => {
                window.__mapTimes = [];
                document.addEventListener("pointerdown", () => { window.__changed = performance.now(); }, true);
                document.addEventListener("optirace:map-drawn",
                    (event) => {
                        window.__mapTimes.push(event.detail.drawn - window.__changed);
                        window.__drawTimes.push(Number(document.querySelector(".map-canvas").dataset.drawMs));
                    });
                window.__drawTimes = [];
            }"""
        )
        plot = page.locator("#player canvas").last.bounding_box()
        times = []
        for k in range(rounds + 1):
            before = page.evaluate("() => window.__mapTimes.length")
            # a new start point each time (the map depends on it), inside the plot
            x = plot["x"] + plot["width"] * (0.2 + 0.05 * (k % 6))
            y = plot["y"] + plot["height"] * (0.25 + 0.03 * (k % 5))
            page.mouse.click(x, y)
            page.wait_for_function("n => window.__mapTimes.length > n", arg=before, timeout=60_000)
            if k:  # the first is a warm-up
                times.append(page.evaluate("() => window.__mapTimes.at(-1)"))
        draws = page.evaluate("() => window.__drawTimes.slice(1)")
        browser.close()
    return times, draws


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall-clock medians count other work too)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-page", action="store_true", help="skip the Chromium measurement")
    args = parser.parse_args()

    scene = Scene.model_validate(ADAM_ROSENBROCK)
    x = Axis(**MAP_BODY["x"])
    y = Axis(**MAP_BODY["y"])
    print(line("1. 64 × 64 map × 500 steps, in process  ", timed(lambda: hypermap(scene, 0, x, y), args.rounds), 150))
    plan = plan_map(scene, 0, x, y)
    print(line("   of which the grid (plan_map)         ", timed(lambda: plan_map(scene, 0, x, y), args.rounds)))
    print(
        line(
            "   of which the races (race_outcome)    ",
            timed(lambda: race_outcome(plan.scene, plan.entrants), args.rounds),
        )
    )
    lecture = Scene.model_validate(LECTURE)
    tune_times = timed(lambda: tune(lecture), args.rounds)
    with serving(workers=1) as server:
        print(
            line(
                "2. the same map, POST /api/map over HTTP",
                timed(post(server.port, "/api/map", MAP_BODY), args.rounds, False),
                150,
            )
        )
        if not args.no_page:
            redraws, paints = page_redraws(server.url, args.rounds)
            print(line("3. page: click (new start) → map drawn  ", redraws, 300))
            print(f"   of which painting the cells, axes and marker: median {statistics.median(paints):.1f} ms")
        print(line("4. tune, lecture's four, in process      ", tune_times, 1000))
        tune_http = timed(post(server.port, "/api/tune", {"scene": LECTURE}), args.rounds, False)
        print(line("   tune, POST /api/tune over HTTP        ", tune_http, 1000))


if __name__ == "__main__":
    main()
