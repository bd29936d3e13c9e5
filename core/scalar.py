"""The fused moment update racer by racer on Python floats: the engine for races of a few racers.

A race steps every racer a few hundred to a few thousand times, one step after the other, and a
step is a handful of arithmetic operations per coordinate. On arrays of a few racers NumPy spends
about a microsecond per operation whatever the length, while Python does one operation on floats
in a few tens of nanoseconds: for a race's ≤ 16 racers, stepping each coordinate on floats is
several times faster than one NumPy expression for all of them (see bench/bench_core.py).

The arithmetic is that of ``core.fused`` (and so of torch), operation for operation and in the same
order, with the same group-wide choices of which parts run, so every point and loss here equals,
bit for bit, the NumPy engine's (IEEE-754 +, −, ×, ÷ and √ are correctly rounded on floats and on
arrays alike; the landscapes' exp, sin and cos are NumPy's, called on floats). The tests check
this on every landscape, every fusable optimizer, with noise, schedules and regularization.

Python raises where NumPy returns inf or NaN (a division by zero, a float power that overflows);
``FloatsFailed`` tells the caller to run that race on arrays instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

from core.fused import BLOCK, FusedPlan
from core.landscapes import Surface

FloatArray = npt.NDArray[np.float64]


class FloatsFailed(Exception):
    """Python's float arithmetic raised where NumPy's would have returned inf or NaN."""


def _sign(value: float) -> float:
    """np.sign on a float: ±1, 0.0 for ±0 (positive, as NumPy), NaN for NaN."""
    if value > 0:
        return 1.0
    if value < 0:
        return -1.0
    return 0.0 if value == 0 else value


def float_chunks(
    surface: Surface,
    start: Sequence[float],
    plan: FusedPlan,
    count: int,
    steps: int,
    gradient_noise: FloatArray | None,
    chunk_steps: int,
) -> Iterator[tuple[int, FloatArray, FloatArray]]:
    """Step ``count`` racers of one fused ``plan`` ``steps`` times from ``start`` on floats.

    Yields ``(first, points (K, count, 2), loss (K, count))`` for steps first .. first + K − 1,
    as ``core.race.simulate`` chunks them; raises ``FloatsFailed`` (possibly after some chunks)
    where Python's arithmetic raises.
    """
    try:
        yield from _chunks(surface, start, plan, count, steps, gradient_noise, chunk_steps)
    except (ArithmeticError, ValueError) as error:  # ZeroDivisionError, OverflowError; √ of a negative
        raise FloatsFailed(str(error)) from error


class _FloatRace:
    """The racers' θ, m, v and v̂ as flat lists of floats, racer i's x at 2i and y at 2i + 1."""

    def __init__(
        self,
        surface: Surface,
        start: Sequence[float],
        plan: FusedPlan,
        count: int,
        steps: int,
        gradient_noise: FloatArray | None,
    ):
        self.surface, self.plan, self.count, self.steps = surface, plan, count, steps
        self.noise = gradient_noise.tolist() if gradient_noise is not None else None
        n2 = 2 * count
        self.points = [float(v) for _ in range(count) for v in start]
        self.const = {name: values.reshape(-1).tolist() for name, values in plan.const.items()}
        self.m = [0.0] * n2
        self.v = [v0 + 0.0 for v0 in self.const["v0"]]  # v0 + zeros, as the arrays' init
        self.v_max = [0.0] * n2
        self.tables: dict[str, list[list[float]]] = {}

    def chunk(self, first: int, size: int) -> tuple[list[list[float]], list[list[float]]]:
        """Points (2·count each) and losses (count each) of steps first .. first + size − 1."""
        # NumPy scalars from exp, sin and cos give inf and NaN as on arrays; errstate is a context
        # variable, so it is entered per chunk and never held across the caller's yield.
        with np.errstate(all="ignore"):
            return self._chunk(first, size)

    def _chunk(self, first: int, size: int) -> tuple[list[list[float]], list[list[float]]]:
        f, params = self.surface.landscape.value_and_grad_xy, self.surface.params
        l1, l2 = self.surface.l1, self.surface.l2
        two_l2 = 2.0 * l2
        plan, count, steps, noise = self.plan, self.count, self.steps, self.noise
        n2 = 2 * count
        points, m, v, v_max = self.points, self.m, self.v, self.v_max
        wd_c, w, alpha, beta, eps, e, f_m, amsgrad = (
            self.const[name] for name in ("wd_c", "w", "alpha", "beta", "eps", "e", "f", "amsgrad")
        )
        any_decoupled, any_coupled, any_amsgrad = plan.any_decoupled, plan.any_coupled, plan.any_amsgrad
        buffer, has_k1, has_k2, has_c1 = (plan.parts[name] for name in ("buffer", "k1", "k2", "c1"))
        direction_is_m = plan.direction_is_m
        sqrt = math.sqrt
        racers = range(count)
        coordinates = range(n2)
        trail: list[list[float]] = []
        losses: list[list[float]] = []
        for t in range(first, first + size):
            grads = [0.0] * n2
            loss_row = [0.0] * count
            for i in racers:
                x, y = points[2 * i], points[2 * i + 1]
                loss, gx, gy = f(x, y, params)
                if l1:
                    loss = loss + l1 * (abs(x) + abs(y))
                    gx = gx + l1 * _sign(x)
                    gy = gy + l1 * _sign(y)
                if l2:
                    loss = loss + l2 * (x * x + y * y)
                    gx = gx + two_l2 * x
                    gy = gy + two_l2 * y
                loss_row[i] = loss
                grads[2 * i], grads[2 * i + 1] = gx, gy
            trail.append(points[:])
            losses.append(loss_row)
            if t == steps:
                break
            if noise is not None:
                nx, ny = noise[t]
                for j in range(0, n2, 2):
                    grads[j] = grads[j] + nx
                    grads[j + 1] = grads[j + 1] + ny
            row = t % BLOCK  # update t + 1 is row t % BLOCK of the block that starts at update t − row + 1
            if row == 0:
                self.tables = {name: values.reshape(BLOCK, n2).tolist() for name, values in plan.block(t + 1).items()}
            tables = self.tables
            shrink = tables["shrink"][row] if any_decoupled else None
            a, b = (tables["a"][row], tables["b"][row]) if buffer else (None, None)
            k1 = tables["k1"][row] if has_k1 else None
            k2 = tables["k2"][row] if has_k2 else None
            c1 = tables["c1"][row] if has_c1 else None
            c2 = tables["c2"][row]
            for j in coordinates:
                theta = points[j] * shrink[j] if shrink is not None else points[j]
                g = grads[j] + wd_c[j] * theta if any_coupled else grads[j]
                mj = m[j]
                mj = (a[j] * mj + b[j] * g) + w[j] * (g - mj) if buffer else mj + w[j] * (g - mj)
                vj = alpha[j] * v[j] + beta[j] * g * g
                m[j], v[j] = mj, vj
                u = vj
                if any_amsgrad:
                    vm = v_max[j]
                    if vj > vm or vj != vj:  # np.maximum: NaN wins
                        vm = vj
                    v_max[j] = vm
                    if amsgrad[j]:
                        u = vm
                d = sqrt(u / k1[j]) if k1 is not None else sqrt(u)
                d = (d / k2[j] if k2 is not None else d) + eps[j]
                n = mj if direction_is_m else e[j] * g + f_m[j] * mj
                if c1 is not None:
                    theta = theta + (c1[j] * g) / d
                points[j] = theta + (c2[j] * n) / d
        return trail, losses


def _chunks(
    surface: Surface,
    start: Sequence[float],
    plan: FusedPlan,
    count: int,
    steps: int,
    gradient_noise: FloatArray | None,
    chunk_steps: int,
) -> Iterator[tuple[int, FloatArray, FloatArray]]:
    race = _FloatRace(surface, start, plan, count, steps, gradient_noise)
    for first in range(0, steps + 1, chunk_steps):
        trail, losses = race.chunk(first, min(chunk_steps, steps + 1 - first))
        yield first, np.array(trail).reshape(len(trail), count, 2), np.array(losses)
