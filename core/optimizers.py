"""Optimizers as small pure init/update pairs, vectorized over racers; each matches its torch.optim namesake.

An optimizer is built by a factory from its hyperparameters and returns an ``Optimizer``:
``init(points) -> state`` and ``update(points, grads, state, lr) -> (points, state)``. Nothing is
mutated. ``points`` and ``grads`` are float64 arrays of shape (N, 2), one row per racer;
hyperparameters are Python numbers or per-racer arrays (N, 2) (or anything broadcasting to it, such
as (N, 1)), so one call steps every racer of a group even
when their hyperparameters differ; ``lr`` arrives per step (from the racer's schedule) as a number
or a per-racer array.

Every rule below follows the single-tensor code path of torch 2.x (``foreach=False``), operation
for operation, so the same gradients give the same trajectory in float64. The factory docstring is
the one place where each rule is written down; the API serves it as the optimizer's ``rule``.

Registry names that are variants of one torch class (``momentum`` and ``nesterov`` of SGD,
``amsgrad`` and ``adamw`` of Adam) share that factory, so racers of all those variants advance
together in one NumPy expression.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from core.params import ParamSpec, resolve_params

FloatArray = npt.NDArray[np.float64]
Hyper = Any  # a Python number, a bool, or a per-racer array of them, (N, 2) or (N, 1)


class Optimizer(NamedTuple):
    """An init/update pair. ``needs_hessian``: ``update`` also takes ``hessians`` of shape (N, 2, 2)."""

    init: Callable[[FloatArray], Any]
    update: Callable[..., tuple[FloatArray, Any]]
    needs_hessian: bool = False


# --- helpers: hyperparameters may be numbers or per-racer arrays ---------------------------------


def _anywhere(condition: Hyper) -> bool:
    """True if ``condition`` holds for at least one racer (evaluate it in the factory, not per step)."""
    if isinstance(condition, np.ndarray):
        return bool(condition.any())
    return bool(condition)


def _select(condition: Hyper, if_true: Any, if_false: Any) -> Any:
    """Per racer: ``if_true`` where ``condition`` holds, else ``if_false`` (no work for a plain bool)."""
    if isinstance(condition, (bool, np.bool_)):
        return if_true if condition else if_false
    return np.where(condition, if_true, if_false)


def _pow(base: Hyper, exponent: Hyper) -> Hyper:
    """base ** exponent with Python's float power, racer by racer, as torch computes its scalar factors.

    NumPy's vectorized power may differ from Python's in the last place, and bias corrections
    such as 1 − beta2ᵗ amplify that; this keeps a racer's path the same in a group as alone.
    """
    if isinstance(base, np.ndarray) or isinstance(exponent, np.ndarray):
        bases, exponents = np.broadcast_arrays(base, exponent)
        return np.array([float(b) ** float(e) for b, e in zip(bases.ravel(), exponents.ravel(), strict=True)]).reshape(
            bases.shape
        )
    return base**exponent


def lerp(start: FloatArray, end: FloatArray, weight: Hyper) -> FloatArray:
    """torch.lerp, both of its branches: start + w·(end − start) if w < 0.5, else end − (end − start)·(1 − w)."""
    if isinstance(weight, np.ndarray):
        return np.where(weight < 0.5, start + weight * (end - start), end - (end - start) * (1 - weight))
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


# --- SGD family: sgd, momentum, nesterov -------------------------------------------------------


class SGDState(NamedTuple):
    step: int
    momentum_buffer: FloatArray  # b, (N, 2); torch: state["momentum_buffer"]


def sgd(
    momentum: Hyper = 0.0,
    dampening: Hyper = 0.0,
    weight_decay: Hyper = 0.0,
    nesterov: Hyper = False,
) -> Optimizer:
    """Stochastic gradient descent, optionally with (Nesterov) momentum; as torch.optim.SGD.

    Update rule, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        if momentum ≠ 0:
            b ← g                                   if t = 1
            b ← momentum·b + (1 − dampening)·g      otherwise
            g ← g + momentum·b   if nesterov   else   g ← b
        θ ← θ − lr·g

    The buffer starts at the first gradient, not at zero (Sutskever et al. 2013 start at zero),
    so dampening first acts at step 2. `momentum` is SGD(momentum=0.9); `nesterov` is
    SGD(momentum=0.9, nesterov=True), whose look-ahead is folded into the gradient as in torch.
    """

    decays, has_momentum, dampens = _anywhere(weight_decay), _anywhere(momentum), _anywhere(dampening)
    uses_momentum = momentum != 0  # per racer

    def init(points: FloatArray) -> SGDState:
        return SGDState(step=0, momentum_buffer=np.zeros_like(points))

    def update(points: FloatArray, grads: FloatArray, state: SGDState, lr: Hyper) -> tuple[FloatArray, SGDState]:
        g = grads + weight_decay * points if decays else grads
        buffer = state.momentum_buffer
        if has_momentum:
            fresh = (1 - dampening) * g if dampens else g  # without dampening the factor is exactly 1
            buffer = g if state.step == 0 else momentum * buffer + fresh
            with_momentum = _select(nesterov, g + momentum * buffer, buffer)
            g = _select(uses_momentum, with_momentum, g)
        return points - lr * g, SGDState(state.step + 1, buffer)

    return Optimizer(init, update)


# --- Adagrad ------------------------------------------------------------------------------------


class AdagradState(NamedTuple):
    step: int
    sum: FloatArray  # s, (N, 2); torch: state["sum"]


def adagrad(
    lr_decay: Hyper = 0.0,
    weight_decay: Hyper = 0.0,
    initial_accumulator_value: Hyper = 0.0,
    eps: Hyper = 1e-10,
) -> Optimizer:
    """Adagrad (Duchi et al. 2011): per-coordinate steps shrink with the gradients seen so far; as torch.optim.Adagrad.

    Update rule, with s₀ = initial_accumulator_value, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        clr ← lr / (1 + (t − 1)·lr_decay)
        s ← s + g²
        θ ← θ − clr · g / (√s + eps)
    """

    decays = _anywhere(weight_decay)

    def init(points: FloatArray) -> AdagradState:
        return AdagradState(0, np.zeros_like(points) + initial_accumulator_value)

    def update(
        points: FloatArray, grads: FloatArray, state: AdagradState, lr: Hyper
    ) -> tuple[FloatArray, AdagradState]:
        step = state.step + 1
        g = grads + weight_decay * points if decays else grads
        clr = lr / (1 + (step - 1) * lr_decay)
        total = state.sum + g * g
        return points + (-clr * g) / (np.sqrt(total) + eps), AdagradState(step, total)

    return Optimizer(init, update)


# --- RMSprop ------------------------------------------------------------------------------------


class RMSpropState(NamedTuple):
    step: int
    square_avg: FloatArray  # v, (N, 2); torch: state["square_avg"]
    grad_avg: FloatArray  # m̄, (N, 2); torch: state["grad_avg"] (centered only)
    momentum_buffer: FloatArray  # b, (N, 2); torch: state["momentum_buffer"]


def rmsprop(
    alpha: Hyper = 0.99,
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    momentum: Hyper = 0.0,
    centered: Hyper = False,
) -> Optimizer:
    """RMSprop (Hinton 2012): divide by a running RMS of the gradients; as torch.optim.RMSprop.

    Update rule, with v = m̄ = b = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        v ← alpha·v + (1 − alpha)·g²
        if centered:  m̄ ← m̄ + (1 − alpha)·(g − m̄);   a ← √(v − m̄²) + eps
        else:         a ← √v + eps
        if momentum > 0:  b ← momentum·b + g / a;   θ ← θ − lr·b
        else:             θ ← θ − lr · g / a

    eps is added outside the square root, as in torch (Keras adds it inside).
    """

    decays, is_centered, has_momentum = _anywhere(weight_decay), _anywhere(centered), _anywhere(momentum > 0)

    def init(points: FloatArray) -> RMSpropState:
        zeros = np.zeros_like(points)
        return RMSpropState(0, zeros, zeros, zeros)

    def update(
        points: FloatArray, grads: FloatArray, state: RMSpropState, lr: Hyper
    ) -> tuple[FloatArray, RMSpropState]:
        g = grads + weight_decay * points if decays else grads
        square_avg = state.square_avg * alpha + (1 - alpha) * g * g
        grad_avg = state.grad_avg
        if is_centered:
            grad_avg = lerp(grad_avg, g, 1 - alpha)
            avg = _select(centered, np.sqrt(square_avg - grad_avg * grad_avg), np.sqrt(square_avg))
        else:
            avg = np.sqrt(square_avg)
        avg = avg + eps
        buffer = state.momentum_buffer
        if has_momentum:
            buffer = buffer * momentum + g / avg
            points = _select(momentum > 0, points - lr * buffer, points + (-lr * g) / avg)
        else:
            points = points + (-lr * g) / avg
        return points, RMSpropState(state.step + 1, square_avg, grad_avg, buffer)

    return Optimizer(init, update)


# --- Adam family: adam, amsgrad, adamw -----------------------------------------------------------


class AdamState(NamedTuple):
    step: int
    exp_avg: FloatArray  # m, (N, 2); torch: state["exp_avg"]
    exp_avg_sq: FloatArray  # v, (N, 2); torch: state["exp_avg_sq"]
    max_exp_avg_sq: FloatArray  # v̂ₘₐₓ, (N, 2); torch: state["max_exp_avg_sq"] (amsgrad only)


def adam(
    beta1: Hyper = 0.9,
    beta2: Hyper = 0.999,
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    amsgrad: Hyper = False,
    decoupled_weight_decay: Hyper = False,
) -> Optimizer:
    """Adam (Kingma & Ba 2015), with AMSGrad and decoupled weight decay (AdamW) as options; as torch.optim.Adam.

    Update rule, with m = v = v̂ₘₐₓ = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ)
        if decoupled_weight_decay:  θ ← θ·(1 − lr·weight_decay)      (AdamW, Loshchilov & Hutter 2019)
        else:                       g ← g + weight_decay·θ            (L2 penalty through the gradient)
        m ← m + (1 − beta1)·(g − m)
        v ← beta2·v + (1 − beta2)·g²
        if amsgrad:  v̂ₘₐₓ ← max(v̂ₘₐₓ, v);  v ← v̂ₘₐₓ   (for the denominator only)
        θ ← θ − lr/(1 − beta1ᵗ) · m / (√v / √(1 − beta2ᵗ) + eps)

    `amsgrad` is Adam(amsgrad=True) (Reddi et al. 2018); `adamw` is torch.optim.AdamW, i.e. Adam
    with decoupled_weight_decay=True and weight_decay 0.01 by default.
    """

    decay, uses_max = _WeightDecay.of(weight_decay, decoupled_weight_decay), _anywhere(amsgrad)

    def init(points: FloatArray) -> AdamState:
        zeros = np.zeros_like(points)
        return AdamState(0, zeros, zeros, zeros)

    def update(points: FloatArray, grads: FloatArray, state: AdamState, lr: Hyper) -> tuple[FloatArray, AdamState]:
        step = state.step + 1
        points, g = decay.apply(points, grads, lr)
        exp_avg = lerp(state.exp_avg, g, 1 - beta1)
        exp_avg_sq = state.exp_avg_sq * beta2 + (1 - beta2) * g * g
        max_exp_avg_sq = state.max_exp_avg_sq
        denominator_sq = exp_avg_sq
        if uses_max:
            max_exp_avg_sq = np.maximum(max_exp_avg_sq, exp_avg_sq)
            denominator_sq = _select(amsgrad, max_exp_avg_sq, exp_avg_sq)
        step_size = lr / (1 - _pow(beta1, step))
        denom = np.sqrt(denominator_sq) / _pow(1 - _pow(beta2, step), 0.5) + eps
        points = points + (-step_size * exp_avg) / denom
        return points, AdamState(step, exp_avg, exp_avg_sq, max_exp_avg_sq)

    return Optimizer(init, update)


class _WeightDecay(NamedTuple):
    """torch's two kinds of weight decay, per racer: θ ← θ·(1 − lr·wd) if decoupled, else g ← g + wd·θ.

    Split in the factory into a decoupled and a coupled coefficient, one of them 0 for each racer,
    so a group mixing Adam and AdamW needs no branch (×1 and +0 leave a value unchanged).
    """

    decoupled: Hyper  # wd where decoupled, else 0
    coupled: Hyper  # wd where coupled, else 0
    any_decoupled: bool
    any_coupled: bool

    @classmethod
    def of(cls, weight_decay: Hyper, decoupled: Hyper) -> _WeightDecay:
        if isinstance(decoupled, np.ndarray):
            shrink, add = np.where(decoupled, weight_decay, 0.0), np.where(decoupled, 0.0, weight_decay)
        else:
            shrink, add = (weight_decay, 0.0) if decoupled else (0.0, weight_decay)
        return cls(shrink, add, _anywhere(shrink), _anywhere(add))

    def apply(self, points: FloatArray, grads: FloatArray, lr: Hyper) -> tuple[FloatArray, FloatArray]:
        if self.any_decoupled:
            points = points * (1 - lr * self.decoupled)
        if self.any_coupled:
            grads = grads + self.coupled * points
        return points, grads


# --- NAdam --------------------------------------------------------------------------------------


class NAdamState(NamedTuple):
    step: int
    mu_product: Hyper  # Πμ, a number or per racer; torch: state["mu_product"]
    exp_avg: FloatArray  # m, (N, 2)
    exp_avg_sq: FloatArray  # v, (N, 2)


def nadam(
    beta1: Hyper = 0.9,
    beta2: Hyper = 0.999,
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    momentum_decay: Hyper = 4e-3,
    decoupled_weight_decay: Hyper = False,
) -> Optimizer:
    """NAdam (Dozat 2016): Adam with Nesterov momentum and a momentum warm-up; as torch.optim.NAdam.

    Update rule, with m = v = 0 and Πμ = 1 at the start, for t = 1, 2, ...:
        g ← ∇f(θ);  weight decay as in Adam (coupled, or decoupled if decoupled_weight_decay)
        μₜ ← beta1·(1 − ½·0.96^(t·momentum_decay));   μₜ₊₁ likewise with t + 1
        Πμ ← Πμ·μₜ
        m ← m + (1 − beta1)·(g − m)
        v ← beta2·v + (1 − beta2)·g²
        d ← √(v / (1 − beta2ᵗ)) + eps
        θ ← θ − lr·(1 − μₜ)/(1 − Πμ) · g/d − lr·μₜ₊₁/(1 − Πμ·μₜ₊₁) · m/d
    """

    decay = _WeightDecay.of(weight_decay, decoupled_weight_decay)

    def init(points: FloatArray) -> NAdamState:
        zeros = np.zeros_like(points)
        return NAdamState(0, 1.0, zeros, zeros)

    def update(points: FloatArray, grads: FloatArray, state: NAdamState, lr: Hyper) -> tuple[FloatArray, NAdamState]:
        step = state.step + 1
        points, g = decay.apply(points, grads, lr)
        mu = beta1 * (1.0 - 0.5 * _pow(0.96, step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * _pow(0.96, (step + 1) * momentum_decay))
        mu_product = state.mu_product * mu
        exp_avg = lerp(state.exp_avg, g, 1 - beta1)
        exp_avg_sq = state.exp_avg_sq * beta2 + (1 - beta2) * g * g
        denom = np.sqrt(exp_avg_sq / (1 - _pow(beta2, step))) + eps
        points = points + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
        points = points + (((-lr * mu_next) / (1.0 - mu_product * mu_next)) * exp_avg) / denom
        return points, NAdamState(step, mu_product, exp_avg, exp_avg_sq)

    return Optimizer(init, update)


# --- RAdam --------------------------------------------------------------------------------------


class RAdamState(NamedTuple):
    step: int
    exp_avg: FloatArray  # m, (N, 2)
    exp_avg_sq: FloatArray  # v, (N, 2)


def radam(
    beta1: Hyper = 0.9,
    beta2: Hyper = 0.999,
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    decoupled_weight_decay: Hyper = False,
) -> Optimizer:
    """RAdam (Liu et al. 2020): Adam that waits until its variance estimate is tractable; as torch.optim.RAdam.

    Update rule, with m = v = 0 at the start, ρ∞ = 2/(1 − beta2) − 1, for t = 1, 2, ...:
        g ← ∇f(θ);  weight decay as in Adam (coupled, or decoupled if decoupled_weight_decay)
        m ← m + (1 − beta1)·(g − m)
        v ← beta2·v + (1 − beta2)·g²
        m̂ ← m / (1 − beta1ᵗ)
        ρₜ ← ρ∞ − 2t·beta2ᵗ / (1 − beta2ᵗ)
        if ρₜ > 5:  r ← √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
                    θ ← θ − m̂ · lr · √(1 − beta2ᵗ)/(√v + eps) · r
        else:       θ ← θ − m̂ · lr        (plain momentum SGD while ρₜ ≤ 5)
    """

    decay = _WeightDecay.of(weight_decay, decoupled_weight_decay)

    def init(points: FloatArray) -> RAdamState:
        zeros = np.zeros_like(points)
        return RAdamState(0, zeros, zeros)

    def update(points: FloatArray, grads: FloatArray, state: RAdamState, lr: Hyper) -> tuple[FloatArray, RAdamState]:
        step = state.step + 1
        points, g = decay.apply(points, grads, lr)
        exp_avg = lerp(state.exp_avg, g, 1 - beta1)
        exp_avg_sq = state.exp_avg_sq * beta2 + (1 - beta2) * g * g
        bias_correction2 = 1 - _pow(beta2, step)
        corrected = exp_avg / (1 - _pow(beta1, step))
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * _pow(beta2, step) / bias_correction2
        if _anywhere(rho_t > 5.0):
            ratio = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            rect = _pow(_select(rho_t > 5.0, ratio, 1.0), 0.5)  # racers with ρₜ ≤ 5 take the other branch
            adaptive_lr = 1 / (np.sqrt(exp_avg_sq) + eps) * _pow(bias_correction2, 0.5)  # torch: reciprocal, then scale
            rectified = corrected * lr * adaptive_lr * rect
            points = points - _select(rho_t > 5.0, rectified, corrected * lr)
        else:
            points = points - corrected * lr
        return points, RAdamState(step, exp_avg, exp_avg_sq)

    return Optimizer(init, update)


# --- Adamax -------------------------------------------------------------------------------------


class AdamaxState(NamedTuple):
    step: int
    exp_avg: FloatArray  # m, (N, 2)
    exp_inf: FloatArray  # u, (N, 2); torch: state["exp_inf"]


def adamax(beta1: Hyper = 0.9, beta2: Hyper = 0.999, eps: Hyper = 1e-8, weight_decay: Hyper = 0.0) -> Optimizer:
    """Adamax (Kingma & Ba 2015, §7): Adam with the infinity norm; as torch.optim.Adamax.

    Update rule, with m = u = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        m ← m + (1 − beta1)·(g − m)
        u ← max(beta2·u, |g| + eps)
        θ ← θ − lr/(1 − beta1ᵗ) · m / u
    """

    decays = _anywhere(weight_decay)

    def init(points: FloatArray) -> AdamaxState:
        zeros = np.zeros_like(points)
        return AdamaxState(0, zeros, zeros)

    def update(points: FloatArray, grads: FloatArray, state: AdamaxState, lr: Hyper) -> tuple[FloatArray, AdamaxState]:
        step = state.step + 1
        g = grads + weight_decay * points if decays else grads
        exp_avg = lerp(state.exp_avg, g, 1 - beta1)
        exp_inf = np.maximum(state.exp_inf * beta2, np.abs(g) + eps)
        clr = lr / (1 - _pow(beta1, step))
        return points + (-clr * exp_avg) / exp_inf, AdamaxState(step, exp_avg, exp_inf)

    return Optimizer(init, update)


# --- Adadelta -----------------------------------------------------------------------------------


class AdadeltaState(NamedTuple):
    step: int
    square_avg: FloatArray  # v, (N, 2)
    acc_delta: FloatArray  # u, (N, 2); torch: state["acc_delta"]


def adadelta(rho: Hyper = 0.9, eps: Hyper = 1e-6, weight_decay: Hyper = 0.0) -> Optimizer:
    """Adadelta (Zeiler 2012): step sizes from running RMS of gradients and of steps; as torch.optim.Adadelta.

    Update rule, with v = u = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        v ← rho·v + (1 − rho)·g²
        Δ ← √(u + eps) / √(v + eps) · g
        u ← rho·u + (1 − rho)·Δ²
        θ ← θ − lr·Δ
    """

    decays = _anywhere(weight_decay)

    def init(points: FloatArray) -> AdadeltaState:
        zeros = np.zeros_like(points)
        return AdadeltaState(0, zeros, zeros)

    def update(
        points: FloatArray, grads: FloatArray, state: AdadeltaState, lr: Hyper
    ) -> tuple[FloatArray, AdadeltaState]:
        g = grads + weight_decay * points if decays else grads
        square_avg = state.square_avg * rho + (1 - rho) * g * g
        delta = np.sqrt(state.acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = state.acc_delta * rho + (1 - rho) * delta * delta
        return points - lr * delta, AdadeltaState(state.step + 1, square_avg, acc_delta)

    return Optimizer(init, update)


# --- Lion ---------------------------------------------------------------------------------------


class LionState(NamedTuple):
    step: int
    exp_avg: FloatArray  # m, (N, 2)


def lion(beta1: Hyper = 0.9, beta2: Hyper = 0.99, weight_decay: Hyper = 1e-3) -> Optimizer:
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"); as optax.lion.

    Update rule, with m = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ)
        u ← sign(beta1·m + (1 − beta1)·g)
        m ← beta2·m + (1 − beta2)·g
        θ ← θ − lr·(u + weight_decay·θ)

    Every coordinate moves by exactly ±lr (plus decay): the sign throws the gradient's size away.
    """

    def init(points: FloatArray) -> LionState:
        return LionState(0, np.zeros_like(points))

    def update(points: FloatArray, grads: FloatArray, state: LionState, lr: Hyper) -> tuple[FloatArray, LionState]:
        direction = np.sign(beta1 * state.exp_avg + (1 - beta1) * grads)
        exp_avg = beta2 * state.exp_avg + (1 - beta2) * grads
        return points - lr * (direction + weight_decay * points), LionState(state.step + 1, exp_avg)

    return Optimizer(init, update)


