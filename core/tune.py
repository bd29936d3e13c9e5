"""A fair race: every racer of a scene gets its own best learning rate on this landscape and start.

Comparing optimizers at one learning rate compares the learning rate as much as the optimizer. ``tune``
searches each racer's base lr (its schedule, other hyperparameters and the scene kept): a log grid from
``lr_min`` to ``lr_max``, then a finer log grid between the best value's two neighbours; optionally beta1
too, for racers that have one (a grid of decay rates, crossed with the lrs). Every candidate is a full
race from the scene's start, and all racers' candidates of one round run in one race (core.hypermap's
engine entry point); the tuned race is then run as a scene of its own and equals the winning candidates.

Objectives (the best candidate is the one with the smallest key; a diverged candidate never wins):

- ``arrival``: the earliest arrival among the candidates that arrive and end at the minimum (final loss
  gap within the landscape's tolerance, so a learning rate that touches the minimum and flies off again
  does not win); the others rank after them by final loss gap;
- ``final_gap``: the lowest final loss gap f(θ_T) − f*, ties broken by earlier arrival.

Remaining ties go to the smaller lr (then the smaller beta1). Candidate values are rounded as a map's axis
values are (core.hypermap), so the tuned values read well in the page's URL.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from core.hypermap import cell_result, lowest_minimum, race_outcome
from core.optimizers import get_optimizer
from core.race import Entrant, run, surface_of
from core.scene import Racer, Scene
from core.schedules import lr_per_step

Objective = Literal["arrival", "final_gap"]
OBJECTIVES: dict[str, str] = {
    "arrival": "earliest arrival among the lrs that end at the minimum (final loss gap within the landscape's "
    "tolerance); where none does, the lowest final loss gap; diverged never wins",
    "final_gap": "lowest final loss gap f(θ_T) − f*, ties broken by earlier arrival; diverged never wins",
}
BETA1_VALUES = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
MAX_CANDIDATES = 4096
MAX_RACER_STEPS = 2_000_000  # candidates × steps: 16 racers × 6 beta1 × 34 lrs × 600 steps


def _readable_geomspace(low: float, high: float, count: int) -> list[float]:
    values = np.geomspace(low, high, count)
    out: list[float] = []
    for v in values:
        rounded = float(f"{v:.4g}") + 0.0
        if not out or rounded > out[-1]:
            out.append(rounded)
    return out


def _key(result: dict[str, Any], objective: Objective, lr: float, beta1: float, tolerance: float) -> tuple[float, ...]:
    """The candidate's rank under ``objective``: smaller is better; (inf, …) for one that diverged."""
    if result["status"] in ("diverged", "invalid"):
        return (math.inf, math.inf, math.inf, lr, beta1)
    arrived = math.inf if result["arrived_at"] is None else float(result["arrived_at"])
    if objective == "arrival":
        stays = result["arrived_at"] is not None and result["final_gap"] <= tolerance
        return (
            (0.0, arrived, result["final_gap"], lr, beta1) if stays else (1.0, result["final_gap"], arrived, lr, beta1)
        )
    return (0.0, result["final_gap"], arrived, lr, beta1)


def _round(
    scene: Scene, grids: list[list[dict[str, float]]], objective: Objective, best: float
) -> list[tuple[tuple[float, ...], dict[str, float], dict[str, Any]] | None]:
    """Race every racer's candidates (``grids[r]``: hyperparameter overrides) at once; each racer's winner."""
    entrants: list[Entrant] = []
    owners: list[tuple[int, dict[str, float]]] = []
    for r, (racer, grid) in enumerate(zip(scene.racers, grids, strict=True)):
        spec = get_optimizer(racer.optimizer)
        for override in grid:
            try:
                params = spec.resolve({**racer.params, **override})
                lrs = lr_per_step(racer.schedule.name, racer.schedule.params, params["lr"], scene.steps)
            except ValueError:
                continue  # breaks a rule linking fields (a schedule's check against lr, …): not a candidate
            entrants.append(Entrant(racer.optimizer, params, lrs))
            owners.append((r, override))
    outcome = race_outcome(scene, entrants)
    tolerance = surface_of(scene).landscape.tolerance
    winners: list[tuple[tuple[float, ...], dict[str, float], dict[str, Any]] | None] = [None] * len(scene.racers)
    for n, (r, override) in enumerate(owners):
        result = cell_result(outcome.final_loss[n], outcome.arrived_at[n], outcome.diverged_at[n], best)
        key = _key(result, objective, override["lr"], override.get("beta1", 0.0), tolerance)
        if winners[r] is None or key < winners[r][0]:  # type: ignore[index]
            winners[r] = (key, override, result)
    return winners


