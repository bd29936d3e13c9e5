"""Measures of a racer's path that a caption can claim: zig-zag, smoothness, progress, the final gap.

Every measure is a plain function of the race result's ``path`` (a list of [x, y], start included)
or ``loss``, so a test can hold a caption's words against the race:

- ``reversals(path)``: how many times the step turns back, i.e. the number of k with
  ⟨Δₖ, Δₖ₊₁⟩ < 0 (consecutive steps Δₖ = θₖ₊₁ − θₖ at more than 90° to each other): a zig-zag;
- ``cross_flips(path, across)``: how many times the step's component along the unit vector
  ``across`` (the direction across a valley) changes sign: a zig-zag across the walls;
- ``cross_travel(path, across)``: Σ |⟨Δₖ, across⟩|, the distance travelled across the valley;
- ``path_ratio(path)``: path length divided by the straight distance from its first to its last
  point (1 for a straight line; large for a wandering or chattering path);
- ``along(path, direction)``: ⟨θ_last, direction⟩, where the last point sits along a valley's floor;
- ``final_gap(result, racer)``: the last loss minus the lowest minimum's value (∞ once diverged).

``window`` (first, last) limits a path measure to the steps first … last (points first … last + 1),
e.g. the first 50 steps of a race.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Path = Sequence[Sequence[float]]


def _steps(path: Path, window: Sequence[int] | None = None) -> np.ndarray:
    points = np.asarray(path, dtype=float).reshape(-1, 2)
    if window is not None:
        first, last = window
        points = points[first : last + 2]
    return np.diff(points, axis=0)


def unit(angle_degrees: float) -> tuple[float, float]:
    """The unit vector at ``angle_degrees`` from the x axis."""
    return math.cos(math.radians(angle_degrees)), math.sin(math.radians(angle_degrees))


def reversals(path: Path, window: Sequence[int] | None = None) -> int:
    """Number of k with ⟨Δₖ, Δₖ₊₁⟩ < 0: the step turns back by more than 90°."""
    steps = _steps(path, window)
    if len(steps) < 2:
        return 0
    return int(np.count_nonzero(np.einsum("ij,ij->i", steps[:-1], steps[1:]) < 0))


def cross_flips(path: Path, across: Sequence[float], window: Sequence[int] | None = None) -> int:
    """Number of sign changes of the steps' component along ``across`` (zero components skipped)."""
    component = _steps(path, window) @ np.asarray(across, dtype=float)
    signs = np.sign(component[component != 0])
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def cross_travel(path: Path, across: Sequence[float], window: Sequence[int] | None = None) -> float:
    """Σ |⟨Δₖ, across⟩|: how far the path travels across the valley, back and forth."""
    return float(np.abs(_steps(path, window) @ np.asarray(across, dtype=float)).sum())


def path_length(path: Path, window: Sequence[int] | None = None) -> float:
    return float(np.linalg.norm(_steps(path, window), axis=1).sum())


def path_ratio(path: Path, window: Sequence[int] | None = None) -> float:
    """Path length over the straight distance between its ends (∞ if it ends where it began)."""
    points = np.asarray(path, dtype=float).reshape(-1, 2)
    if window is not None:
        points = points[window[0] : window[1] + 2]
    straight = float(np.linalg.norm(points[-1] - points[0]))
    length = path_length(points)
    return length / straight if straight > 0 else (math.inf if length > 0 else 1.0)


def along(path: Path, direction: Sequence[float]) -> float:
    """⟨θ_last, direction⟩: where the last point sits along ``direction``."""
    return float(np.asarray(path[-1], dtype=float) @ np.asarray(direction, dtype=float))


def lowest_minimum(result: dict[str, Any]) -> float:
    return min((m["value"] for m in result["minima"]), default=0.0)


def final_gap(result: dict[str, Any], index: int) -> float:
    """The racer's last loss above the lowest minimum; ∞ for a racer that diverged."""
    racer = result["racers"][index]
    if racer["status"] == "diverged" or not racer["loss"]:
        return math.inf
    return racer["loss"][-1] - lowest_minimum(result)
