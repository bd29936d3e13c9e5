"""Racers stepping one by one on Python floats: the engine for races of a few racers.

A race steps every racer a few hundred to a few thousand times, one step after the other, and a
step is a handful of arithmetic operations per coordinate. On arrays of a few racers NumPy spends
about a microsecond per operation whatever the length, while Python does one operation on floats
in a few tens of nanoseconds: for a race's ≤ 16 racers, stepping each coordinate on floats is
several times faster than one NumPy expression for all of them (see bench/bench_core.py).

The racers whose rules fit the fused moment update step by ``core.fused``'s arithmetic, the others
by ``core.float_rules``, operation for operation and in the same order as on arrays, with the same
group-wide choices of which parts run, so every point and loss here equals, bit for bit, the NumPy
engine's: IEEE-754 +, −, ×, ÷ and √ are correctly rounded on floats and on arrays alike, and the
landscapes' exp, sin and cos are NumPy's, called on floats. (A NaN's own sign bit may differ; no
NaN ever leaves the server.) The tests check this on every landscape and every optimizer, with
noise, schedules and regularization.

Python raises where NumPy returns inf or NaN (a division by zero, a float power that overflows, the
square root of a negative; a negative number's fractional power is complex in Python, NaN in NumPy,
and fails when the chunk is made an array of floats); ``FloatsFailed`` tells the caller to run that
race on arrays instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.float_rules import Step, sqrt
from core.fused import BLOCK, FusedPlan
from core.landscapes import Surface

FloatArray = npt.NDArray[np.float64]


class FloatsFailed(Exception):
    """Python's float arithmetic raised where NumPy's would have returned inf or NaN."""


@dataclass(frozen=True)
class FloatRacers:
    """The racers of a race as this engine steps them.

    ``fused`` lists the racers (indices into the race's racers) that ``plan`` steps, in the plan's
    order; ``others`` the rest, each as (index, its step from core.float_rules, whether that step
    takes the Hessian, its learning rate of every update); ``array_groups`` how many NumPy groups
    the same racers make on arrays (core.race weighs the two engines by it).
    """

    count: int
    plan: FusedPlan | None
    fused: list[int]
    others: list[tuple[int, Step, bool, list[float]]]
    array_groups: int


def float_chunks(
    surface: Surface,
    start: Sequence[float],
    racers: FloatRacers,
    steps: int,
    gradient_noise: FloatArray | None,
    chunk_steps: int,
) -> Iterator[tuple[int, FloatArray, FloatArray]]:
    """Step ``racers`` ``steps`` times from ``start`` on floats.

    Yields ``(first, points (K, count, 2), loss (K, count))`` for steps first .. first + K − 1,
    as ``core.race.simulate`` chunks them; raises ``FloatsFailed`` (possibly after some chunks)
    where Python's arithmetic raises.
    """
    try:
        race = _FloatRace(surface, start, racers, steps, gradient_noise)
        for first in range(0, steps + 1, chunk_steps):
            trail, losses = race.chunk(first, min(chunk_steps, steps + 1 - first))
            yield (
                first,
                np.array(trail, dtype=np.float64).reshape(len(trail), racers.count, 2),
                np.array(losses, dtype=np.float64),
            )
    except (ArithmeticError, ValueError, TypeError) as error:  # ÷ 0, overflow; √ of a negative; a complex power
        raise FloatsFailed(str(error)) from error


class _FloatRace:
    """The racers' θ as a flat list of floats, racer i's x at 2i and y at 2i + 1; the fused racers'
    m, v and v̂ in the plan's order (coordinate k of the plan is θ's ``fused_at[k]``)."""

    def __init__(
        self,
        surface: Surface,
        start: Sequence[float],
        racers: FloatRacers,
        steps: int,
        gradient_noise: FloatArray | None,
    ):
        self.racers, self.steps = racers, steps
        self.value_and_grad, self.hessian_at = surface.on_floats(), surface.hessian_on_floats()
        self.noise = gradient_noise.tolist() if gradient_noise is not None else None
        self.points = [float(v) for _ in range(racers.count) for v in start]
        self.fused_at = [2 * i + c for i in racers.fused for c in (0, 1)]
        plan = racers.plan
        const = {name: values.reshape(-1).tolist() for name, values in plan.const.items()} if plan else {}
        n2 = len(self.fused_at)
        names = ("wd_c", "w", "alpha", "beta", "eps", "e", "f", "amsgrad")
        self.fused_constants = tuple(const[name] for name in names) if plan else ()
        self.m = [0.0] * n2
        self.v = [v0 + 0.0 for v0 in const["v0"]] if plan else []  # v0 + zeros, as the arrays' init
        self.v_max = [0.0] * n2
        self.tables: dict[str, list[list[float]]] = {}

    def chunk(self, first: int, size: int) -> tuple[list[list[float]], list[list[float]]]:
        """Points (2·count each) and losses (count each) of steps first .. first + size − 1."""
        # NumPy scalars from exp, sin and cos give inf and NaN as on arrays; errstate is a context
        # variable, so it is entered per chunk and never held across the caller's yield.
        with np.errstate(all="ignore"):
            trail: list[list[float]] = []
            losses: list[list[float]] = []
            for t in range(first, first + size):
                grads, loss_row = self._gradients()
                trail.append(self.points[:])
                losses.append(loss_row)
                if t == self.steps:
                    break
                if self.noise is not None:
                    nx, ny = self.noise[t]
                    for j in range(0, len(grads), 2):
                        grads[j] = grads[j] + nx
                        grads[j + 1] = grads[j + 1] + ny
                if self.racers.plan is not None:
                    self._fused_update(t, grads)
                self._other_updates(t, grads)
            return trail, losses

    def _gradients(self) -> tuple[list[float], list[float]]:
        """∇F and F at every racer's θ (Surface.on_floats: the bits of Surface.value_and_grad)."""
        at, points = self.value_and_grad, self.points
        grads = [0.0] * len(points)
        loss_row = [0.0] * self.racers.count
        for i in range(self.racers.count):
            loss_row[i], grads[2 * i], grads[2 * i + 1] = at(points[2 * i], points[2 * i + 1])
        return grads, loss_row

    def _fused_update(self, t: int, grads: list[float]) -> None:
        """Update t + 1 of the fused racers: core.fused's arithmetic, coordinate by coordinate."""
        plan = self.racers.plan
        assert plan is not None
        points, fused_at, m, v, v_max = self.points, self.fused_at, self.m, self.v, self.v_max
        wd_c, w, alpha, beta, eps, e, f_m, amsgrad = self.fused_constants
        any_coupled, any_amsgrad = plan.any_coupled, plan.any_amsgrad
        buffer, direction_is_m = plan.parts["buffer"], plan.direction_is_m
        row = t % BLOCK  # update t + 1 is row t % BLOCK of the block that starts at update t − row + 1
        if row == 0:  # the coefficients this plan uses, one per racer (both coordinates share them)
            block = plan.block(t + 1)
            self.tables = {name: block[name][:, :, 0].tolist() for name in plan.needed}
        tables = self.tables
        shrink = tables["shrink"][row] if plan.any_decoupled else None
        a, b = (tables["a"][row], tables["b"][row]) if buffer else (None, None)
        k1 = tables["k1"][row] if plan.parts["k1"] else None
        k2 = tables["k2"][row] if plan.parts["k2"] else None
        c1 = tables["c1"][row] if plan.parts["c1"] else None
        c2 = tables["c2"][row]
        for k, j in enumerate(fused_at):
            r = k >> 1  # the racer of coordinate k, in the plan's order
            theta = points[j] * shrink[r] if shrink is not None else points[j]
            g = grads[j] + wd_c[k] * theta if any_coupled else grads[j]
            mk = m[k]
            mk = (a[r] * mk + b[r] * g) + w[k] * (g - mk) if a is not None and b is not None else mk + w[k] * (g - mk)
            vk = alpha[k] * v[k] + beta[k] * g * g
            m[k], v[k] = mk, vk
            u = vk
            if any_amsgrad:
                vm = v_max[k]
                if vk > vm or vk != vk:  # np.maximum: NaN wins
                    vm = vk
                v_max[k] = vm
                if amsgrad[k]:
                    u = vm
            d = sqrt(u / k1[r]) if k1 is not None else sqrt(u)
            d = (d / k2[r] if k2 is not None else d) + eps[k]
            n = mk if direction_is_m else e[k] * g + f_m[k] * mk
            if c1 is not None:
                theta = theta + (c1[r] * g) / d
            points[j] = theta + (c2[r] * n) / d

    def _other_updates(self, t: int, grads: list[float]) -> None:
        """Update t + 1 of the racers outside the fused form, each by its own rule."""
        points, hessian_at = self.points, self.hessian_at
        for i, step, needs_hessian, lr in self.racers.others:
            x, y = points[2 * i], points[2 * i + 1]
            hessian = hessian_at(x, y) if needs_hessian else None
            points[2 * i], points[2 * i + 1] = step(x, y, grads[2 * i], grads[2 * i + 1], t + 1, lr[t], hessian)
