"""One NumPy expression for racers of different optimizers: the moment update all the common ones share.

SGD (with momentum, dampening, Nesterov), AdaGrad, RMSProp (plain), Adam, AdamW, AMSGrad and NAdam
are all instances of one update, for t = 1, 2, ..., with per-racer coefficients:

    θ ← θ·shrinkₜ                          decoupled weight decay: shrinkₜ = 1 − lrₜ·wd
    g ← g + wd_c·θ                         coupled weight decay (L2 through the gradient)
    m ← (aₜ·m + bₜ·g) + w·(g − m)          SGD's buffer (aₜ = momentum, bₜ = 1 − dampening) or Adam's lerp (w)
    v ← α·v + (β·g)·g                      running (α < 1) or summed (α = β = 1) squares; 0 for SGD
    v̂ ← max(v̂, v); u ← v̂ if amsgrad else v
    d ← √(u / k1ₜ) / k2ₜ + ε               Adam: k2 = √(1 − beta2ᵗ); NAdam: k1 = 1 − beta2ᵗ; SGD: d = 1
    n ← e·g + f·m                          the direction: m, g, or Nesterov's g + momentum·m
    θ ← θ + (c1ₜ·g)/d + (c2ₜ·n)/d          NAdam's two terms; everyone else uses one of them

Every coefficient that an optimizer does not use is 0 or 1 exactly, and the operations are those of
its torch rule in torch's order, so a racer's path in the fused group equals, bit for bit, its path
alone under its own init/update pair in ``core.optimizers`` (the tests check this for every
optimizer here, over non-default hyperparameters and schedules). What does not fit — RMSProp with
momentum or centering, RAdam, Adamax, Adadelta, Lion, Newton, and Adam or NAdam with beta1 ≤ 0.5,
whose lerp takes torch's other branch — steps in its own group as before.

Why: NumPy spends about a microsecond per operation on arrays this small, whatever their length,
so ten racers of ten optimizers cost one fused update instead of ten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from core.optimizers import Optimizer, adagrad, adam, nadam, rmsprop, sgd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BLOCK = 256  # steps of coefficient tables built at a time

# Per racer and step: the coefficients that change with t (or with the learning rate).
STEP_COEFFICIENTS = ("shrink", "a", "b", "k1", "k2", "c1", "c2")
# Per racer: the coefficients that are constant over the race.
CONSTANTS = ("wd_c", "wd_d", "w", "alpha", "beta", "eps", "e", "f", "amsgrad", "v0")
# Which parts of the update a racer needs (1) or leaves at an exact no-op (0); a part no racer
# needs is skipped, which changes nothing since ×1, /1 and +0 are exact.
PARTS = ("buffer", "k1", "k2", "c1")


@dataclass(frozen=True)
class MomentForm:
    """One racer's coefficients: ``constants``, and ``per_step(t, lr)`` → STEP_COEFFICIENTS, each (len(t),).

    ``t`` counts updates from 1; ``lr`` is the learning rate of each of those updates. Powers are
    taken with Python's float power, one by one, as torch and ``core.optimizers`` take them.
    """

    constants: Mapping[str, float]
    per_step: Callable[[IntArray, FloatArray], tuple[Any, ...]]


def moment_form(factory: Any, kwargs: Mapping[str, Any]) -> MomentForm | None:
    """The fused coefficients of one racer (its factory and arguments), or None if its rule does not fit."""
    form = _FORMS.get(factory)
    return form(**kwargs) if form is not None else None


def _constants(**given: float) -> dict[str, float]:
    base = dict.fromkeys(CONSTANTS + PARTS, 0.0)
    base["eps"] = 1.0  # d = √0 + 1 = 1 for those without a denominator
    base.update(given)
    return base


def _powers(base: float, t: IntArray, scale: float = 1.0) -> FloatArray:
    """base ** (t·scale) for consecutive steps t, with Python's float power (NumPy's may differ in the last place).

    Cached: a sweep's racers share their betas, and every block asks again for its steps.
    """
    return _power_range(base, scale, int(t[0]), int(t[-1]) + 1)


@lru_cache(maxsize=1024)
def _power_range(base: float, scale: float, first: int, stop: int) -> FloatArray:
    powers = np.array([base ** (t * scale) if scale != 1.0 else base**t for t in range(first, stop)])
    powers.flags.writeable = False
    return powers


@lru_cache(maxsize=1024)
def _bias_root(beta2: float, first: int, stop: int) -> FloatArray:
    """(1 − beta2ᵗ) ** 0.5 for t in [first, stop), with Python's float power as torch."""
    roots = np.array([(1 - b) ** 0.5 for b in _power_range(beta2, 1.0, first, stop)])
    roots.flags.writeable = False
    return roots


