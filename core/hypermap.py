"""Hyperparameter maps: one racer of a scene re-run over a grid of two of its numeric hyperparameters.

Every cell is a full race from the scene's start, with the racer's optimizer, schedule and other
hyperparameters kept and only the two axes' values replaced: an optimizer hyperparameter (``lr``,
``beta1``, ``momentum``, ``weight_decay``, …) or a schedule parameter (``schedule.gamma``,
``schedule.T_max``, …). Per cell the map reports the final loss gap f(θ_T) − f* (f* the lowest
known minimum), the arrival step, or the step at which it diverged, exactly as the single race with
those values would (core.race.run): racers of a race never influence one another.

Axes are spaced on a ``log`` scale, a ``linear`` one, or ``one_minus_log`` (1 − v log-spaced: the
scale of a decay rate such as beta2, whose interesting values are 0.9, 0.99, 0.999). Each value is
rounded to the fewest significant digits (at least 4) that keep the axis strictly increasing, so a
clicked cell writes a readable number into the page's URL and the single race equals the cell.

Validation names the field and what is allowed: an axis that is not a numeric hyperparameter of
the racer, a range outside the spec's, a scale the range cannot take, too many cells. A cell that
breaks a rule linking several fields (``nesterov`` needs momentum > 0, a schedule's own checks) is
marked ``invalid`` with the reason, and the rest of the map is computed.

The grid is built by ``plan_map`` (scene, racer and two axes → one entrant per valid cell), raced by
``race_outcome`` (the only function that knows the engine: core.race's one compiled loop, every cell a
racer of one race) and reduced by ``cell_result`` (a racer's outcome → its cell) in ``map_frames``.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from core.optimizers import get_optimizer
from core.params import ParamSpec
from core.race import Entrant, Race, surface_of
from core.scene import Scene
from core.schedules import get_schedule, lr_per_step

Scale = Literal["log", "linear", "one_minus_log"]
Metric = Literal["final_gap", "arrived_at"]
SCALES: tuple[Scale, ...] = ("log", "linear", "one_minus_log")
METRICS: tuple[Metric, ...] = ("final_gap", "arrived_at")
MAX_AXIS = 128
MAX_CELLS = MAX_AXIS * MAX_AXIS
DEFAULT_COUNT = 32
MAX_RACER_STEPS = MAX_CELLS * 1000  # cells × steps: a 128 × 128 map of 1000 steps
SCHEDULE_PREFIX = "schedule."


@dataclass(frozen=True)
class Axis:
    """One axis as asked for: a hyperparameter name and, optionally, its range, count and scale.

    Omitted: the range is the spec's slider range (for a schedule length without one, 1 … steps),
    the scale the spec's slider scale, the count 32.
    """

    name: str
    min: float | None = None
    max: float | None = None
    count: int = DEFAULT_COUNT
    scale: Scale | None = None


@dataclass(frozen=True)
class GridAxis:
    """An axis checked against the racer's specs, with its values."""

    name: str
    field: str  # "map.x" or "map.y", for messages
    spec: ParamSpec
    scale: Scale
    values: list[float]

    @property
    def in_schedule(self) -> bool:
        return self.name.startswith(SCHEDULE_PREFIX)

    @property
    def key(self) -> str:
        return self.name.removeprefix(SCHEDULE_PREFIX)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scale": self.scale,
            "min": self.values[0],
            "max": self.values[-1],
            "count": len(self.values),
            "kind": self.spec.kind,
            "values": self.values,
        }


@dataclass(frozen=True)
class MapPlan:
    """The grid of one map: the filled scene, the racer, the axes, and an entrant per valid cell.

    ``cells[k]`` is the (row, column) = (y index, x index) of ``entrants[k]``; ``invalid`` maps an
    invalid cell to the reason its values cannot race.
    """

    scene: Scene
    racer: int
    x: GridAxis
    y: GridAxis
    entrants: list[Entrant]
    cells: list[tuple[int, int]]
    invalid: dict[tuple[int, int], str]


