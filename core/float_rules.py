"""The rules outside the fused form (core.fused), one racer at a time on Python floats, for core.scalar.

Adam and NAdam with beta1 ≤ 0.5 (torch's other lerp branch), RMSProp with momentum or centering,
RAdam, Adamax, Adadelta, Lion and Newton: each is written here
as the NumPy rule of ``core.optimizers`` is, operation for operation and in the same order, so a
racer stepping here follows, bit for bit, the path it follows in its NumPy group (the tests check
this on every landscape). The rules' docstrings in ``core.optimizers`` state the math.

A group of racers of one rule on arrays makes a few choices for the whole group, e.g. "does anyone
decay weights?", which decides whether ``g + 0·θ`` is computed for a racer without decay; that
changes only the sign of a zero, but it is mirrored here too (``group``: the keyword arguments of
every racer of that rule in the race).

``stepper(factory, kwargs, group)`` gives a racer's step: ``step(x, y, gx, gy, t, lr, hessian)`` →
the new (x, y), for update t = 1, 2, …; ``hessian`` is (hxx, hxy, hyy) for ``newton`` (see
``NEEDS_HESSIAN``), else None.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from core.landscapes import sign
from core.optimizers import adadelta, adam, adamax, lerp, lion, nadam, newton, radam, rmsprop

Step = Callable[[float, float, float, float, int, float, Any], tuple[float, float]]
CoordinateStep = Callable[[float, float, int, int, float], float]  # (θ, g, coordinate, t, lr) → θ
Kwargs = Mapping[str, Any]

sqrt = math.sqrt


def maximum(a: float, b: float) -> float:
    """np.maximum on floats: NaN if either is NaN."""
    if a != a or b != b:
        return a if a != a else b
    return a if a >= b else b


def _any(group: Sequence[Kwargs], key: str, default: Any = 0.0) -> bool:
    return any(bool(kwargs.get(key, default)) for kwargs in group)


def _both(coordinate: CoordinateStep) -> Step:
    """A racer's step from a rule that acts on each coordinate alone."""

    def step(x: float, y: float, gx: float, gy: float, t: int, lr: float, hessian: Any) -> tuple[float, float]:
        return coordinate(x, gx, 0, t, lr), coordinate(y, gy, 1, t, lr)

    return step


def _weight_decay(group: Sequence[Kwargs], weight_decay: float, decoupled: bool) -> tuple[float, float, bool, bool]:
    """(decoupled wd, coupled wd) of this racer, and whether anyone in its group decays either way."""
    any_decoupled = any(k.get("weight_decay", 0.0) and k.get("decoupled_weight_decay") for k in group)
    any_coupled = any(k.get("weight_decay", 0.0) and not k.get("decoupled_weight_decay") for k in group)
    if decoupled:
        return weight_decay, 0.0, any_decoupled, any_coupled
    return 0.0, weight_decay, any_decoupled, any_coupled


def _adam(
    group: Sequence[Kwargs],
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
) -> Step:
    decoupled, coupled, any_decoupled, any_coupled = _weight_decay(group, weight_decay, decoupled_weight_decay)
    uses_max = _any(group, "amsgrad", False)
    exp_avg, exp_avg_sq, max_exp_avg_sq = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]

    def coordinate(p: float, g: float, c: int, t: int, lr: float) -> float:
        if any_decoupled:
            p = p * (1 - lr * decoupled)
        if any_coupled:
            g = g + coupled * p
        exp_avg[c] = m = lerp(exp_avg[c], g, 1 - beta1)
        exp_avg_sq[c] = v = exp_avg_sq[c] * beta2 + (1 - beta2) * g * g
        if uses_max:
            max_exp_avg_sq[c] = v_max = maximum(max_exp_avg_sq[c], v)
            if amsgrad:
                v = v_max
        step_size = lr / (1 - beta1**t)
        denom = sqrt(v) / (1 - beta2**t) ** 0.5 + eps
        return p + (-step_size * m) / denom

    return _both(coordinate)


def _nadam(
    group: Sequence[Kwargs],
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
) -> Step:
    decoupled, coupled, any_decoupled, any_coupled = _weight_decay(group, weight_decay, decoupled_weight_decay)
    exp_avg, exp_avg_sq = [0.0, 0.0], [0.0, 0.0]
    mu_product = 1.0  # Πμ, one per racer

    def step(x: float, y: float, gx: float, gy: float, t: int, lr: float, hessian: Any) -> tuple[float, float]:
        nonlocal mu_product
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = mu_product * mu
        moved = []
        for c, p, g in ((0, x, gx), (1, y, gy)):
            if any_decoupled:
                p = p * (1 - lr * decoupled)
            if any_coupled:
                g = g + coupled * p
            exp_avg[c] = m = lerp(exp_avg[c], g, 1 - beta1)
            exp_avg_sq[c] = v = exp_avg_sq[c] * beta2 + (1 - beta2) * g * g
            denom = sqrt(v / (1 - beta2**t)) + eps
            p = p + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
            moved.append(p + (((-lr * mu_next) / (1.0 - mu_product * mu_next)) * m) / denom)
        return moved[0], moved[1]

    return step