def tune(
    scene: Scene,
    lr_min: float = 1e-5,
    lr_max: float = 10.0,
    count: int = 25,
    refine: int = 9,
    beta1: bool = False,
    objective: Objective = "arrival",
) -> dict[str, Any]:
    """Each racer's best lr (and beta1, if asked and it has one) under ``objective``, and the race with them.

    Returns ``{"objective": {"name", "description"}, "racers": [{"label", "optimizer", "color",
    "before": {...}, "tuned": {...}, "found", "status", "final_gap", "arrived_at", "diverged_at"}],
    "scene": <the tuned scene, filled>, "race": <core.race.run of it>}``; status and steps are the tuned
    race's. A racer all of whose candidates diverge keeps its own values (``found`` false).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of: {', '.join(OBJECTIVES)}; got {objective!r}")
    if not (0 < lr_min < lr_max) or not math.isfinite(lr_max):
        raise ValueError(f"lr_min and lr_max must satisfy 0 < lr_min < lr_max, got {lr_min}, {lr_max}")
    if not 3 <= count <= 64:
        raise ValueError(f"count must be an integer in [3, 64], got {count}")
    if not 0 <= refine <= 32:
        raise ValueError(f"refine must be an integer in [0, 32], got {refine}")
    scene = scene.filled()
    has_beta1 = [beta1 and any(p.name == "beta1" for p in get_optimizer(r.optimizer).params) for r in scene.racers]
    betas = [BETA1_VALUES if b else (None,) for b in has_beta1]
    candidates = sum(len(b) for b in betas) * (count + refine)
    if candidates > MAX_CANDIDATES:
        raise ValueError(
            f"a tune runs ≤ {MAX_CANDIDATES} races: racers × beta1 values × (count + refine); got {candidates}"
        )
    if candidates * scene.steps > MAX_RACER_STEPS:
        raise ValueError(
            f"a tune runs candidates × steps ≤ {MAX_RACER_STEPS:,} racer-steps (candidates: racers × beta1 values × "
            f"(count + refine)); got {candidates} × {scene.steps} = {candidates * scene.steps:,}"
        )
    best = lowest_minimum(scene)
    lrs = _readable_geomspace(lr_min, lr_max, count)

    def grid(lr_values: list[float], beta_values: tuple[float | None, ...]) -> list[dict[str, float]]:
        return [{"lr": lr} if b is None else {"lr": lr, "beta1": b} for b in beta_values for lr in lr_values]

    winners = _round(scene, [grid(lrs, b) for b in betas], objective, best)
    if refine:
        finer: list[list[dict[str, float]]] = []
        for winner in winners:
            if winner is None or math.isinf(winner[0][0]):  # nothing stayed finite: nothing to refine
                finer.append([])
                continue
            k = lrs.index(winner[1]["lr"])
            low, high = lrs[max(0, k - 1)], lrs[min(len(lrs) - 1, k + 1)]
            beta_value = winner[1].get("beta1")
            finer.append(grid(_readable_geomspace(low, high, refine), (beta_value,)))
        refined = _round(scene, finer, objective, best)
        winners = [
            w if f is None or (w is not None and w[0] <= f[0]) else f for w, f in zip(winners, refined, strict=True)
        ]
    racers: list[Racer] = []
    report = []
    for r, (racer, winner) in enumerate(zip(scene.racers, winners, strict=True)):
        found = winner is not None and not math.isinf(winner[0][0])  # some candidate stayed finite
        override = winner[1] if winner is not None and found else {}
        keys = ["lr", "beta1"] if has_beta1[r] else ["lr"]
        before = {k: racer.params[k] for k in keys}
        tuned = {k: override.get(k, racer.params[k]) for k in keys}
        racers.append(racer.model_copy(update={"params": {**racer.params, **tuned}}))
        entry = {"label": racer.label, "optimizer": racer.optimizer, "color": racer.color}
        report.append({**entry, "before": before, "tuned": tuned, "found": found})
    tuned_scene = scene.model_copy(update={"racers": racers})
    race = run(tuned_scene)
    for entry, result in zip(report, race["racers"], strict=True):
        diverged = result["status"] == "diverged"
        entry.update(
            status=result["status"],
            final_gap=None if diverged else max(0.0, result["loss"][-1] - best),
            arrived_at=result["arrived_at"],
            diverged_at=result["diverged_at"],
        )
    return {
        "objective": {"name": objective, "description": OBJECTIVES[objective]},
        "search": {
            "lr": {"min": lr_min, "max": lr_max, "count": count, "scale": "log", "refine": refine},
            "beta1": list(BETA1_VALUES) if beta1 else None,
        },
        "racers": report,
        "scene": race["scene"],
        "race": race,
    }