def numeric_axes(scene: Scene, racer: int) -> dict[str, ParamSpec]:
    """Every hyperparameter of racer ``racer`` a map can sweep: its optimizer's numbers, then its schedule's."""
    chosen = scene.racers[racer]
    axes = {spec.name: spec for spec in get_optimizer(chosen.optimizer).params if spec.kind in ("float", "int")}
    for spec in get_schedule(chosen.schedule.name).params:
        if spec.kind in ("float", "int"):
            axes[SCHEDULE_PREFIX + spec.name] = spec
    return axes


def default_y(scene: Scene, racer: int) -> str:
    """The y axis when none is named: the racer's first numeric hyperparameter after lr (beta1, momentum, …)."""
    if isinstance(racer, bool) or not isinstance(racer, int) or not 0 <= racer < len(scene.racers):
        raise ValueError(f"map.racer must be an integer in [0, {len(scene.racers) - 1}], got {racer!r}")
    return next(name for name in numeric_axes(scene, racer) if name != "lr")


def grid_axis(axis: Axis, field: str, specs: Mapping[str, ParamSpec], owner: str, steps: int) -> GridAxis:
    """Check ``axis`` against the racer's specs and space its values; ValueError names ``field``."""
    spec = specs.get(axis.name)
    if spec is None:
        raise ValueError(
            f"{field}: {owner} has no numeric hyperparameter {axis.name!r}; expected one of: {', '.join(specs)}"
        )
    if isinstance(axis.count, bool) or not isinstance(axis.count, int) or not 2 <= axis.count <= MAX_AXIS:
        raise ValueError(f"{field}.count must be an integer in [2, {MAX_AXIS}], got {axis.count!r}")
    scale = axis.scale if axis.scale is not None else spec.scale
    if scale not in SCALES:
        raise ValueError(f"{field}.scale must be one of: {', '.join(SCALES)}; got {scale!r}")
    low = axis.min if axis.min is not None else _default_bound(spec, "min", scale, steps)
    high = axis.max if axis.max is not None else _default_bound(spec, "max", scale, steps)
    where = f"{owner}.{axis.name}"
    for bound, value in (("min", low), ("max", high)):
        if value is None:
            raise ValueError(f"{field}.{bound} is required for {where} (its spec gives no slider {bound})")
        try:
            spec.check(value, owner)
        except ValueError as error:
            raise ValueError(f"{field}.{bound}: {error}") from None
    low, high = float(low), float(high)
    if not low < high:
        raise ValueError(f"{field}.min must be < {field}.max, got {low:g} and {high:g}")
    if scale == "log" and low <= 0:
        raise ValueError(f"{field}.min must be > 0 on a log scale, got {low:g}; use scale linear for a range from 0")
    if scale == "one_minus_log" and high >= 1:
        raise ValueError(f"{field}.max must be < 1 on a one_minus_log scale (1 − value log-spaced), got {high:g}")
    if spec.kind == "int":
        values = _integer_values(low, high, axis.count, scale, field)
    else:
        values = _readable(_spaced(low, high, axis.count, scale), scale)
    return GridAxis(axis.name, field, spec, scale, values)


def _default_bound(spec: ParamSpec, which: str, scale: Scale, steps: int) -> float | None:
    if which == "min":
        value = spec.slider_min if spec.slider_min is not None else spec.minimum
        if value is not None and scale == "log" and value <= 0:
            return None  # a log axis needs an explicit positive minimum
        return value
    if spec.slider_max is not None:
        return spec.slider_max
    if spec.kind == "int" and spec.maximum is not None and spec.maximum > steps:
        return float(steps)  # a schedule length: the race's own
    return spec.maximum


def _spaced(low: float, high: float, count: int, scale: Scale) -> list[float]:
    if scale == "log":
        values = np.geomspace(low, high, count)
    elif scale == "one_minus_log":
        values = 1.0 - np.geomspace(1.0 - low, 1.0 - high, count)
    else:
        values = np.linspace(low, high, count)
    values[0], values[-1] = low, high
    return [float(v) + 0.0 for v in values]