# --- Newton -------------------------------------------------------------------------------------


class NewtonState(NamedTuple):
    step: int


def newton(damping: Hyper = 0.0) -> Optimizer:
    """Damped Newton's method with the landscape's analytic Hessian H (second order, not in torch.optim).

    Update rule, for t = 1, 2, ...:
        g ← ∇f(θ);  H ← ∇²f(θ)
        θ ← θ − lr·(H + damping·I)⁻¹·g

    With lr = 1 and damping = 0 it jumps to the minimum of a quadratic bowl in one step. It heads
    for any stationary point, saddles included, where H is indefinite; damping > 0 (Levenberg)
    and lr < 1 shorten the step. A singular H + damping·I gives a non-finite step: the racer diverges.
    """

    def init(points: FloatArray) -> NewtonState:
        return NewtonState(0)

    def update(
        points: FloatArray,
        grads: FloatArray,
        state: NewtonState,
        lr: Hyper,
        hessians: FloatArray,
    ) -> tuple[FloatArray, NewtonState]:
        damp = np.broadcast_to(damping, points.shape)[:, 0] if np.ndim(damping) else damping
        a = hessians[:, 0, 0] + damp
        b = hessians[:, 0, 1]
        c = hessians[:, 1, 0]
        d = hessians[:, 1, 1] + damp
        with np.errstate(divide="ignore", invalid="ignore"):
            det = a * d - b * c
            step_x = (d * grads[:, 0] - b * grads[:, 1]) / det
            step_y = (a * grads[:, 1] - c * grads[:, 0]) / det
        step = np.column_stack((step_x, step_y))
        return points - lr * step, NewtonState(state.step + 1)

    return Optimizer(init, update, needs_hessian=True)


