"""The one engine: every racer of a race, a sweep or a map stepped by one compiled loop.

A race is racers × steps: each racer is a rule (core.optimizers) with its hyperparameters and its
learning rate per update, all starting from the same point on the same surface (core.landscapes).
``advance`` steps every racer through a run of steps in compiled code, racer after racer, and finds
inside the loop what the race reports:

- a racer **diverges** at the first step whose point or loss is not finite or whose point leaves
  the bound (the landscape's domain widened by ``BOUND_FACTOR`` times its size on every side); it
  stops there, and its path, loss and internals end before that step, so no NaN or Infinity leaves;
- a racer **arrives** at the first step whose loss is within the landscape's tolerance of a known
  minimum's value while its point lies within the landscape's radius of that minimum.

A sweep is a race whose racers are one scene's racers at many learning rates, and a 2D
hyperparameter map is a race of racers × hyperparameter rows: neither needs another loop. With
``keep=False`` only the last step is kept, so thousands of racers cost no memory per step.

Gradient noise is drawn from the seed once per step and shared by all racers (one mini-batch
order for everyone), so a scene always gives the same race, and adding or moving a racer does
not change the others. With ``internals`` the loop also records, per update, the gradient each
racer saw, the step it took and its optimizer state under torch's names.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from core import optimizers
from core.jit import njit
from core.landscapes import LANDSCAPES, Surface, get_landscape, surface_hessian, surface_value_and_grad
from core.optimizers import LBFGS_ROWS, OPTIMIZERS, get_optimizer
from core.scene import Scene
from core.schedules import lr_per_step

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Status = Literal["arrived", "diverged", "running"]

BOUND_FACTOR = 10.0
DEFAULT_CHUNK = 250
MAX_INTERNALS = 20_000  # racers × steps of a race with internals (~200 bytes of JSON each: gradient, step, state)
MAX_INTERNAL_ROWS = 16 * MAX_INTERNALS  # racers × steps × state rows (8 bytes × 2 each) with internals


@njit(error_model="numpy", cache=True, nogil=True)
def advance(surface: Any, run: Any, racers: Any, out: Any) -> None:
    """Steps first .. first + size − 1 of every racer still in the race (the point of step t is after t updates).

    ``surface`` is (kind, p, program, constants, l1, l2, noise, recorded, bounds, minima, radius,
    tolerance): ``bounds`` (xlow, ylow, xhigh, yhigh), ``minima`` rows (x, y, value), ``recorded``
    (steps, 2), when it has rows, the gradients every racer sees instead of the surface's (``replay``).
    ``run`` is (first, size, steps, keep, internals). ``racers`` is (rules, hyper, needs_hessian, lrs, theta,
    state), a row per racer; ``lrs`` is (R, steps), and ``theta`` (R, 2) and ``state`` (R, S, 2) are
    read and advanced. ``out`` is (points, loss, arrived_at, diverged_at, final_loss, steps_run, grads,
    updates, states): each step's point and loss go to column k (k = step − first) of racer r's row of
    ``points`` (R, K, 2) and ``loss`` (R, K), or to column 0 when not ``keep``; ``arrived_at`` and
    ``diverged_at`` (−1: not yet), ``final_loss`` and ``steps_run`` (the last finite step) are updated;
    ``grads``, ``updates`` (R, K, 2) and ``states`` (R, K, S, 2) receive the internals of update
    step + 1 at column k, with ``internals``.

    The rule of each racer is chosen here, once per racer: ``_advance_racer`` is inlined once per
    rule with that rule inlined in it, so the loop over steps does not branch on the rule.
    """
    rules, hyper, needs_hessian, lrs, theta, state = racers
    first, diverged_at = run[0], out[3]
    for r in range(theta.shape[0]):
        if diverged_at[r] >= 0:
            continue
        args = (surface, run, (r, theta[r], state[r], hyper[r], needs_hessian[r], lrs[r]), out)
        rule = rules[r]
        if rule == 0:
            _advance_racer(optimizers.sgd, args)
        elif rule == 1:
            _advance_racer(optimizers.adagrad, args)
        elif rule == 2:
            _advance_racer(optimizers.rmsprop, args)
        elif rule == 3:
            _advance_racer(optimizers.adam, args)
        elif rule == 4:
            _advance_racer(optimizers.nadam, args)
        elif rule == 5:
            _advance_racer(optimizers.radam, args)
        elif rule == 6:
            _advance_racer(optimizers.adamax, args)
        elif rule == 7:
            _advance_racer(optimizers.adadelta, args)
        elif rule == 8:
            _advance_racer(optimizers.lion, args)
        elif rule == 9:
            _advance_racer(optimizers.newton, args)
        elif rule == 10:
            _advance_racer(optimizers.rprop, args)
        elif rule == 11:
            _advance_racer(optimizers.asgd, args)
        elif rule == 12:
            _advance_racer(optimizers.adafactor, args)
        elif rule == 13:
            _advance_racer(optimizers.lbfgs, args)
        else:
            diverged_at[r] = first  # no such rule


@njit(error_model="numpy", cache=True, inline="always")
def _advance_racer(step: Any, args: Any) -> None:
    """``advance`` for one racer, whose rule is ``step`` (compiled once per rule, the rule inlined)."""
    surface, run, racer, out = args
    kind, p, program, constants, l1, l2, noise, recorded, bounds, minima, radius, tolerance = surface
    first, size, steps, keep, internals = run
    r, position, racer_state, h, needs_hessian, lrs = racer
    points_out, loss_out, arrived_at, diverged_at, final_loss, steps_run, grads_out, updates_out, states_out = out
    has_noise = noise.shape[0] > 0
    replaying = recorded.shape[0] > 0
    g = np.empty(2)
    hess = np.zeros(3)
    for k in range(size):
        t = first + k
        x = position[0]
        y = position[1]
        loss, gx, gy = surface_value_and_grad(kind, p, program, constants, l1, l2, x, y)
        column = k if keep else 0
        points_out[r, column, 0] = x
        points_out[r, column, 1] = y
        loss_out[r, column] = loss
        healthy = (
            math.isfinite(loss)
            and math.isfinite(x)
            and math.isfinite(y)
            and bounds[0] <= x <= bounds[2]
            and bounds[1] <= y <= bounds[3]
        )
        if not healthy:
            diverged_at[r] = t
            return
        final_loss[r] = loss
        steps_run[r] = t
        if arrived_at[r] < 0:
            for m in range(minima.shape[0]):
                dx = x - minima[m, 0]
                dy = y - minima[m, 1]
                if math.sqrt(dx * dx + dy * dy) <= radius and loss - minima[m, 2] <= tolerance:
                    arrived_at[r] = t
                    break
        if t == steps:
            return
        if has_noise:
            gx = gx + noise[t, 0]
            gy = gy + noise[t, 1]
        if replaying:
            gx = recorded[t, 0]
            gy = recorded[t, 1]
        g[0] = gx
        g[1] = gy
        if needs_hessian:
            hess[0], hess[1], hess[2] = surface_hessian(kind, p, program, constants, l2, x, y)
        nx = noise[t, 0] if has_noise else 0.0
        ny = noise[t, 1] if has_noise else 0.0
        closure = (kind, p, program, constants, l1, l2, has_noise, nx, ny, loss)
        step(position, g, racer_state, t + 1, lrs[t], h, hess, closure)
        if internals:
            grads_out[r, k, 0] = gx
            grads_out[r, k, 1] = gy
            updates_out[r, k, 0] = position[0] - x
            updates_out[r, k, 1] = position[1] - y
            states_out[r, k] = racer_state


@dataclass(frozen=True)
class Entrant:
    """One racer as the engine sees it: an optimizer name, its resolved hyperparameters, its lr per step."""

    optimizer: str
    params: dict[str, Any]
    lr: FloatArray  # (steps,)


@dataclass
class Chunk:
    """Steps ``first`` .. ``first + K − 1`` of every racer, a row per racer in the racers' order.

    ``points[i, k]`` is racer i's point after ``first + k`` updates; ``loss`` its loss there;
    ``lr[i, k]`` the learning rate of update ``first + k`` (the one that leaves that point); the
    last chunk has one column fewer of ``lr``, as no update leaves the final point. ``internals``:
    (grads, updates, states) of the updates that leave these points, when the race records them.
    """

    first: int
    points: FloatArray  # (N, K, 2)
    loss: FloatArray  # (N, K)
    lr: FloatArray  # (N, K), or (N, K − 1) in the last chunk
    internals: tuple[FloatArray, FloatArray, FloatArray] | None = None


class Race:
    """Racers on one surface from one start, advanced chunk by chunk by ``advance``.

    After the chunks have been taken: ``arrived_at``, ``diverged_at`` (None where not),
    ``final_loss`` (the last finite loss, None if none) and ``steps_run`` per racer.
    """

    def __init__(
        self,
        surface: Surface,
        start: Sequence[float],
        entrants: Sequence[Entrant],
        steps: int,
        noise: float = 0.0,
        seed: int = 0,
        keep: bool = True,
        internals: bool = False,
        recorded: FloatArray | None = None,
    ):
        self.surface, self.steps, self.keep, self.internals = surface, steps, keep, internals
        self.count = count = len(entrants)
        specs = [get_optimizer(entrant.optimizer) for entrant in entrants]
        width = max([len(spec.compiled.hyper) for spec in specs] + [1])
        depth = max([spec.state_depth(entrant.params) for spec, entrant in zip(specs, entrants, strict=True)] + [1])
        self.rules = np.array([spec.compiled.number for spec in specs], dtype=np.int64)
        self.hyper = np.zeros((count, width))
        self.state = np.zeros((count, depth, 2))
        self.state_names: list[tuple[str, ...]] = []
        seen: dict[Any, tuple[FloatArray, tuple[float, ...], tuple[str, ...]]] = {}  # a sweep's racers differ by lr
        for i, (spec, entrant) in enumerate(zip(specs, entrants, strict=True)):
            key = (spec.name, *((k, v) for k, v in entrant.params.items() if k != "lr"))
            if key not in seen:
                arguments = spec.rule_arguments(entrant.params)
                initial = spec.compiled.initial_state(arguments)
                seen[key] = (spec.hyper(entrant.params), initial, spec.compiled.state_names(arguments))
            h, initial, names = seen[key]
            self.hyper[i, : len(h)] = h
            self.state[i, : len(initial)] = np.array(initial)[:, None]
            self.state_names.append(names)
        self.specs = specs
        self.needs_hessian = np.array([spec.compiled.needs_hessian for spec in specs], dtype=np.bool_)
        self.lrs = np.empty((count, steps))
        for i, entrant in enumerate(entrants):
            self.lrs[i] = entrant.lr
        self.noise = noise * np.random.default_rng(seed).standard_normal((steps, 2)) if noise > 0 else np.zeros((0, 2))
        self.recorded = np.zeros((0, 2)) if recorded is None else np.ascontiguousarray(recorded, dtype=np.float64)
        self.theta = np.tile(np.asarray(start, dtype=np.float64), (count, 1))
        d = surface.landscape.domain
        margin = BOUND_FACTOR * np.array([d.xmax - d.xmin, d.ymax - d.ymin])
        self.bounds = np.concatenate([np.array([d.xmin, d.ymin]) - margin, np.array([d.xmax, d.ymax]) + margin])
        self.minima = np.array([(*m.point, m.value) for m in surface.minima], dtype=np.float64).reshape(-1, 3)
        self._arrived = np.full(count, -1, dtype=np.int64)
        self._diverged = np.full(count, -1, dtype=np.int64)
        self._final_loss = np.full(count, np.nan)
        self._steps_run = np.zeros(count, dtype=np.int64)

    def chunks(self, chunk_steps: int = DEFAULT_CHUNK) -> Iterator[Chunk]:
        """The race in chunks of ``chunk_steps`` points, steps + 1 in all, the first starting at the start point."""
        if chunk_steps < 1:
            raise ValueError(f"chunk_steps must be >= 1, got {chunk_steps}")
        landscape = self.surface.landscape
        where = (self.bounds, self.minima, landscape.radius, landscape.tolerance)  # where racers diverge, arrive
        surface = (*self.surface.compiled, self.surface.l1, self.surface.l2, self.noise, self.recorded, *where)
        racers = (self.rules, self.hyper, self.needs_hessian, self.lrs, self.theta, self.state)
        totals = (self._arrived, self._diverged, self._final_loss, self._steps_run)
        count, depth = self.count, self.state.shape[1]
        for first in range(0, self.steps + 1, chunk_steps):
            size = min(chunk_steps, self.steps + 1 - first)
            rows = size if self.keep else 1
            points = np.full((count, rows, 2), np.nan)
            loss = np.full((count, rows), np.nan)
            updates = size if self.internals else 0
            grads_out = np.full((count, updates, 2), np.nan)
            updates_out = np.full((count, updates, 2), np.nan)
            states_out = np.full((count, updates, depth, 2), np.nan)
            out = (points, loss, *totals, grads_out, updates_out, states_out)
            advance(surface, (first, size, self.steps, self.keep, self.internals), racers, out)
            internals = (grads_out, updates_out, states_out) if self.internals else None
            yield Chunk(first, points, loss, self.lrs[:, first : first + size], internals)

    def length(self, i: int, chunk: Chunk) -> int:
        """How many of ``chunk``'s steps of racer i are before its divergence."""
        end = self.diverged_at[i]
        size = chunk.loss.shape[1]
        return size if end is None else max(0, min(size, end - chunk.first))

    @property
    def arrived_at(self) -> list[int | None]:
        return [None if step < 0 else int(step) for step in self._arrived]

    @property
    def diverged_at(self) -> list[int | None]:
        return [None if step < 0 else int(step) for step in self._diverged]

    @property
    def final_loss(self) -> list[float | None]:
        return [None if math.isnan(value) else float(value) for value in self._final_loss]

    @property
    def steps_run(self) -> list[int]:
        return [int(step) for step in self._steps_run]

    def evaluations(self, i: int) -> int | None:
        """How often racer i's rule evaluated the landscape over its updates (torch's ``func_evals``),
        for a rule that evaluates it itself (L-BFGS); None for the others (one evaluation per update)."""
        read = self.specs[i].compiled.evaluations
        return None if read is None else read(self.state[i])

    def status(self, i: int) -> Status:
        if self._diverged[i] >= 0:
            return "diverged"
        return "arrived" if self._arrived[i] >= 0 else "running"

    def internals_json(self, i: int, chunk: Chunk, n: int) -> dict[str, Any]:
        """Racer i's internals of the updates in ``chunk`` that leave its first ``n`` points (torch's state names).

        The update that leads to a divergence is left out, as its point is; a state value that is not
        finite (a running average overflowing while the point stays finite) is written as None.
        """
        assert chunk.internals is not None
        grads, updates, states = chunk.internals
        end = self.diverged_at[i]
        n = n - 1 if end is not None and end <= chunk.first + n else min(n, self.steps - chunk.first)
        n = max(n, 0)
        rule = self.specs[i].compiled
        state: dict[str, Any] = {}
        if rule.counts_steps:
            state["step"] = [float(t) for t in range(chunk.first + 1, chunk.first + n + 1)]
        for name, values in rule.named_state(states[i, :n], self.state_names[i]).items():
            state[name] = values if isinstance(values, list) else _finite_list(values)
        return {"grad": _finite_list(grads[i, :n]), "update": _finite_list(updates[i, :n]), "state": state}


