"""Run a race: every racer steps on the same surface from the same start, all at once.

Two engines give the same race, bit for bit. A race of a few racers steps each racer on Python
floats (core.scalar), which is then several times faster than NumPy. More racers (a sweep's
hundreds, or a dozen of one family) advance in groups on NumPy arrays, each group in one expression:
every racer whose rule fits the fused moment update (SGD, Momentum, Nesterov, AdaGrad, RMSProp,
Adam, AdamW, AMSGrad, NAdam; see core.fused) in one group, and the others by optimizer factory
(``rmsprop`` with momentum, ``radam``, ``lion``, …); the Python work per step is then one gradient
evaluation for everyone plus one update per group, whatever the number of racers.

Arrival and divergence are found after the fact, vectorized over the recorded steps:

- a racer **diverges** at the first step whose point or loss is not finite or whose point leaves
  the bound (the landscape's domain widened by ``BOUND_FACTOR`` times its size on every side);
  its path, loss and learning rates end before that step, so no NaN or Infinity ever leaves;
- a racer **arrives** at the first step whose loss is within the landscape's tolerance of a known
  minimum's value while its point lies within the landscape's radius of that minimum.

Gradient noise is drawn from the seed once per step and shared by all racers (one mini-batch
order for everyone), so a scene always gives the same race, and adding or moving a racer does
not change the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from core.float_rules import NEEDS_HESSIAN, stepper
from core.fused import fused_optimizer, fused_plan, moment_form
from core.landscapes import Surface, get_landscape
from core.optimizers import Optimizer, get_optimizer, make_group_optimizer
from core.scalar import FloatRacers, FloatsFailed, float_chunks
from core.scene import Scene
from core.schedules import lr_per_step

FloatArray = npt.NDArray[np.float64]
Status = Literal["arrived", "diverged", "running"]
Engine = Literal["auto", "floats", "arrays"]

BOUND_FACTOR = 10.0
DEFAULT_CHUNK = 250
# Floats cost about one unit of time per racer and step; arrays about FLOATS_PER_GROUP units per
# group and step, and as much again for the gradient (measured with bench/bench_core.py's
# --crossover). So "auto" takes floats while racers ≤ FLOATS_PER_GROUP × (groups + 1).
FLOATS_PER_GROUP = 5


@dataclass(frozen=True)
class Entrant:
    """One racer as the engine sees it: an optimizer name, its resolved hyperparameters, its lr per step."""

    optimizer: str
    params: dict[str, Any]
    lr: FloatArray  # (steps,)


@dataclass
class Chunk:
    """Steps ``first`` .. ``first + len − 1`` of every racer, in the racers' order.

    ``points[k, i]`` is racer i's point after ``first + k`` updates; ``loss`` its loss there;
    ``lr[k, i]`` the learning rate of update ``first + k`` (the one that leaves that point); the
    last chunk has one row fewer of ``lr``, as no update leaves the final point.
    """

    first: int
    points: FloatArray  # (K, N, 2)
    loss: FloatArray  # (K, N)
    lr: FloatArray  # (K, N), or (K − 1, N) in the last chunk


@dataclass
class Tracker:
    """Arrival and divergence found so far, updated chunk by chunk."""

    surface: Surface
    count: int
    arrived_at: list[int | None] = field(init=False)
    diverged_at: list[int | None] = field(init=False)

    def __post_init__(self) -> None:
        self.arrived_at = [None] * self.count
        self.diverged_at = [None] * self.count
        domain = self.surface.landscape.domain
        width, height = domain.xmax - domain.xmin, domain.ymax - domain.ymin
        self._low = np.array([domain.xmin - BOUND_FACTOR * width, domain.ymin - BOUND_FACTOR * height])
        self._high = np.array([domain.xmax + BOUND_FACTOR * width, domain.ymax + BOUND_FACTOR * height])
        self._minima = np.array([m.point for m in self.surface.minima], dtype=float).reshape(-1, 2)
        self._minimum_values = np.array([m.value for m in self.surface.minima], dtype=float)

    def observe(self, chunk: Chunk) -> None:
        """Record the first arrival and the first divergence within ``chunk``."""
        points, loss = chunk.points, chunk.loss
        with np.errstate(invalid="ignore", over="ignore"):
            healthy = (
                np.isfinite(loss)
                & np.all(np.isfinite(points), axis=-1)
                & np.all((points >= self._low) & (points <= self._high), axis=-1)
            )
            if len(self._minima):
                distance = np.linalg.norm(points[:, :, None, :] - self._minima[None, None], axis=-1)
                near = (distance <= self.surface.landscape.radius) & (
                    loss[:, :, None] - self._minimum_values <= self.surface.landscape.tolerance
                )
                at_minimum = np.any(near, axis=-1) & healthy
            else:
                at_minimum = np.zeros_like(healthy)
        for i in range(self.count):
            if self.diverged_at[i] is None and not healthy[:, i].all():
                self.diverged_at[i] = chunk.first + int(np.argmin(healthy[:, i]))
            if self.arrived_at[i] is None and at_minimum[:, i].any():
                step = chunk.first + int(np.argmax(at_minimum[:, i]))
                if self.diverged_at[i] is None or step < self.diverged_at[i]:
                    self.arrived_at[i] = step

    def status(self, i: int) -> Status:
        if self.diverged_at[i] is not None:
            return "diverged"
        return "arrived" if self.arrived_at[i] is not None else "running"

    def length(self, i: int, chunk: Chunk) -> int:
        """How many of ``chunk``'s steps of racer i are before its divergence."""
        end = self.diverged_at[i]
        return len(chunk.loss) if end is None else max(0, min(len(chunk.loss), end - chunk.first))