# --- specs and the registry ---------------------------------------------------------------------


def _lr(default: float, help_text: str = "learning rate: the step size") -> ParamSpec:
    return ParamSpec("lr", default, help_text, minimum=0.0, slider_min=1e-5, slider_max=10.0, scale="log")


def _beta(name: str, default: float, help_text: str) -> ParamSpec:
    return ParamSpec(
        name,
        default,
        help_text,
        minimum=0.0,
        maximum=1.0,
        maximum_exclusive=True,
        slider_min=0.0,
        slider_max=0.9999,
        scale="one_minus_log",
    )


def _eps(default: float) -> ParamSpec:
    return ParamSpec(
        "eps",
        default,
        "added to the denominator for numerical stability",
        minimum=0.0,
        slider_min=1e-12,
        slider_max=1.0,
        scale="log",
    )


def _weight_decay_spec(default: float = 0.0, decoupled: bool = False) -> ParamSpec:
    meaning = (
        "decoupled weight decay: θ shrinks by lr·weight_decay·θ each step"
        if decoupled
        else "L2 penalty added to the gradient: g + weight_decay·θ"
    )
    return ParamSpec("weight_decay", default, meaning, minimum=0.0, slider_min=0.0, slider_max=1.0)


def _flag(name: str, default: bool, help_text: str) -> ParamSpec:
    return ParamSpec(name, default, help_text, kind="bool")


