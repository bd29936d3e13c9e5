"""How closely typed Rosenbrock and Beale reproduce the built-ins: per evaluation, and race by race.

Run from the repository root:  python bench/formula_agreement.py [--grid 401] [--races]

1. Per evaluation: f, ∇f and ∇²f of the typed formula (core.formula's program) against the built-in
   (core.landscapes, hand-written) on a grid over the landscape's domain and (--races) on every point of
   the races below: the share that is bit-identical, the differences in ulps of the built-in's value
   (median, 99th percentile, largest: large where the value is a cancellation, ∇f near the minimum), and
   the largest difference in units of u·M (u = 2⁻⁵³, M the output evaluated with |x|, |y| and every sign +,
   tests/core/test_formula_races.py's ``magnitude``: the scale of any evaluation's roundoff).
2. (--races) Race by race: every optimizer at its default lr and at the landscape's suggested lr
   (core.landscape_notes), the default racers, from the landscape's default start over the default steps,
   and every preset scene (core.presets) on the landscape. Per racer: the first step at which the typed
   race's point differs from the built-in's by more than 1e-12 relative (to its norm) and the largest such
   difference; the built-in race's own sensitivity: the first step at which, and how far, it moves when its
   start moves 1 ulp (x or y, up or down), and when its gradient gets noise of σ 1e-16 (seeds 0 and 1). A
   racer that neither probe moves by more than 1e-13 is "determined": the typed race should match it to
   1e-12 at every step. For one that does not match: its largest difference over the built-in's envelope
   (the running largest move under both probes and under noise of σ 1e-14).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from core.landscape_notes import SUGGESTED_LR
from core.landscapes import get_landscape
from core.optimizers import OPTIMIZERS
from core.presets import PRESETS
from core.race import run
from core.scene import Scene
from tests.core.test_formula_races import magnitude

TYPED = {
    "rosenbrock": ("(1 - x)^2 + 100*(y - x^2)^2", {"x": [-2.0, 2.0], "y": [-1.0, 3.0]}),
    "beale": ("(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", {"x": [-4.5, 4.5], "y": [-4.5, 4.5]}),
}
OUTPUT_NAMES = ("f", "fx", "fy", "fxx", "fxy", "fyy")
DETERMINED = 1e-13  # a race that neither probe moves by more than this is determined by its inputs
AGREE = 1e-12
TINY_NOISE = 1e-16  # σ of the gradient noise that probes determination: below half an ulp of the gradient's terms
ROUNDOFF_NOISE = (
    1e-14  # σ of the envelope's noise: about u·M of ∇f near Beale's minimum (tests/core/test_formula_races.py)
)


def evaluate(name: str, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(builtin, typed) outputs, each (n, 6): f, fx, fy, fxx, fxy, fyy at the points (n, 2)."""
    text, domain = TYPED[name]
    builtin = get_landscape(name).surface()
    typed = get_landscape("custom").surface({"f": text, **domain})
    out = []
    for surface in (builtin, typed):
        value, grad = surface.value_and_grad(points)
        hessian = surface.hessian(points)
        columns = [value, grad[:, 0], grad[:, 1], hessian[:, 0, 0], hessian[:, 0, 1], hessian[:, 1, 1]]
        out.append(np.column_stack(columns))
    return out[0], out[1]


def ulps(a: np.ndarray, b: np.ndarray, scale: np.ndarray | float | None = None) -> np.ndarray:
    """|a − b| in ulps of |b| (or of ``scale``)."""
    reference = np.abs(b) if scale is None else np.broadcast_to(scale, b.shape)
    return np.abs(a - b) / np.spacing(np.maximum(reference, np.finfo(float).tiny))


def pointwise(name: str, points: np.ndarray, where: str) -> None:
    builtin, typed = evaluate(name, points)
    scale = np.array([magnitude(name, x, y) for x, y in points]) * 2.0**-53
    print(f"  {name} on {where} ({len(points)} points): identical | ulps of the value: median, p99, max", end="")
    print(" | max difference / (u·M)")
    for k, output in enumerate(OUTPUT_NAMES):
        same = np.mean(typed[:, k] == builtin[:, k])
        u = ulps(typed[:, k], builtin[:, k])
        with np.errstate(invalid="ignore", divide="ignore"):  # M = 0 only where both are exactly 0
            difference = np.abs(typed[:, k] - builtin[:, k]) / scale[:, k]
        in_roundoff = np.where(typed[:, k] == builtin[:, k], 0.0, difference)
        print(
            f"    {output:4s} {100 * same:6.2f} % | {np.median(u):6.2g} {np.quantile(u, 0.99):8.3g} {u.max():9.3g}"
            f" | {in_roundoff.max():5.2f}"
        )


def grid_points(name: str, n: int) -> np.ndarray:
    d = get_landscape(name).domain
    gx, gy = np.meshgrid(np.linspace(d.xmin, d.xmax, n), np.linspace(d.ymin, d.ymax, n))
    return np.column_stack([gx.ravel(), gy.ravel()])


# --- races -----------------------------------------------------------------------------------------------


def race_scenes(name: str) -> list[tuple[str, dict[str, Any]]]:
    """(title, scene json) of every race measured on landscape ``name``, the typed formula's not yet swapped in."""
    start = list(get_landscape(name).start)
    scenes: list[tuple[str, dict[str, Any]]] = [
        ("default racers", {"landscape": {"name": name}, "start": start}),
    ]
    defaults = [{"optimizer": o, "label": f"{o} default lr"} for o in OPTIMIZERS]
    for part in range(0, len(defaults), 16):
        racers = defaults[part : part + 16]
        scenes.append(("default lr", {"landscape": {"name": name}, "start": start, "racers": racers}))
    suggested = [
        {"optimizer": o, "params": {"lr": lr}, "label": f"{o} lr {lr:g}"} for o, lr in SUGGESTED_LR[name].items()
    ]
    scenes.append(("suggested lr", {"landscape": {"name": name}, "start": start, "racers": suggested}))
    for preset in PRESETS:
        scene = preset.scene()
        if scene.landscape.name == name:
            scenes.append((f"preset {preset.id}", scene.model_dump(mode="json")))
    return scenes