@dataclass(frozen=True)
class _Group:
    optimizer: Optimizer
    slice: slice  # where its racers sit in the engine's arrays
    lr: Any  # (steps, n, 2), or a list (steps,) when every member has the same schedule (None: baked in)


def simulate(
    surface: Surface,
    start: Sequence[float],
    entrants: Sequence[Entrant],
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    chunk_steps: int = DEFAULT_CHUNK,
    fuse: bool = True,
    engine: Engine = "auto",
) -> Iterator[Chunk]:
    """Step every entrant ``steps`` times from ``start``; yield the race in chunks of ``chunk_steps`` points.

    The first chunk starts with the start point (step 0), so the chunks hold steps + 1 points in all.
    Every engine gives the same race, bit for bit: ``"arrays"`` steps each group in one NumPy
    expression (``fuse=False``: one group per optimizer family, slower); ``"floats"`` steps each
    racer on Python floats (core.scalar), the fastest for a few racers; ``"auto"`` takes whichever
    is expected to be faster (see FLOATS_PER_GROUP), arrays if a racer's rule had no float form.
    """
    if chunk_steps < 1:
        raise ValueError(f"chunk_steps must be >= 1, got {chunk_steps}")
    gradient_noise = noise * np.random.default_rng(seed).standard_normal((steps, 2)) if noise > 0 else None
    lr_all = np.stack([entrant.lr for entrant in entrants], axis=1)  # (steps, N), racers' order
    # groups on arrays ≤ distinct rules + 1 (the fused group): past that bound floats cannot win, so a
    # sweep's hundreds of racers skip building them
    rules = len({get_optimizer(entrant.optimizer).factory for entrant in entrants})
    might_float = engine == "auto" and fuse and len(entrants) <= FLOATS_PER_GROUP * (rules + 2)
    racers = _float_racers(entrants) if engine == "floats" or might_float else None
    if racers is None and engine == "floats":
        raise ValueError("these racers have no float form (core.float_rules): step them on arrays")
    if engine == "auto" and racers is not None and len(entrants) > FLOATS_PER_GROUP * (racers.array_groups + 1):
        racers = None
    arrays = _simulate_arrays(surface, start, entrants, steps, gradient_noise, lr_all, chunk_steps, fuse)
    if racers is None:
        yield from arrays
        return
    done = 0
    try:
        floats = float_chunks(surface, start, racers, steps, gradient_noise, chunk_steps)
        for first, points, loss in floats:
            yield Chunk(first, points, loss, lr_all[first : first + len(loss)])
            done += 1
    except FloatsFailed:
        # Python raised where NumPy gives inf or NaN: the same race on arrays, from where floats stopped.
        for index, chunk in enumerate(arrays):
            if index >= done:
                yield chunk