_MOMENTUM = ParamSpec(
    "momentum",
    0.9,
    "momentum factor: how much of the last step is kept",
    minimum=0.0,
    slider_min=0.0,
    slider_max=0.9999,
    scale="one_minus_log",
)
_DAMPENING = ParamSpec(
    "dampening",
    0.0,
    "dampening of the new gradient in the momentum buffer",
    minimum=0.0,
    maximum=1.0,
    slider_min=0.0,
    slider_max=1.0,
)
_BETA1 = _beta("beta1", 0.9, "decay of the running mean of gradients (first moment)")
_BETA2 = _beta("beta2", 0.999, "decay of the running mean of squared gradients (second moment)")
_DECOUPLED = _flag(
    "decoupled_weight_decay", False, "apply weight decay to θ directly (as AdamW) instead of through the gradient"
)


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: a name the user picks, the factory it builds, and its hyperparameters.

    ``fixed`` are factory arguments that define the variant and are not user-tunable (e.g.
    ``nesterov=True``). ``torch`` is the torch call that reproduces a racer, with ``{name}``
    placeholders for every hyperparameter.
    """

    name: str
    title: str
    summary: str
    factory: Callable[..., Optimizer]
    params: tuple[ParamSpec, ...]
    torch: str
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> str:
        """The update rule: the factory's docstring, dedented."""
        return inspect.cleandoc(self.factory.__doc__ or "")

    def resolve(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Every hyperparameter with its default filled in; raises ValueError naming a bad one."""
        resolved = resolve_params(self.params, params, owner=self.name)
        if self.name == "nesterov" and resolved["momentum"] <= 0:
            raise ValueError(
                f"nesterov.momentum must be > 0 (Nesterov momentum needs momentum), got {resolved['momentum']}"
            )
        return resolved

    def factory_kwargs(self, resolved: Mapping[str, Any]) -> dict[str, Any]:
        """The factory's arguments for one racer: its hyperparameters but lr, plus the fixed ones."""
        kwargs = {name: value for name, value in resolved.items() if name != "lr"}
        kwargs.update(self.fixed)
        return kwargs


_SGD_TORCH = "torch.optim.SGD(params, lr={lr}, momentum={momentum}, dampening={dampening}, weight_decay={weight_decay})"
_ADAM_ARGS = "lr={lr}, betas=({beta1}, {beta2}), eps={eps}, weight_decay={weight_decay}"

OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        OptimizerSpec(
            "sgd",
            "SGD",
            "plain gradient descent: step against the gradient",
            sgd,
            (
                _lr(1e-3),
                ParamSpec(
                    "momentum",
                    0.0,
                    _MOMENTUM.help,
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=0.9999,
                    scale="one_minus_log",
                ),
                _DAMPENING,
                _weight_decay_spec(),
            ),
            _SGD_TORCH,
        ),
        OptimizerSpec(
            "momentum",
            "Momentum",
            "heavy ball: velocity accumulates along consistent directions",
            sgd,
            (_lr(1e-3), _MOMENTUM, _DAMPENING, _weight_decay_spec()),
            _SGD_TORCH,
        ),
        OptimizerSpec(
            "nesterov",
            "Nesterov",
            "momentum that looks ahead before it steps",
            sgd,
            (_lr(1e-3), _MOMENTUM, _weight_decay_spec()),
            "torch.optim.SGD(params, lr={lr}, momentum={momentum}, weight_decay={weight_decay}, nesterov=True)",
            fixed={"nesterov": True},
        ),
        OptimizerSpec(
            "adagrad",
            "AdaGrad",
            "per-coordinate steps that shrink with every gradient seen",
            adagrad,
            (
                _lr(1e-2),
                ParamSpec(
                    "lr_decay",
                    0.0,
                    "learning-rate decay: lr/(1 + (t−1)·lr_decay)",
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=1.0,
                ),
                _weight_decay_spec(),
                ParamSpec(
                    "initial_accumulator_value",
                    0.0,
                    "starting value of the sum of squared gradients",
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=1.0,
                ),
                _eps(1e-10),
            ),
            "torch.optim.Adagrad(params, lr={lr}, lr_decay={lr_decay}, "
            "weight_decay={weight_decay}, initial_accumulator_value={initial_accumulator_value}, "
            "eps={eps})",
        ),
        OptimizerSpec(
            "rmsprop",
            "RMSProp",
            "divide by a running RMS of recent gradients",
            rmsprop,
            (
                _lr(1e-2),
                ParamSpec(
                    "alpha",
                    0.99,
                    "decay of the running mean of squared gradients",
                    minimum=0.0,
                    maximum=1.0,
                    slider_min=0.0,
                    slider_max=0.9999,
                    scale="one_minus_log",
                ),
                _eps(1e-8),
                _weight_decay_spec(),
                ParamSpec(
                    "momentum",
                    0.0,
                    _MOMENTUM.help,
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=0.9999,
                    scale="one_minus_log",
                ),
                _flag("centered", False, "normalise by the gradient's variance instead of its second moment"),
            ),
            "torch.optim.RMSprop(params, lr={lr}, alpha={alpha}, eps={eps}, "
            "weight_decay={weight_decay}, momentum={momentum}, centered={centered})",
        ),
        OptimizerSpec(
            "adam",
            "Adam",
            "momentum plus per-coordinate RMS scaling, bias-corrected",
            adam,
            (
                _lr(1e-3),
                _BETA1,
                _BETA2,
                _eps(1e-8),
                _weight_decay_spec(),
                _flag("amsgrad", False, "use the running maximum of v (AMSGrad)"),
            ),
            f"torch.optim.Adam(params, {_ADAM_ARGS}, amsgrad={{amsgrad}})",
        ),
        OptimizerSpec(
            "amsgrad",
            "AMSGrad",
            "Adam whose denominator never shrinks",
            adam,
            (_lr(1e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay_spec()),
            f"torch.optim.Adam(params, {_ADAM_ARGS}, amsgrad=True)",
            fixed={"amsgrad": True},
        ),
        OptimizerSpec(
            "adamw",
            "AdamW",
            "Adam with weight decay decoupled from the gradient",
            adam,
            (
                _lr(1e-3),
                _BETA1,
                _BETA2,
                _eps(1e-8),
                _weight_decay_spec(1e-2, decoupled=True),
                _flag("amsgrad", False, "use the running maximum of v (AMSGrad)"),
            ),
            f"torch.optim.AdamW(params, {_ADAM_ARGS}, amsgrad={{amsgrad}})",
            fixed={"decoupled_weight_decay": True},
        ),
        OptimizerSpec(
            "nadam",
            "NAdam",
            "Adam with Nesterov momentum",
            nadam,
            (
                _lr(2e-3),
                _BETA1,
                _BETA2,
                _eps(1e-8),
                _weight_decay_spec(),
                ParamSpec(
                    "momentum_decay",
                    4e-3,
                    "warm-up of the momentum coefficient μₜ",
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=0.1,
                ),
                _DECOUPLED,
            ),
            f"torch.optim.NAdam(params, {_ADAM_ARGS}, momentum_decay={{momentum_decay}}, "
            "decoupled_weight_decay={decoupled_weight_decay})",
        ),
        OptimizerSpec(
            "radam",
            "RAdam",
            "Adam that starts as momentum SGD until its variance estimate settles",
            radam,
            (_lr(1e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay_spec(), _DECOUPLED),
            f"torch.optim.RAdam(params, {_ADAM_ARGS}, decoupled_weight_decay={{decoupled_weight_decay}})",
        ),
        OptimizerSpec(
            "adamax",
            "Adamax",
            "Adam with the infinity norm in the denominator",
            adamax,
            (_lr(2e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay_spec()),
            f"torch.optim.Adamax(params, {_ADAM_ARGS})",
        ),
        OptimizerSpec(
            "adadelta",
            "Adadelta",
            "steps sized by the ratio of past step and gradient RMS",
            adadelta,
            (
                _lr(1.0, "scale of the step Δ (1 in the paper)"),
                ParamSpec(
                    "rho",
                    0.9,
                    "decay of both running averages",
                    minimum=0.0,
                    maximum=1.0,
                    slider_min=0.0,
                    slider_max=0.9999,
                    scale="one_minus_log",
                ),
                _eps(1e-6),
                _weight_decay_spec(),
            ),
            "torch.optim.Adadelta(params, lr={lr}, rho={rho}, eps={eps}, weight_decay={weight_decay})",
        ),
        OptimizerSpec(
            "lion",
            "Lion",
            "sign of a momentum blend: every step has the same size",
            lion,
            (
                _lr(1e-4),
                _beta("beta1", 0.9, "blend of momentum and gradient in the sign"),
                _beta("beta2", 0.99, "decay of the momentum"),
                _weight_decay_spec(1e-3, decoupled=True),
            ),
            "optax.lion(learning_rate={lr}, b1={beta1}, b2={beta2}, weight_decay={weight_decay})  # not in torch.optim",
        ),
        OptimizerSpec(
            "newton",
            "Newton",
            "second order: jump to the minimum of the local quadratic model",
            newton,
            (
                _lr(1.0, "step length along the Newton direction (1 = full step)"),
                ParamSpec(
                    "damping",
                    0.0,
                    "λ added to the Hessian's diagonal (Levenberg)",
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=10.0,
                ),
            ),
            "# Newton: theta -= lr * torch.linalg.solve(H + {damping} * I, g)  # not in torch.optim",
        ),
    )
}


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for ``name``; raises ValueError listing the known names."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}") from None


def make_optimizer(name: str, params: Mapping[str, Any] | None = None) -> Optimizer:
    """Build one racer's optimizer by registry name; ``params`` may include ``lr`` (used per step, not here)."""
    spec = get_optimizer(name)
    return spec.factory(**spec.factory_kwargs(spec.resolve(params)))


def make_group_optimizer(factory: Callable[..., Optimizer], racer_kwargs: Sequence[Mapping[str, Any]]) -> Optimizer:
    """One optimizer that steps several racers sharing a factory, each with its own hyperparameters.

    A hyperparameter equal for every racer stays a Python number (cheapest, and lets the factory
    skip unused branches); one that differs becomes an (N, 2) array, one row per racer, the same
    value in both columns (NumPy broadcasts an (N, 1) array at twice the cost on such small arrays).
    A racer whose spec lacks an argument (``nesterov`` has no ``dampening``) takes the factory default.
    """
    import inspect

    defaults = {name: p.default for name, p in inspect.signature(factory).parameters.items()}
    stacked: dict[str, Any] = {}
    for name, default in defaults.items():
        values = [kwargs.get(name, default) for kwargs in racer_kwargs]
        if all(value == values[0] for value in values):
            stacked[name] = values[0]
        else:
            stacked[name] = np.repeat(np.array(values).reshape(-1, 1), 2, axis=1)
    return factory(**stacked)