def typed_scene(scene: dict[str, Any], name: str) -> dict[str, Any]:
    text, domain = TYPED[name]
    return {**scene, "landscape": {"name": "custom", "params": {"f": text, **domain}}}


def nudged(scene: dict[str, Any], axis: int, direction: float) -> dict[str, Any]:
    start = list(Scene.model_validate(scene).filled().start)
    start[axis] = float(np.nextafter(start[axis], direction * math.inf))
    return {**scene, "start": start}


def relative(a: list[list[float]], b: list[list[float]]) -> np.ndarray:
    """Per step, |a − b| / |b| over the steps both paths have (inf from the step one of them stopped)."""
    n = max(len(a), len(b))
    m = min(len(a), len(b))
    out = np.full(n, np.inf)
    pa, pb = np.asarray(a[:m]), np.asarray(b[:m])
    out[:m] = np.linalg.norm(pa - pb, axis=1) / np.maximum(np.linalg.norm(pb, axis=1), 1e-300)
    return out


def first_above(values: np.ndarray, threshold: float) -> int | None:
    above = values > threshold
    return int(np.argmax(above)) if above.any() else None


def race_rows(name: str) -> list[dict[str, Any]]:
    rows = []
    for title, scene in race_scenes(name):
        builtin = run(Scene.model_validate(scene))
        typed = run(Scene.model_validate(typed_scene(scene, name)))
        nudges = [run(Scene.model_validate(nudged(scene, axis, d))) for axis in (0, 1) for d in (1.0, -1.0)]
        noisy = {
            sigma: [run(Scene.model_validate({**scene, "noise": sigma, "seed": seed})) for seed in (0, 1)]
            for sigma in (TINY_NOISE, ROUNDOFF_NOISE)
        }
        for i, b in enumerate(builtin["racers"]):
            t = typed["racers"][i]
            diff = relative(t["path"], b["path"])

            def deviation(races: list[dict[str, Any]], i: int = i, b: dict[str, Any] = b) -> np.ndarray:
                return np.max([relative(r["racers"][i]["path"], b["path"]) for r in races], axis=0)

            start, tiny = deviation(nudges), deviation(noisy[TINY_NOISE])
            envelope = np.maximum(np.maximum(start, tiny), deviation(noisy[ROUNDOFF_NOISE]))
            rows.append(
                {
                    "landscape": name,
                    "scene": title,
                    "label": b["label"],
                    "status": b["status"] + (f" @{b['arrived_at']}" if b["arrived_at"] is not None else ""),
                    "same_outcome": (t["status"], t["arrived_at"], t["diverged_at"])
                    == (b["status"], b["arrived_at"], b["diverged_at"]),
                    "first_off": first_above(diff, AGREE),
                    "max_diff": float(diff.max()),
                    "start_first": first_above(start, DETERMINED),
                    "start_max": float(start.max()),
                    "noise_first": first_above(tiny, DETERMINED),
                    "noise_max": float(tiny.max()),
                    "ratio": float(np.max(np.where(diff > AGREE, diff / np.maximum.accumulate(envelope), 0.0))),
                    "paths": (b["path"], t["path"]),
                }
            )
    return rows


def print_races(rows: list[dict[str, Any]]) -> None:
    print(
        "2. races: racer | built-in's status | typed: first step off by > 1e-12, largest relative difference |"
        " built-in's own: 1-ulp start moves, then σ 1e-16 gradient noise: first step > 1e-13, largest | verdict"
    )
    for r in rows:
        kind = "determined" if r["start_first"] is None and r["noise_first"] is None else "sensitive "
        if r["first_off"] is None and r["same_outcome"]:
            verdict = "matches"
        else:
            verdict = f"off; {r['ratio']:.2g} × the built-in's envelope (σ 1e-14)"
        print(
            f"  {r['landscape']:10s} {r['scene']:22s} {r['label']:20s} {r['status']:12s} | "
            f"{r['first_off']!s:>5s} {r['max_diff']:8.1e} | {r['start_first']!s:>5s} {r['start_max']:8.1e}"
            f" {r['noise_first']!s:>5s} {r['noise_max']:8.1e} | {kind} {verdict}"
        )
    determined = [r for r in rows if r["start_first"] is None and r["noise_first"] is None]
    good = sum(r["first_off"] is None and r["same_outcome"] for r in determined)
    start_only = sum(r["start_first"] is None for r in rows)
    print(f"  determined (neither probe moves it > 1e-13): {len(determined)} of {len(rows)}; matched: {good}")
    print(f"  (by the start probe alone: {start_only})")
    matched = sum(r["first_off"] is None and r["same_outcome"] for r in rows)
    print(f"  typed race matches to 1e-12 at every step, same status and arrival: {matched} of {len(rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", type=int, default=401)
    parser.add_argument("--races", action="store_true")
    args = parser.parse_args()
    print("1. per evaluation")
    rows = []
    for name in TYPED:
        pointwise(name, grid_points(name, args.grid), f"a {args.grid}² grid")
        if args.races:
            rows += race_rows(name)
            points = np.concatenate([np.asarray(p) for r in rows if r["landscape"] == name for p in r["paths"]])
            pointwise(name, points, "the races' points")
    if args.races:
        print_races(rows)


if __name__ == "__main__":
    main()
