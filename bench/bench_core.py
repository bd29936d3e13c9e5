"""Benchmark the race engine: medians over several runs, beside the other engine and a plain per-racer loop.

Run from the repository root:  python bench/bench_core.py [--repeats 7]

Three workloads (the core issue's targets in brackets):
  1. the four lecture optimizers (SGD, Momentum, RMSProp, Adam) × 500 steps on Rosenbrock,
     the whole result as JSON-ready lists                                  [≤ 25 ms]
  2. 8 different optimizers × 5000 steps on Rosenbrock                     [≤ 250 ms]
  3. a learning-rate sweep of 8 optimizers × 64 learning rates × 1000 steps [≤ 400 ms]
Each is run as the server runs it (engine "auto": races of these racers step on Python floats,
core/scalar.py; the sweep's 512 racers on NumPy arrays) and beside it on NumPy arrays, grouped in
one expression, and as a Python loop over racers each stepping alone on arrays, so the ratios show
what racing on floats and grouping on arrays buy.

With --crossover it times instead both engines on 4 to 16 racers of one, two and three array
groups (1000 steps, Rosenbrock and Beale), the measurement behind core.race.FLOATS_PER_GROUP.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from core.race import FLOATS_PER_GROUP, Engine, Entrant, Tracker, entrants_of, run, simulate, surface_of
from core.scene import Racer, Scene
from core.sweep import sweep

LECTURE = [("sgd", 1e-3), ("momentum", 1e-3), ("rmsprop", 1e-2), ("adam", 5e-2)]
EIGHT = [*LECTURE, ("nesterov", 1e-3), ("adagrad", 0.5), ("adamw", 5e-2), ("nadam", 5e-2)]


def scene_of(racers: list[tuple[str, float]], steps: int) -> Scene:
    return Scene(
        landscape={"name": "rosenbrock"},
        steps=steps,
        racers=[Racer(optimizer=name, params={"lr": lr}) for name, lr in racers],
    ).filled()


def engine(scene: Scene, entrants: list[Entrant], kind: Engine = "auto") -> None:
    """The engine alone: every step of every entrant, with arrival/divergence tracking."""
    surface = surface_of(scene)
    tracker = Tracker(surface, len(entrants))
    for chunk in simulate(surface, scene.start, entrants, scene.steps, chunk_steps=scene.steps + 1, engine=kind):
        tracker.observe(chunk)


def per_racer_loop(scene: Scene, entrants: list[Entrant]) -> None:
    """The baseline: a Python loop over racers, each racer stepping on its own on NumPy arrays."""
    for entrant in entrants:
        engine(scene, [entrant], "arrays")


def median_ms(work: Callable[[], object], repeats: int) -> float:
    work()  # warm caches (landscape minima, imports)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append((time.perf_counter() - began) * 1e3)
    return statistics.median(times)


def report(name: str, target_ms: float, served: float, arrays: float | None, looped: float) -> None:
    verdict = "ok" if served <= target_ms else "OVER TARGET"
    on_arrays = f"  arrays {arrays:7.1f} ms ({arrays / served:4.1f}×);" if arrays is not None else ""
    print(
        f"{name:<46} {served:7.1f} ms  (target ≤ {target_ms:g} ms, {verdict});{on_arrays}"
        f"  per-racer loop {looped:7.1f} ms ({looped / served:4.1f}×)"
    )


def crossover(repeats: int) -> None:
    """Floats / arrays time for N racers cycling through 1, 2 or 3 rules that make that many array groups."""
    families = (["adam"], ["adam", "lion"], ["adam", "lion", "radam"])  # lion and radam: a group each
    print(f"floats time / arrays time, medians of {repeats}; auto takes floats while N ≤ {FLOATS_PER_GROUP}·(G + 1)")
    for landscape in ("rosenbrock", "beale"):
        for names in families:
            ratios = []
            for count in (4, 8, 10, 12, 16):
                racers = [Racer(optimizer=names[i % len(names)], params={"lr": 1e-3 * (1 + i)}) for i in range(count)]
                scene = Scene(landscape={"name": landscape}, steps=1000, racers=racers).filled()
                floats = median_ms(lambda scene=scene: run(scene, "floats"), repeats)
                arrays = median_ms(lambda scene=scene: run(scene, "arrays"), repeats)
                ratios.append(f"N={count}: {floats / arrays:4.2f}")
            print(f"{landscape:<10} G={len(names)}  " + "  ".join(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument("--crossover", action="store_true", help="floats against arrays by racers and groups")
    args = parser.parse_args()
    repeats = args.repeats
    if args.crossover:
        crossover(repeats)
        return

    lecture = scene_of(LECTURE, 500)
    lecture_entrants = entrants_of(lecture)
    report(
        "4 lecture optimizers × 500 steps (run → JSON lists)",
        25,
        median_ms(lambda: run(lecture), repeats),
        median_ms(lambda: run(lecture, "arrays"), repeats),
        median_ms(lambda: per_racer_loop(lecture, lecture_entrants), repeats),
    )

    eight = scene_of(EIGHT, 5000)
    eight_entrants = entrants_of(eight)
    report(
        "8 optimizers × 5000 steps",
        250,
        median_ms(lambda: engine(eight, eight_entrants), repeats),
        median_ms(lambda: engine(eight, eight_entrants, "arrays"), repeats),
        median_ms(lambda: per_racer_loop(eight, eight_entrants), repeats),
    )

    sweep_scene = scene_of(EIGHT, 1000)
    lrs = [1e-4 * (1e5) ** (k / 63) for k in range(64)]
    sweep_entrants = [
        Entrant(e.optimizer, {**e.params, "lr": lr}, e.lr / e.params["lr"] * lr)
        for e in entrants_of(sweep_scene)
        for lr in lrs
    ]
    report(
        "sweep 8 optimizers × 64 lrs × 1000 steps",
        400,
        median_ms(lambda: sweep(sweep_scene, 1e-4, 10.0, 64), repeats),
        None,
        median_ms(lambda: per_racer_loop(sweep_scene, sweep_entrants), max(1, repeats // 3)),
    )


if __name__ == "__main__":
    main()
