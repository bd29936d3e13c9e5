"""Learning-rate sensitivity: each racer of a scene re-run at K log-spaced learning rates, in one vectorized race.

For every racer and every learning rate lrₖ = lr_min·(lr_max/lr_min)^(k/(K−1)), the racer's
optimizer, hyperparameters and schedule are kept and only the base learning rate is replaced. All
racers × rates advance together in core.race's one compiled loop, and the sweep reports for each
the final loss gap f(θ_T) − f* (f* the lowest known minimum) and the arrival step, or the step at
which it diverged. This is the lecture's "SGD blows up first, Adam is the last to lose stability".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.race import Entrant, Race, surface_of
from core.scene import Scene
from core.schedules import lr_per_step

MAX_SWEEP_RACERS = 1024


def log_spaced(lr_min: float, lr_max: float, count: int) -> list[float]:
    """``count`` learning rates from lr_min to lr_max, evenly spaced on a log scale."""
    if not (0 < lr_min < lr_max) or not np.isfinite(lr_max):
        raise ValueError(f"lr_min and lr_max must satisfy 0 < lr_min < lr_max, got {lr_min}, {lr_max}")
    if not 2 <= count <= 256:
        raise ValueError(f"count must be an integer in [2, 256], got {count}")
    return np.geomspace(lr_min, lr_max, count).tolist()


def sweep(scene: Scene, lr_min: float = 1e-4, lr_max: float = 10.0, count: int = 32) -> dict[str, Any]:
    """Final loss gap and arrival step of every racer of ``scene`` at ``count`` log-spaced learning rates.

    Returns ``{"lrs": [...], "racers": [{"label", "optimizer", "color", "final_gap": [...],
    "arrived_at": [...], "diverged_at": [...]}]}``; ``final_gap[k]`` is None where the racer diverged.
    """
    lrs = log_spaced(lr_min, lr_max, count)
    scene = scene.filled()
    if len(scene.racers) * count > MAX_SWEEP_RACERS:
        raise ValueError(f"a sweep runs racers × count ≤ {MAX_SWEEP_RACERS} races; got {len(scene.racers)} × {count}")
    surface = surface_of(scene)
    entrants = [
        Entrant(
            racer.optimizer,
            {**racer.params, "lr": lr},
            lr_per_step(racer.schedule.name, racer.schedule.params, lr, scene.steps),
        )
        for racer in scene.racers
        for lr in lrs
    ]
    race = Race(surface, scene.start, entrants, scene.steps, scene.noise, scene.seed, keep=False)
    for _ in race.chunks(scene.steps + 1):
        pass
    final, arrived_at, diverged_at = race.final_loss, race.arrived_at, race.diverged_at
    best = min(m.value for m in surface.minima)
    racers = []
    for r, racer in enumerate(scene.racers):
        rows = range(r * count, (r + 1) * count)
        racers.append(
            {
                "label": racer.label,
                "optimizer": racer.optimizer,
                "color": racer.color,
                "final_gap": [None if diverged_at[i] is not None else max(0.0, final[i] - best) for i in rows],
                "arrived_at": [arrived_at[i] for i in rows],
                "diverged_at": [diverged_at[i] for i in rows],
            }
        )
    return {"lrs": lrs, "racers": racers}