def _rmsprop(
    group: Sequence[Kwargs],
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> Step:
    decays = _any(group, "weight_decay")
    square_avg, grad_avg, buffer = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]

    def coordinate(p: float, g: float, c: int, t: int, lr: float) -> float:
        if decays:
            g = g + weight_decay * p
        square_avg[c] = s = square_avg[c] * alpha + (1 - alpha) * g * g
        if centered:
            grad_avg[c] = m = lerp(grad_avg[c], g, 1 - alpha)
            avg = sqrt(s - m * m)
        else:
            avg = sqrt(s)
        avg = avg + eps
        if momentum > 0:
            buffer[c] = b = buffer[c] * momentum + g / avg
            return p - lr * b
        return p + (-lr * g) / avg

    return _both(coordinate)


def _radam(
    group: Sequence[Kwargs],
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
) -> Step:
    decoupled, coupled, any_decoupled, any_coupled = _weight_decay(group, weight_decay, decoupled_weight_decay)
    exp_avg, exp_avg_sq = [0.0, 0.0], [0.0, 0.0]
    rho_inf = 2 / (1 - beta2) - 1

    def coordinate(p: float, g: float, c: int, t: int, lr: float) -> float:
        if any_decoupled:
            p = p * (1 - lr * decoupled)
        if any_coupled:
            g = g + coupled * p
        exp_avg[c] = m = lerp(exp_avg[c], g, 1 - beta1)
        exp_avg_sq[c] = v = exp_avg_sq[c] * beta2 + (1 - beta2) * g * g
        bias_correction2 = 1 - beta2**t
        corrected = m / (1 - beta1**t)
        rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = 1 / (sqrt(v) + eps) * bias_correction2**0.5
            return p - corrected * lr * adaptive_lr * rect
        return p - corrected * lr

    return _both(coordinate)


def _adamax(
    group: Sequence[Kwargs], beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0
) -> Step:
    decays = _any(group, "weight_decay")
    exp_avg, exp_inf = [0.0, 0.0], [0.0, 0.0]

    def coordinate(p: float, g: float, c: int, t: int, lr: float) -> float:
        if decays:
            g = g + weight_decay * p
        exp_avg[c] = m = lerp(exp_avg[c], g, 1 - beta1)
        exp_inf[c] = u = maximum(exp_inf[c] * beta2, abs(g) + eps)
        clr = lr / (1 - beta1**t)
        return p + (-clr * m) / u

    return _both(coordinate)


def _adadelta(group: Sequence[Kwargs], rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0) -> Step:
    decays = _any(group, "weight_decay")
    square_avg, acc_delta = [0.0, 0.0], [0.0, 0.0]

    def coordinate(p: float, g: float, c: int, t: int, lr: float) -> float:
        if decays:
            g = g + weight_decay * p
        square_avg[c] = s = square_avg[c] * rho + (1 - rho) * g * g
        delta = sqrt(acc_delta[c] + eps) / sqrt(s + eps) * g
        acc_delta[c] = acc_delta[c] * rho + (1 - rho) * delta * delta
        return p - lr * delta

    return _both(coordinate)


def _lion(group: Sequence[Kwargs], beta1: float = 0.9, beta2: float = 0.99, weight_decay: float = 1e-3) -> Step:
    exp_avg = [0.0, 0.0]

    def coordinate(p: float, g: float, c: int, t: int, lr: float) -> float:
        direction = sign(beta1 * exp_avg[c] + (1 - beta1) * g)
        exp_avg[c] = beta2 * exp_avg[c] + (1 - beta2) * g
        return p - lr * (direction + weight_decay * p)

    return _both(coordinate)


def _newton(group: Sequence[Kwargs], damping: float = 0.0) -> Step:
    def step(x: float, y: float, gx: float, gy: float, t: int, lr: float, hessian: Any) -> tuple[float, float]:
        hxx, hxy, hyy = hessian
        a = hxx + damping
        b = c = hxy
        d = hyy + damping
        det = a * d - b * c
        step_x = (d * gx - b * gy) / det
        step_y = (a * gy - c * gx) / det
        return x - lr * step_x, y - lr * step_y

    return step


_RULES: dict[Any, Callable[..., Step]] = {
    adam: _adam,
    nadam: _nadam,
    rmsprop: _rmsprop,
    radam: _radam,
    adamax: _adamax,
    adadelta: _adadelta,
    lion: _lion,
    newton: _newton,
}
NEEDS_HESSIAN = {newton}


def stepper(factory: Any, kwargs: Kwargs, group: Sequence[Kwargs]) -> Step | None:
    """One racer's step on floats for the rule ``factory(**kwargs)``, or None if there is none here."""
    rule = _RULES.get(factory)
    return rule(group, **kwargs) if rule is not None else None
