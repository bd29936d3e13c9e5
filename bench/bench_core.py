"""Benchmark the race engine: medians over several runs, beside the same work as a plain per-racer Python loop.

Run from the repository root:  python bench/bench_core.py [--repeats 7]

Four workloads (issue 9's targets in brackets):
  1. the default race scene (the lecture's four on Beale × 500 steps) → the JSON bytes of POST /api/race
                                                                              [≤ 1.5 ms]
  2. 8 different optimizers × 5000 steps on Rosenbrock                        [≤ 30 ms]
  3. 16 optimizers × 20 000 steps on Rosenbrock                               [≤ 250 ms]
  4. a learning-rate sweep of 8 optimizers × 64 learning rates × 1000 steps   [≤ 30 ms]
Each runs as the server runs it (core.race's one compiled loop) and, in the same run, as a plain
Python loop over the racers, each racer's race alone: the very same source with NUMBA_DISABLE_JIT=1
(in a child process, since numba reads that once), so the ratio is what compiling buys.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import orjson

from core.race import Race, entrants_of, run, surface_of
from core.scene import Racer, Scene
from core.sweep import sweep

LECTURE = [("sgd", 1e-3), ("momentum", 1e-3), ("rmsprop", 1e-2), ("adam", 5e-2)]
EIGHT = [*LECTURE, ("nesterov", 1e-3), ("adagrad", 0.5), ("adamw", 5e-2), ("nadam", 5e-2)]
SIXTEEN = [*EIGHT, ("radam", 5e-2), ("adamax", 5e-2), ("adadelta", 1.0), ("lion", 1e-3), ("newton", 0.5)]
SIXTEEN += [("amsgrad", 5e-2), ("sgd", 2e-4), ("adam", 1e-2)]


def scene_of(racers: list[tuple[str, float]], steps: int) -> Scene:
    return Scene(
        landscape={"name": "rosenbrock"},
        steps=steps,
        racers=[Racer(optimizer=name, params={"lr": lr}) for name, lr in racers],
    ).filled()


def race_all(scene: Scene) -> None:
    """The engine alone: every step of every racer, arrival and divergence included."""
    for _ in Race(surface_of(scene), scene.start, entrants_of(scene), scene.steps).chunks(scene.steps + 1):
        pass


def per_racer(scene: Scene) -> None:
    """A plain loop over the racers, each racing alone."""
    for racer in scene.racers:
        race_all(scene.model_copy(update={"racers": [racer]}))


def median_ms(work: Callable[[], object], repeats: int, warm: bool = True) -> float:
    if warm:
        work()  # compile or load the compiled code, fill caches (landscape minima)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1e3)
    return statistics.median(times)


def workloads() -> dict[str, tuple[float, Callable[[], object], Callable[[], object], int]]:
    """name → (target ms, the served work, the per-racer loop's work, the loop's repeats divisor)."""
    default = Scene().filled()
    eight, sixteen, sweep_scene = scene_of(EIGHT, 5000), scene_of(SIXTEEN, 20_000), scene_of(EIGHT, 1000)
    lrs = [1e-4 * 1e5 ** (k / 63) for k in range(64)]
    return {
        "default race scene → JSON bytes": (1.5, lambda: orjson.dumps(run(default)), lambda: per_racer(default), 1),
        "8 optimizers × 5000 steps": (30, lambda: race_all(eight), lambda: per_racer(eight), 1),
        "16 optimizers × 20 000 steps": (250, lambda: race_all(sixteen), lambda: per_racer(sixteen), 7),
        "sweep 8 optimizers × 64 lrs × 1000 steps": (
            30,
            lambda: sweep(sweep_scene, 1e-4, 10.0, 64),
            lambda: [per_racer(scene_of([(r.optimizer, lr)], 1000)) for r in sweep_scene.racers for lr in lrs],
            7,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument("--plain", action="store_true", help="(internal) time only the per-racer loops, as JSON")
    args = parser.parse_args()
    repeats = args.repeats
    if args.plain:
        times = {
            name: median_ms(loop, max(1, repeats // divisor), warm=divisor == 1)
            for name, (_, _, loop, divisor) in workloads().items()
        }
        print(json.dumps(times))
        return
    plain = subprocess.run(
        [sys.executable, __file__, "--plain", "--repeats", str(repeats)],
        env={**os.environ, "NUMBA_DISABLE_JIT": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    looped = json.loads(plain.stdout)
    print(f"medians of {repeats} (the plain loops: fewer for the long ones); NUMBA_DISABLE_JIT=1 for the loops")
    for name, (target, served_work, _, _) in workloads().items():
        served = median_ms(served_work, repeats)
        verdict = "ok" if served <= target else "OVER TARGET"
        print(
            f"{name:<42} {served:8.2f} ms  (target ≤ {target:g} ms, {verdict});"
            f"  plain per-racer loop {looped[name]:9.1f} ms ({looped[name] / served:6.0f}×)"
        )


if __name__ == "__main__":
    main()