def _finite_list(values: FloatArray) -> list[Any]:
    """``values.tolist()``, with None for every number that is not finite (JSON has no NaN or Infinity)."""
    if np.isfinite(values).all():
        return values.tolist()
    return np.where(np.isfinite(values), values, None).tolist()


def replay(
    optimizer: str, params: dict[str, Any], start: Sequence[float], grads: Any, lrs: Any
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """One racer fed recorded gradients (T, 2) with learning rates (T,), as torch's reference vectors are made.

    Returns its points after each update (T, 2) and its state after each update under torch's
    names, as torch keeps it for these hyperparameters: each (T, 2), or (T,) for a number such as
    ``step``; all of it by the race loop itself (the surface's own gradients unused).
    """
    spec = get_optimizer(optimizer)
    if spec.compiled.evaluations is not None:
        raise ValueError(f"{optimizer} evaluates its landscape itself: recorded gradients cannot replay it")
    resolved = spec.resolve(params)
    grads = np.asarray(grads, dtype=np.float64).reshape(-1, 2)
    steps = len(grads)
    entrant = Entrant(optimizer, resolved, np.asarray(lrs, dtype=np.float64))
    race = Race(get_landscape("booth").surface(), start, [entrant], steps, internals=True, recorded=grads)
    race.bounds = np.array([-np.inf, -np.inf, np.inf, np.inf])  # fed gradients: nothing is out of bounds
    race.minima = np.zeros((0, 3))
    chunk = next(race.chunks(steps + 1))
    assert chunk.internals is not None
    states = chunk.internals[2][0, :steps]
    rule = spec.compiled
    named = {"step": np.arange(1.0, steps + 1)} if rule.counts_steps else {}
    named.update(rule.named_state(states, race.state_names[0]))
    return chunk.points[0, 1:], named


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


def check_internals(scene: Scene) -> None:
    """Refuse a race whose internals would exceed MAX_INTERNALS racer-steps, or MAX_INTERNAL_ROWS state
    rows (racers × steps × the deepest racer's state rows: L-BFGS keeps its history), naming the limit."""
    size = len(scene.racers) * scene.steps
    if size > MAX_INTERNALS:
        raise ValueError(
            f"internals are limited to racers × steps ≤ {MAX_INTERNALS}; got {len(scene.racers)} × {scene.steps}"
        )
    depth = max([get_optimizer(racer.optimizer).state_depth(dict(racer.params)) for racer in scene.racers] + [1])
    if size * depth > MAX_INTERNAL_ROWS:
        raise ValueError(
            f"internals are limited to racers × steps × state rows ≤ {MAX_INTERNAL_ROWS} (an lbfgs racer has "
            f"{LBFGS_ROWS} + 3·history_size rows); got {len(scene.racers)} × {scene.steps} × {depth}"
        )


def race_frames(scene: Scene, chunk_steps: int = DEFAULT_CHUNK, internals: bool = False) -> Iterator[dict[str, Any]]:
    """The race as JSON-ready frames: a header, chunks of steps, a summary (the NDJSON stream's lines).

    ``{"type": "header", "scene": …, "racers": [{"label", "optimizer", "color"}], "minima": …}``,
    then ``{"type": "chunk", "first": t, "racers": [{"path", "loss", "lr"}]}`` (a diverged racer's
    path and loss stop before its divergence; lr is the schedule's, whole; with ``internals``, also
    ``"internals"``: the updates leaving those points), then
    ``{"type": "summary", "racers": [{"status", "arrived_at", "diverged_at", "final_loss", "steps_run"}]}``,
    with ``"evaluations"`` too for a racer whose rule evaluates the landscape itself (lbfgs: torch's
    ``func_evals``, every closure call of its updates, line-search trials included).
    """
    scene = scene.filled()
    if internals:
        check_internals(scene)
    surface = surface_of(scene)
    yield {
        "type": "header",
        "scene": scene.model_dump(mode="json"),
        "racers": [{"label": r.label, "optimizer": r.optimizer, "color": r.color} for r in scene.racers],
        "minima": [{"point": list(m.point), "value": m.value, "kind": m.kind} for m in surface.minima],
    }
    race = Race(surface, scene.start, entrants_of(scene), scene.steps, scene.noise, scene.seed, internals=internals)
    for chunk in race.chunks(chunk_steps):
        racers = []
        for i in range(race.count):
            n = race.length(i, chunk)
            racer = {
                "path": chunk.points[i, :n].tolist(),
                "loss": chunk.loss[i, :n].tolist(),
                "lr": chunk.lr[i].tolist(),
            }
            if internals:
                racer["internals"] = race.internals_json(i, chunk, n)
            racers.append(racer)
        yield {"type": "chunk", "first": chunk.first, "racers": racers}
    arrived_at, diverged_at, final_loss, steps_run = race.arrived_at, race.diverged_at, race.final_loss, race.steps_run
    yield {
        "type": "summary",
        "racers": [
            {
                "status": race.status(i),
                "arrived_at": arrived_at[i],
                "diverged_at": diverged_at[i],
                "final_loss": final_loss[i],
                "steps_run": steps_run[i],
                **({} if race.evaluations(i) is None else {"evaluations": race.evaluations(i)}),
            }
            for i in range(race.count)
        ],
    }


def run(scene: Scene, internals: bool = False) -> dict[str, Any]:
    """The whole race result (DESIGN.md): the filled scene and, per racer, path, loss, lr and status.

    ``path`` includes the start; ``lr[t]`` is the learning rate of update t (the one that leaves
    ``path[t]``), for every one of the scene's steps, even past a divergence. With ``internals``,
    each racer also has ``"internals": {"grad", "update", "state"}``, one entry per update it took.
    """
    frames = list(race_frames(scene, chunk_steps=scene.steps + 1, internals=internals))
    header, chunk, summary = frames[0], frames[1], frames[-1]
    racers = []
    for i, meta in enumerate(header["racers"]):
        racer = {"label": meta["label"], "optimizer": meta["optimizer"], "color": meta["color"]}
        racer.update(chunk["racers"][i])
        racer.update(summary["racers"][i])
        racers.append(racer)
    return {"scene": header["scene"], "minima": header["minima"], "racers": racers}


# --- start-up --------------------------------------------------------------------------------------

_warm = threading.Event()


def warm_up() -> None:
    """Compile (or load from the on-disk cache) every compiled function a request can reach.

    One race of every optimizer on every landscape, with noise and internals,
    and one landscape evaluation: numba compiles a function once per argument types, and these
    are the types every request uses. Safe to call again (then it costs about a millisecond).
    """
    defaults = {name: spec.resolve({}) for name, spec in OPTIMIZERS.items()}
    entrants = [Entrant(name, params, np.full(3, params["lr"])) for name, params in defaults.items()]
    for landscape in LANDSCAPES.values():
        surface = landscape.surface()
        surface.value_and_grad(np.array([list(landscape.start)]))
        surface.hessian(np.array([list(landscape.start)]))
        for internals in (False, True):
            race = Race(surface, landscape.start, entrants, 3, noise=0.1, internals=internals)
            for _ in race.chunks(2):
                pass
    _warm.set()


def is_warm() -> bool:
    """Whether ``warm_up`` has finished in this process."""
    return _warm.is_set()