def _readable(values: list[float], scale: Scale) -> list[float]:
    """The values rounded to the fewest significant digits (≥ 4) that keep them strictly increasing; ends kept.

    On a one_minus_log axis 1 − value is rounded (0.99684, not 0.9968), then written back with 15 digits.
    """

    def rounded_one(v: float, digits: int) -> float:
        if scale == "one_minus_log":
            return float(f"{1.0 - float(f'{1.0 - v:.{digits}g}'):.15g}") + 0.0
        return float(f"{v:.{digits}g}") + 0.0

    for digits in range(4, 18):
        rounded = [values[0], *(rounded_one(v, digits) for v in values[1:-1]), values[-1]]
        if all(a < b for a, b in itertools.pairwise(rounded)):
            return rounded
    return values


def _integer_values(low: float, high: float, count: int, scale: Scale, field: str) -> list[float]:
    span = math.floor(high) - math.ceil(low) + 1
    if count > span:
        raise ValueError(f"{field}.count must be ≤ {span}, the number of integers in [{low:g}, {high:g}], got {count}")
    values = sorted({round(v) for v in _spaced(low, high, count, scale)})
    if len(values) < count:  # rounding merged some: evenly spaced integers instead
        values = sorted({round(v) for v in np.linspace(low, high, count)})
    return values


def plan_map(scene: Scene, racer: int, x: Axis, y: Axis) -> MapPlan:
    """One entrant per valid cell of the x × y grid for racer ``racer`` of ``scene``, rows along y."""
    scene = scene.filled()
    if isinstance(racer, bool) or not isinstance(racer, int) or not 0 <= racer < len(scene.racers):
        raise ValueError(f"map.racer must be an integer in [0, {len(scene.racers) - 1}], got {racer!r}")
    if x.name == y.name:
        raise ValueError(f"map.x and map.y must be two different hyperparameters, got {x.name!r} twice")
    chosen = scene.racers[racer]
    specs = numeric_axes(scene, racer)
    owner = chosen.optimizer
    gx = grid_axis(x, "map.x", specs, owner, scene.steps)
    gy = grid_axis(y, "map.y", specs, owner, scene.steps)
    work = len(gx.values) * len(gy.values) * scene.steps
    if work > MAX_RACER_STEPS:
        raise ValueError(
            f"a map runs map.x.count × map.y.count × steps ≤ {MAX_RACER_STEPS:,} racer-steps; got "
            f"{len(gx.values)} × {len(gy.values)} × {scene.steps} = {work:,}"
        )
    spec = get_optimizer(chosen.optimizer)
    # Every value is valid on its own (the axes are checked against their specs, the rest is the racer's): a
    # cell's hyperparameters are the racer's with the two replaced. A rule across fields (spec.requires, e.g.
    # nesterov's momentum > 0) marks the cells it rejects invalid, with resolve's own message.
    requires = [(rule.param, rule.greater_than) for rule in spec.requires]
    in_schedule = gx.in_schedule or gy.in_schedule
    # (axis key, whether it is a schedule's, whether an integer) for x and y
    (x_key, x_sched, x_int), (y_key, y_sched, y_int) = ((a.key, a.in_schedule, a.spec.kind == "int") for a in (gx, gy))
    entrants: list[Entrant] = []
    cells: list[tuple[int, int]] = []
    invalid: dict[tuple[int, int], str] = {}
    schedules: dict[tuple[Any, ...], Any] = {}  # lr per step, shared by the cells of one lr and schedule
    for row, yv in enumerate(gy.values):
        for column, xv in enumerate(gx.values):
            params = dict(chosen.params)
            schedule_params = dict(chosen.schedule.params) if in_schedule else chosen.schedule.params
            (schedule_params if x_sched else params)[x_key] = int(xv) if x_int else xv
            (schedule_params if y_sched else params)[y_key] = int(yv) if y_int else yv
            try:
                if any(not params[name] > bound for name, bound in requires):
                    spec.resolve(params)  # raises, naming the rule
                key = (params["lr"], *schedule_params.values()) if in_schedule else params["lr"]
                lrs = schedules.get(key)
                if lrs is None:
                    lrs = schedules[key] = lr_per_step(chosen.schedule.name, schedule_params, params["lr"], scene.steps)
            except ValueError as error:
                invalid[(row, column)] = str(error)
                continue
            entrants.append(Entrant(chosen.optimizer, params, lrs))
            cells.append((row, column))
    return MapPlan(scene, racer, gx, gy, entrants, cells, invalid)