def _float_racers(entrants: Sequence[Entrant]) -> FloatRacers | None:
    """The racers as the floats engine steps them, or None if one of them has no float form there."""
    fused: list[int] = []
    forms = []
    rest: list[tuple[int, Any, dict[str, Any]]] = []
    for index, entrant in enumerate(entrants):
        spec = get_optimizer(entrant.optimizer)
        kwargs = spec.factory_kwargs(entrant.params)
        form = moment_form(spec.factory, kwargs)
        if form is not None:
            fused.append(index)
            forms.append(form)
        else:
            rest.append((index, spec.factory, kwargs))
    groups: dict[Any, list[dict[str, Any]]] = {}  # the arrays engine's group of each rule
    for _, factory, kwargs in rest:
        groups.setdefault(factory, []).append(kwargs)
    others = []
    for index, factory, kwargs in rest:
        step = stepper(factory, kwargs, groups[factory])
        if step is None:
            return None
        others.append((index, step, factory in NEEDS_HESSIAN, entrants[index].lr.tolist()))
    plan = fused_plan(forms, np.stack([entrants[i].lr for i in fused], axis=1)) if fused else None
    array_groups = bool(fused) + len(groups)
    return FloatRacers(len(entrants), plan, fused, others, array_groups)


def _simulate_arrays(
    surface: Surface,
    start: Sequence[float],
    entrants: Sequence[Entrant],
    steps: int,
    gradient_noise: FloatArray | None,
    lr_all: FloatArray,
    chunk_steps: int,
    fuse: bool,
) -> Iterator[Chunk]:
    """``simulate`` on NumPy arrays: each group of racers steps in one expression."""
    groups, order = _groups(entrants, steps, fuse)
    count = len(entrants)
    start_points = np.tile(np.asarray(start, dtype=float), (count, 1))
    # Each group keeps its own (n, 2) array; the gradient is taken once per step on all of them.
    group_points = [start_points[group.slice] for group in groups]
    states = [group.optimizer.init(points) for group, points in zip(groups, group_points, strict=True)]
    needs_hessian = any(group.optimizer.needs_hessian for group in groups)
    slices = [group.slice for group in groups]
    updates = [group.optimizer.update for group in groups]
    lrs = [group.lr for group in groups]
    step = 0
    while step <= steps:
        size = min(chunk_steps, steps + 1 - step)
        trail = np.empty((size, count, 2))
        losses = np.empty((size, count))
        # errstate is a context variable: enter it per chunk, never across a yield (the consumer
        # may resume this generator in another thread, as a streaming server does).
        with np.errstate(all="ignore"):
            for k in range(size):
                points = np.concatenate(group_points) if len(groups) > 1 else group_points[0]
                loss, grads = surface.value_and_grad(points)
                trail[k] = points
                losses[k] = loss
                t = step + k
                if t == steps:
                    break
                if gradient_noise is not None:
                    grads = grads + gradient_noise[t]
                if needs_hessian:
                    hessians = surface.hessian(points)
                    for g, group in enumerate(groups):
                        extra = {"hessians": hessians[slices[g]]} if group.optimizer.needs_hessian else {}
                        group_points[g], states[g] = group.optimizer.update(
                            group_points[g], grads[slices[g]], states[g], group.lr[t], **extra
                        )
                    continue
                for g, update in enumerate(updates):
                    group_points[g], states[g] = update(group_points[g], grads[slices[g]], states[g], lrs[g][t])
        yield Chunk(step, trail[:, order], losses[:, order], lr_all[step : step + size])
        step += size


def _groups(entrants: Sequence[Entrant], steps: int, fuse: bool) -> tuple[list[_Group], npt.NDArray[np.intp]]:
    """Racers grouped, each group contiguous; ``order`` maps engine rows back to racers.

    With ``fuse``, every racer whose rule fits the fused moment update (core.fused) joins one group,
    whatever its optimizer; the others are grouped by optimizer factory.
    """
    fused: list[int] = []
    forms = []
    by_factory: dict[Callable[..., Optimizer], list[int]] = {}
    for index, entrant in enumerate(entrants):
        spec = get_optimizer(entrant.optimizer)
        form = moment_form(spec.factory, spec.factory_kwargs(entrant.params)) if fuse else None
        if form is not None:
            fused.append(index)
            forms.append(form)
        else:
            by_factory.setdefault(spec.factory, []).append(index)
    groups = []
    engine_order: list[int] = []
    if fused:
        lr_table = np.stack([entrants[i].lr for i in fused], axis=1)  # (steps, n), baked into the coefficients
        engine_order.extend(fused)
        groups.append(_Group(fused_optimizer(forms, lr_table), slice(0, len(fused)), [None] * steps))
    for factory, members in by_factory.items():
        specs = [get_optimizer(entrants[i].optimizer) for i in members]
        kwargs = [spec.factory_kwargs(entrants[i].params) for spec, i in zip(specs, members, strict=True)]
        lrs = np.stack([entrants[i].lr for i in members], axis=1)  # (steps, n)
        same_schedule = bool(np.all(lrs == lrs[:, :1]))
        lr = lrs[:, 0].tolist() if same_schedule else np.repeat(lrs[:, :, None], 2, axis=2)  # (steps, n, 2)
        first = len(engine_order)
        engine_order.extend(members)
        groups.append(_Group(make_group_optimizer(factory, kwargs), slice(first, len(engine_order)), lr))
    order = np.argsort(np.array(engine_order))
    return groups, order