def _sgd_form(
    momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False
) -> MomentForm:
    """SGD: b ← g at t = 1, then momentum·b + (1 − dampening)·g; θ ← θ + (−lr)·(g + momentum·b | b | g)."""
    if momentum == 0:
        return MomentForm(_constants(wd_c=weight_decay, e=1.0), lambda t, lr: (1.0, 0.0, 0.0, 1.0, 1.0, 0.0, -lr))
    constants = _constants(wd_c=weight_decay, e=1.0 if nesterov else 0.0, f=momentum if nesterov else 1.0, buffer=1.0)
    return MomentForm(
        constants,
        lambda t, lr: (1.0, np.where(t == 1, 0.0, momentum), np.where(t == 1, 1.0, 1 - dampening), 1.0, 1.0, 0.0, -lr),
    )


def _adagrad_form(
    lr_decay: float = 0.0, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> MomentForm:
    """AdaGrad: s ← s + g²; θ ← θ + (−clr·g)/(√s + eps), clr = lr/(1 + (t − 1)·lr_decay)."""
    constants = _constants(wd_c=weight_decay, alpha=1.0, beta=1.0, eps=eps, v0=initial_accumulator_value, c1=1.0)
    return MomentForm(constants, lambda t, lr: (1.0, 0.0, 0.0, 1.0, 1.0, -(lr / (1 + (t - 1) * lr_decay)), 0.0))


def _rmsprop_form(
    alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False
) -> MomentForm | None:
    """RMSProp without momentum or centering: v ← alpha·v + (1 − alpha)·g²; θ ← θ + (−lr·g)/(√v + eps)."""
    if momentum > 0 or centered:
        return None
    constants = _constants(wd_c=weight_decay, alpha=alpha, beta=1 - alpha, eps=eps, c1=1.0)
    return MomentForm(constants, lambda t, lr: (1.0, 0.0, 0.0, 1.0, 1.0, -lr, 0.0))


def _weight_decay(weight_decay: float, decoupled: bool) -> tuple[float, float]:
    """(decoupled, coupled) weight decay."""
    return (weight_decay, 0.0) if decoupled else (0.0, weight_decay)


def _adam_form(
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
) -> MomentForm | None:
    """Adam: m lerp, v, θ ← θ + (−lr/(1 − beta1ᵗ)·m)/(√u/√(1 − beta2ᵗ) + eps)."""
    if 1 - beta1 >= 0.5:
        return None
    decoupled, coupled = _weight_decay(weight_decay, decoupled_weight_decay)
    constants = _constants(
        wd_c=coupled, wd_d=decoupled, w=1 - beta1, alpha=beta2, beta=1 - beta2, eps=eps, f=1.0, amsgrad=amsgrad, k2=1.0
    )

    def per_step(t: IntArray, lr: FloatArray) -> tuple[Any, ...]:
        k2 = _bias_root(beta2, int(t[0]), int(t[-1]) + 1)
        return (1 - lr * decoupled, 1.0, 0.0, 1.0, k2, 0.0, -(lr / (1 - _powers(beta1, t))))

    return MomentForm(constants, per_step)


def _nadam_form(
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
) -> MomentForm | None:
    """NAdam: d = √(v/(1 − beta2ᵗ)) + eps; θ ← θ + (c1·g)/d + (c2·m)/d with torch's μ products."""
    if 1 - beta1 >= 0.5:
        return None
    decoupled, coupled = _weight_decay(weight_decay, decoupled_weight_decay)
    constants = _constants(
        wd_c=coupled, wd_d=decoupled, w=1 - beta1, alpha=beta2, beta=1 - beta2, eps=eps, f=1.0, k1=1.0, c1=1.0
    )

    def mu(t: IntArray) -> FloatArray:
        return beta1 * (1.0 - 0.5 * _powers(0.96, t, momentum_decay))

    products = np.array([1.0])  # Πμ after 0, 1, 2, ... steps, grown block by block

    def per_step(t: IntArray, lr: FloatArray) -> tuple[Any, ...]:
        nonlocal products
        mu_t, mu_next = mu(t), mu(t + 1)
        if len(products) <= t[-1]:  # multiply on in order, as torch's state does (cumprod is sequential)
            grown = np.arange(len(products), t[-1] + 1)
            products = np.concatenate([products, np.cumprod(np.concatenate([products[-1:], mu(grown)]))[1:]])
        mu_product = products[t]
        c1 = -lr * (1.0 - mu_t) / (1.0 - mu_product)
        c2 = (-lr * mu_next) / (1.0 - mu_product * mu_next)
        return (1 - lr * decoupled, 1.0, 0.0, 1 - _powers(beta2, t), 1.0, c1, c2)

    return MomentForm(constants, per_step)


_FORMS = {sgd: _sgd_form, adagrad: _adagrad_form, rmsprop: _rmsprop_form, adam: _adam_form, nadam: _nadam_form}


class FusedState(NamedTuple):
    step: int
    exp_avg: FloatArray  # m, (N, 2)
    exp_avg_sq: FloatArray  # v, (N, 2)
    max_exp_avg_sq: FloatArray  # v̂, (N, 2)
    tables: dict[str, FloatArray]  # this block's STEP_COEFFICIENTS, each (BLOCK, N, 2)


@dataclass(frozen=True)
class FusedPlan:
    """What the fused update of a group of racers needs: constants, which parts run, coefficient blocks.

    ``const[name]`` is (N, 2) per CONSTANTS name; a part is skipped for the whole group only when no
    racer needs it (``needed`` lists the STEP_COEFFICIENTS that are used); ``block(first)`` builds
    the coefficients of updates first .. first + BLOCK − 1, each (BLOCK, N, 2).
    """

    const: dict[str, FloatArray]
    any_coupled: bool
    any_decoupled: bool
    any_amsgrad: bool
    parts: dict[str, bool]
    direction_is_m: bool
    needed: tuple[str, ...]
    block: Callable[[int], dict[str, FloatArray]]


def fused_plan(forms: Sequence[MomentForm], lr_per_step: FloatArray) -> FusedPlan:
    """The plan of the fused update for racers with these forms; ``lr_per_step`` (steps, N) is baked in."""
    const = {name: np.repeat(np.array([[f.constants[name]] for f in forms]), 2, axis=1) for name in CONSTANTS}
    any_decoupled = bool(np.any(const["wd_d"]))
    parts = {name: any(f.constants[name] for f in forms) for name in PARTS}
    needed = tuple(
        name
        for name, used in zip(
            STEP_COEFFICIENTS,
            (any_decoupled, parts["buffer"], parts["buffer"], parts["k1"], parts["k2"], parts["c1"], True),
            strict=True,
        )
        if used
    )
    lr_per_step = np.asarray(lr_per_step, dtype=float)
    steps = lr_per_step.shape[0]

    def block(first: int) -> dict[str, FloatArray]:
        """Coefficients of updates t = first .. first + BLOCK − 1 (beyond the race: 1s), each (BLOCK, N, 2)."""
        t = np.arange(first, min(first + BLOCK, steps + 1))
        rows = np.ones((BLOCK, len(forms), len(STEP_COEFFICIENTS)))
        for i, form in enumerate(forms):
            for j, values in enumerate(form.per_step(t, lr_per_step[t - 1, i])):
                rows[: len(t), i, j] = values
        return {name: np.repeat(rows[:, :, j : j + 1], 2, axis=2) for j, name in enumerate(STEP_COEFFICIENTS)}

    return FusedPlan(
        const=const,
        any_coupled=bool(np.any(const["wd_c"])),
        any_decoupled=any_decoupled,
        any_amsgrad=bool(np.any(const["amsgrad"])),
        parts=parts,
        direction_is_m=not np.any(const["e"]) and bool(np.all(const["f"] == 1.0)),  # n = 0·g + 1·m = m
        needed=needed,
        block=block,
    )


def fused_optimizer(forms: Sequence[MomentForm], lr_per_step: FloatArray) -> Optimizer:
    """The fused update for racers with these forms; ``lr_per_step`` (steps, N) is baked into the coefficients.

    ``update``'s own ``lr`` argument is ignored. Coefficient tables are built BLOCK steps at a
    time, so memory does not grow with the number of steps.
    """
    plan = fused_plan(forms, lr_per_step)
    const, parts, needed, block = plan.const, plan.parts, plan.needed, plan.block
    any_coupled, any_decoupled, any_amsgrad = plan.any_coupled, plan.any_decoupled, plan.any_amsgrad
    uses_amsgrad = const["amsgrad"] != 0
    direction_is_m = plan.direction_is_m

    def init(points: FloatArray) -> FusedState:
        zeros = np.zeros_like(points)
        return FusedState(0, zeros, const["v0"] + zeros, zeros, block(1))

    def update(
        points: FloatArray, grads: FloatArray, state: FusedState, lr: Any = None
    ) -> tuple[FloatArray, FusedState]:
        step = state.step + 1
        row = (step - 1) % BLOCK
        tables = block(step) if row == 0 and step > 1 else state.tables
        c = {name: tables[name][row] for name in needed}
        theta = points * c["shrink"] if any_decoupled else points
        g = grads + const["wd_c"] * theta if any_coupled else grads
        m = state.exp_avg
        # (a·m + b·g) is exactly m where a = 1 and b = 0, for every racer but SGD's momentum buffer
        m = (c["a"] * m + c["b"] * g) + const["w"] * (g - m) if parts["buffer"] else m + const["w"] * (g - m)
        v = const["alpha"] * state.exp_avg_sq + const["beta"] * g * g
        v_max, u = state.max_exp_avg_sq, v
        if any_amsgrad:
            v_max = np.maximum(v_max, v)
            u = np.where(uses_amsgrad, v_max, v)
        d = np.sqrt(u / c["k1"]) if parts["k1"] else np.sqrt(u)
        d = (d / c["k2"] if parts["k2"] else d) + const["eps"]
        n = m if direction_is_m else const["e"] * g + const["f"] * m
        if parts["c1"]:
            theta = theta + (c["c1"] * g) / d
        theta = theta + (c["c2"] * n) / d
        return theta, FusedState(step, m, v, v_max, tables)

    return Optimizer(init, update)