@dataclass(frozen=True)
class Outcome:
    """What a race leaves of each entrant: its last loss, arrival and divergence steps."""

    final_loss: list[float]
    arrived_at: list[int | None]
    diverged_at: list[int | None]


def race_outcome(scene: Scene, entrants: Sequence[Entrant], threads: int | None = None) -> Outcome:
    """Race ``entrants`` on ``scene``'s surface from its start: core.race's one compiled loop.

    Only each racer's last step is kept (``keep=False``): a 128 × 128 map costs no memory per step. From
    PARALLEL_MIN entrants on, two halves race in two threads (``threads``: at most that many; default the
    machine's cores, at most 2): the compiled loop runs without the GIL, and racers never influence one another
    (the gradient noise of a step is the same for every racer), so the outcome is the one race's, bit for bit.
    """
    if not entrants:
        return Outcome([], [], [])
    workers = min(2, os.cpu_count() or 1) if threads is None else max(1, threads)
    if workers < 2 or len(entrants) < PARALLEL_MIN:
        return _one_race(scene, entrants)
    half = (len(entrants) + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda part: _one_race(scene, part), (entrants[:half], entrants[half:]))
    return Outcome(
        first.final_loss + second.final_loss,
        first.arrived_at + second.arrived_at,
        first.diverged_at + second.diverged_at,
    )


PARALLEL_MIN = 512  # entrants: a smaller race is done before a second thread pays for itself


def _one_race(scene: Scene, entrants: Sequence[Entrant]) -> Outcome:
    race = Race(surface_of(scene), scene.start, list(entrants), scene.steps, scene.noise, scene.seed, keep=False)
    for _ in race.chunks(scene.steps + 1):
        pass
    final = [math.nan if loss is None else loss for loss in race.final_loss]
    return Outcome(final, list(race.arrived_at), list(race.diverged_at))


def lowest_minimum(scene: Scene) -> float:
    return min(m.value for m in surface_of(scene).minima)


def cell_result(final_loss: float, arrived_at: int | None, diverged_at: int | None, best: float) -> dict[str, Any]:
    """One cell: status, final gap (None if diverged), arrival and divergence steps."""
    if diverged_at is not None:
        return {"status": "diverged", "final_gap": None, "arrived_at": arrived_at, "diverged_at": diverged_at}
    return {
        "status": "arrived" if arrived_at is not None else "running",
        "final_gap": max(0.0, float(final_loss) - best),
        "arrived_at": arrived_at,
        "diverged_at": None,
    }


INVALID_CELL: dict[str, Any] = {"status": "invalid", "final_gap": None, "arrived_at": None, "diverged_at": None}


def map_header(plan: MapPlan, metric: Metric = "final_gap") -> dict[str, Any]:
    """The map's first frame: the racer, the axes with their values, the racer's own setting, the filled scene.

    ``start_gap`` is f(start) − f*: a cell whose final gap exceeds it ended worse than where it began.
    """
    chosen = plan.scene.racers[plan.racer]

    def current(axis: GridAxis) -> float:
        return (chosen.schedule.params if axis.in_schedule else chosen.params)[axis.key]

    surface = surface_of(plan.scene)
    minimum = min(m.value for m in surface.minima)
    start_loss = float(surface.value(np.array([plan.scene.start], dtype=float))[0])
    return {
        "type": "header",
        "racer": plan.racer,
        "label": chosen.label,
        "optimizer": chosen.optimizer,
        "color": chosen.color,
        "metric": metric,
        "steps": plan.scene.steps,
        "minimum_value": minimum,
        "start_gap": max(0.0, start_loss - minimum),
        "x": plan.x.to_json(),
        "y": plan.y.to_json(),
        "current": {"x": current(plan.x), "y": current(plan.y)},
        "scene": plan.scene.model_dump(mode="json"),
    }