# --- scenes ----------------------------------------------------------------------------------------


def entrants_of(scene: Scene) -> list[Entrant]:
    """Each racer of a filled scene as the engine needs it."""
    return [
        Entrant(
            racer.optimizer,
            dict(racer.params),
            lr_per_step(racer.schedule.name, racer.schedule.params, float(racer.params["lr"]), scene.steps),
        )
        for racer in scene.racers
    ]


def surface_of(scene: Scene) -> Surface:
    return get_landscape(scene.landscape.name).surface(scene.landscape.params, l1=scene.l1, l2=scene.l2)


def race_frames(scene: Scene, chunk_steps: int = DEFAULT_CHUNK, engine: Engine = "auto") -> Iterator[dict[str, Any]]:
    """The race as JSON-ready frames: a header, chunks of steps, a summary (the NDJSON stream's lines).

    ``{"type": "header", "scene": …, "racers": [{"label", "optimizer", "color"}], "minima": …}``,
    then ``{"type": "chunk", "first": t, "racers": [{"path", "loss", "lr"}]}`` (a diverged racer's
    path and loss stop before its divergence; lr is the schedule's, whole), then
    ``{"type": "summary", "racers": [{"status", "arrived_at", "diverged_at", "final_loss", "steps_run"}]}``.
    """
    scene = scene.filled()
    surface = surface_of(scene)
    yield {
        "type": "header",
        "scene": scene.model_dump(mode="json"),
        "racers": [{"label": r.label, "optimizer": r.optimizer, "color": r.color} for r in scene.racers],
        "minima": [{"point": list(m.point), "value": m.value, "kind": m.kind} for m in surface.minima],
    }
    tracker = Tracker(surface, len(scene.racers))
    last_loss: list[float | None] = [None] * len(scene.racers)
    last_step = [0] * len(scene.racers)
    chunks = simulate(
        surface, scene.start, entrants_of(scene), scene.steps, scene.noise, scene.seed, chunk_steps, engine=engine
    )
    for chunk in chunks:
        tracker.observe(chunk)
        racers = []
        for i in range(len(scene.racers)):
            n = tracker.length(i, chunk)
            if n:
                last_loss[i] = float(chunk.loss[n - 1, i])
                last_step[i] = chunk.first + n - 1
            racers.append(
                {
                    "path": chunk.points[:n, i].tolist(),
                    "loss": chunk.loss[:n, i].tolist(),
                    "lr": chunk.lr[:, i].tolist(),
                }
            )
        yield {"type": "chunk", "first": chunk.first, "racers": racers}
    yield {
        "type": "summary",
        "racers": [
            {
                "status": tracker.status(i),
                "arrived_at": tracker.arrived_at[i],
                "diverged_at": tracker.diverged_at[i],
                "final_loss": last_loss[i],
                "steps_run": last_step[i],
            }
            for i in range(len(scene.racers))
        ],
    }


def run(scene: Scene, engine: Engine = "auto") -> dict[str, Any]:
    """The whole race result (DESIGN.md): the filled scene and, per racer, path, loss, lr and status.

    ``path`` includes the start; ``lr[t]`` is the learning rate of update t (the one that leaves
    ``path[t]``), for every one of the scene's steps, even past a divergence.
    """
    frames = list(race_frames(scene, chunk_steps=scene.steps + 1, engine=engine))
    header, summary = frames[0], frames[-1]
    racers = []
    for i, meta in enumerate(header["racers"]):
        racer = {"label": meta["label"], "optimizer": meta["optimizer"], "color": meta["color"]}
        for key in ("path", "loss", "lr"):
            racer[key] = [value for frame in frames[1:-1] for value in frame["racers"][i][key]]
        racer.update(summary["racers"][i])
        racers.append(racer)
    return {"scene": header["scene"], "minima": header["minima"], "racers": racers}