def map_frames(
    scene: Scene, racer: int, x: Axis, y: Axis, metric: Metric = "final_gap", rows_per_frame: int | None = None
) -> Iterator[dict[str, Any]]:
    """The map as frames: a header, rows of cells as their races finish, a summary (the NDJSON stream's lines).

    ``{"type": "rows", "first": j, "status": [[…]], "final_gap": [[…]], "arrived_at": [[…]],
    "diverged_at": [[…]]}`` holds rows j … of the grid (a row: every x at one y). The summary counts
    the cells by status, names the best cell (lowest final gap, ties by earlier arrival) and gives
    the reason of the first invalid cell.
    """
    if metric not in METRICS:
        raise ValueError(f"map.metric must be one of: {', '.join(METRICS)}; got {metric!r}")
    plan = plan_map(scene, racer, x, y)
    yield map_header(plan, metric)
    width, height = len(plan.x.values), len(plan.y.values)
    per_frame = height if rows_per_frame is None else max(1, rows_per_frame)
    best = lowest_minimum(plan.scene)
    index_of = {cell: k for k, cell in enumerate(plan.cells)}
    counts = {"arrived": 0, "running": 0, "diverged": 0, "invalid": 0}
    best_cell: tuple[Any, ...] | None = None
    for first in range(0, height, per_frame):
        rows = range(first, min(height, first + per_frame))
        members = [index_of[(r, c)] for r in rows for c in range(width) if (r, c) in index_of]
        outcome = race_outcome(plan.scene, [plan.entrants[k] for k in members])
        results = dict(
            zip(
                (plan.cells[k] for k in members),
                (
                    cell_result(outcome.final_loss[n], outcome.arrived_at[n], outcome.diverged_at[n], best)
                    for n in range(len(members))
                ),
                strict=True,
            )
        )
        frame: dict[str, Any] = {"type": "rows", "first": first}
        grid = [[results.get((r, c), INVALID_CELL) for c in range(width)] for r in rows]
        for key in ("status", "final_gap", "arrived_at", "diverged_at"):
            frame[key] = [[cell[key] for cell in row] for row in grid]
        for r, row in zip(rows, grid, strict=True):
            for c, cell in enumerate(row):
                counts[cell["status"]] += 1
                if cell["final_gap"] is not None:
                    rank = (cell["final_gap"], math.inf if cell["arrived_at"] is None else cell["arrived_at"], r, c)
                    if best_cell is None or rank < best_cell:
                        best_cell = rank
        yield frame
    reason = next((plan.invalid[cell] for cell in sorted(plan.invalid)), None)
    yield {
        "type": "summary",
        "counts": counts,
        "best": None
        if best_cell is None
        else {
            "row": best_cell[2],
            "column": best_cell[3],
            "x": plan.x.values[best_cell[3]],
            "y": plan.y.values[best_cell[2]],
            "final_gap": best_cell[0],
            "arrived_at": None if best_cell[1] == math.inf else best_cell[1],
        },
        "invalid_reason": reason,
    }


def hypermap(scene: Scene, racer: int, x: Axis, y: Axis, metric: Metric = "final_gap") -> dict[str, Any]:
    """The whole map at once: the header's fields, the grids (rows along y) and the summary's fields.

    Grids ``status``, ``final_gap``, ``arrived_at``, ``diverged_at`` are lists of rows, ``grid[j][i]``
    the cell at x = x.values[i], y = y.values[j]; ``status`` is arrived, running, diverged or invalid.
    """
    frames = list(map_frames(scene, racer, x, y, metric))
    header, rows, summary = frames[0], frames[1:-1], frames[-1]
    result = {k: v for k, v in header.items() if k != "type"}
    for key in ("status", "final_gap", "arrived_at", "diverged_at"):
        result[key] = [row for frame in rows for row in frame[key]]
    result.update({k: v for k, v in summary.items() if k != "type"})
    return result
