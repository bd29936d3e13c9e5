"""Optimizers: each update rule written once, compiled, per coordinate; each matches its torch.optim namesake.

A rule is one compiled function ``rule(theta, g, state, t, lr, h, hess)`` that applies update t
(t = 1, 2, …) to one racer in place: ``theta`` its point (2,), ``g`` the gradient it sees (2,)
(noise and L1/L2 included, weight decay not), ``state`` its state rows (S, 2) under torch's names
(``Rule.state``), ``lr`` the learning rate of this update, ``h`` its hyperparameters in the order
of ``Rule.hyper`` (flags as 0/1), ``hess`` the Hessian (hxx, hxy, hyy) where ``Rule.needs_hessian``.
The same function steps one racer of a race and every racer of a sweep or a map (core.race).

Every rule follows torch 2.x's single-tensor code path (``foreach=False``) operation for operation,
so the same gradients give the same trajectory in float64, bit for bit. Powers are C's ``pow`` as in
Python: ``beta ** float(t)`` (an integer power would be repeated multiplication) and ``root`` for
``x ** 0.5`` (a constant 0.5 would become ``sqrt``, which differs in the last place now and then).
The rule's docstring is the one place where it is written down; the API serves it as ``rule``.

Registry names that are variants of one torch class (``momentum`` and ``nesterov`` of SGD,
``amsgrad`` and ``adamw`` of Adam) share that rule, with ``fixed`` hyperparameters.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from core.jit import njit
from core.params import ParamSpec, resolve_params

FloatArray = npt.NDArray[np.float64]


# --- helpers --------------------------------------------------------------------------------------


@njit(error_model="numpy", cache=True)
def lerp(start: float, end: float, weight: float) -> float:
    """torch.lerp, both of its branches: start + w·(end − start) if w < 0.5, else end − (end − start)·(1 − w)."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


@njit(error_model="numpy", cache=True)
def root(x: float, t: int) -> float:
    """x ** 0.5 with C's pow, as Python (and torch's scalar code) computes it, for any update t ≥ 1.

    t / (2·t) is exactly 0.5 but not a constant to the compiler, which would otherwise replace
    pow(x, 0.5) by sqrt(x), and the two differ in the last place for about one x in a thousand.
    """
    return x ** (t / (2.0 * t))


@njit(error_model="numpy", cache=True)
def maximum(a: float, b: float) -> float:
    """torch.maximum on floats: NaN if either is NaN."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


@njit(error_model="numpy", cache=True, inline="always")
def adam_moments(
    p: float,
    grad: float,
    state: FloatArray,
    c: int,
    lr: float,
    beta1: float,
    beta2: float,
    weight_decay: float,
    decoupled: bool,
) -> tuple[float, float, float, float]:
    """Adam's first steps for coordinate c, shared by adam, nadam and radam, in torch's order:
        decoupled:  θ ← θ·(1 − lr·weight_decay)        else:  g ← g + weight_decay·θ   (when weight_decay ≠ 0)
        m ← lerp(m, g, 1 − beta1);   v ← beta2·v + (1 − beta2)·g²   (stored in state[0, c], state[1, c])
    Returns (θ, g, m, v).
    """
    if weight_decay != 0:
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * p
    m = lerp(state[0, c], grad, 1 - beta1)
    v = state[1, c] * beta2 + (1 - beta2) * grad * grad
    state[0, c], state[1, c] = m, v
    return p, grad, m, v


# --- the rules --------------------------------------------------------------------------------------


@njit(error_model="numpy", cache=True, inline="always")
def sgd(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
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
    momentum, dampening, weight_decay, nesterov = h[0], h[1], h[2], h[3] != 0.0
    for c in range(2):
        grad = g[c]
        if weight_decay != 0:
            grad = grad + weight_decay * theta[c]
        if momentum != 0:
            buffer = grad if t == 1 else state[0, c] * momentum + (1 - dampening) * grad
            state[0, c] = buffer
            grad = grad + momentum * buffer if nesterov else buffer
        theta[c] = theta[c] - lr * grad


@njit(error_model="numpy", cache=True, inline="always")
def adagrad(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Adagrad (Duchi et al. 2011): per-coordinate steps shrink with the gradients seen so far; as torch.optim.Adagrad.

    Update rule, with s₀ = initial_accumulator_value, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        clr ← lr / (1 + (t − 1)·lr_decay)
        s ← s + g²
        θ ← θ − clr · g / (√s + eps)
    """
    lr_decay, weight_decay, eps = h[0], h[1], h[3]
    clr = lr / (1 + (t - 1) * lr_decay)
    for c in range(2):
        grad = g[c]
        if weight_decay != 0:
            grad = grad + weight_decay * theta[c]
        total = state[0, c] + grad * grad
        state[0, c] = total
        theta[c] = theta[c] + (-clr * grad) / (math.sqrt(total) + eps)


@njit(error_model="numpy", cache=True, inline="always")
def rmsprop(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
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
    alpha, eps, weight_decay, momentum, centered = h[0], h[1], h[2], h[3], h[4] != 0.0
    for c in range(2):
        grad = g[c]
        if weight_decay != 0:
            grad = grad + weight_decay * theta[c]
        square_avg = state[0, c] * alpha + (1 - alpha) * grad * grad
        state[0, c] = square_avg
        if centered:
            grad_avg = lerp(state[2, c], grad, 1 - alpha)
            state[2, c] = grad_avg
            avg = math.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = math.sqrt(square_avg)
        avg = avg + eps
        if momentum > 0:
            buffer = state[1, c] * momentum + grad / avg
            state[1, c] = buffer
            theta[c] = theta[c] - lr * buffer
        else:
            theta[c] = theta[c] + (-lr * grad) / avg


@njit(error_model="numpy", cache=True, inline="always")
def adam(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
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
    with decoupled_weight_decay=True and weight decay 0.01 by default.
    """
    beta1, beta2, eps, weight_decay = h[0], h[1], h[2], h[3]
    amsgrad, decoupled = h[4] != 0.0, h[5] != 0.0
    step_size = lr / (1 - beta1 ** float(t))
    bias_correction2_sqrt = root(1 - beta2 ** float(t), t)
    for c in range(2):
        p, _, m, v = adam_moments(theta[c], g[c], state, c, lr, beta1, beta2, weight_decay, decoupled)
        if amsgrad:
            v = maximum(state[2, c], v)
            state[2, c] = v
        denom = math.sqrt(v) / bias_correction2_sqrt + eps
        theta[c] = p + (-step_size * m) / denom


@njit(error_model="numpy", cache=True, inline="always")
def nadam(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
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
    beta1, beta2, eps, weight_decay, momentum_decay = h[0], h[1], h[2], h[3], h[4]
    decoupled = h[5] != 0.0
    bias_correction2 = 1 - beta2 ** float(t)
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_product = state[2, 0] * mu
    state[2, 0] = state[2, 1] = mu_product
    for c in range(2):
        p, grad, m, v = adam_moments(theta[c], g[c], state, c, lr, beta1, beta2, weight_decay, decoupled)
        denom = math.sqrt(v / bias_correction2) + eps
        p = p + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * grad) / denom
        theta[c] = p + (((-lr * mu_next) / (1.0 - mu_product * mu_next)) * m) / denom


@njit(error_model="numpy", cache=True, inline="always")
def radam(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
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
    beta1, beta2, eps, weight_decay = h[0], h[1], h[2], h[3]
    decoupled = h[4] != 0.0
    bias_correction1 = 1 - beta1 ** float(t)
    bias_correction2 = 1 - beta2 ** float(t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** float(t) / bias_correction2
    rect = 1.0
    if rho_t > 5.0:
        rect = root((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t), t)
    for c in range(2):
        p, _, m, v = adam_moments(theta[c], g[c], state, c, lr, beta1, beta2, weight_decay, decoupled)
        corrected = m / bias_correction1
        if rho_t > 5.0:
            adaptive_lr = 1 / (math.sqrt(v) + eps) * root(bias_correction2, t)  # torch: reciprocal, then scale
            theta[c] = p - corrected * lr * adaptive_lr * rect
        else:
            theta[c] = p - corrected * lr


@njit(error_model="numpy", cache=True, inline="always")
def adamax(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Adamax (Kingma & Ba 2015, §7): Adam with the infinity norm; as torch.optim.Adamax.

    Update rule, with m = u = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        m ← m + (1 − beta1)·(g − m)
        u ← max(beta2·u, |g| + eps)
        θ ← θ − lr/(1 − beta1ᵗ) · m / u
    """
    beta1, beta2, eps, weight_decay = h[0], h[1], h[2], h[3]
    clr = lr / (1 - beta1 ** float(t))
    for c in range(2):
        grad = g[c]
        if weight_decay != 0:
            grad = grad + weight_decay * theta[c]
        m = lerp(state[0, c], grad, 1 - beta1)
        u = maximum(state[1, c] * beta2, abs(grad) + eps)
        state[0, c], state[1, c] = m, u
        theta[c] = theta[c] + (-clr * m) / u


@njit(error_model="numpy", cache=True, inline="always")
def adadelta(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Adadelta (Zeiler 2012): step sizes from running RMS of gradients and of steps; as torch.optim.Adadelta.

    Update rule, with v = u = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        v ← rho·v + (1 − rho)·g²
        Δ ← √(u + eps) / √(v + eps) · g
        u ← rho·u + (1 − rho)·Δ²
        θ ← θ − lr·Δ
    """
    rho, eps, weight_decay = h[0], h[1], h[2]
    for c in range(2):
        grad = g[c]
        if weight_decay != 0:
            grad = grad + weight_decay * theta[c]
        square_avg = state[0, c] * rho + (1 - rho) * grad * grad
        delta = math.sqrt(state[1, c] + eps) / math.sqrt(square_avg + eps) * grad
        state[0, c] = square_avg
        state[1, c] = state[1, c] * rho + (1 - rho) * delta * delta
        theta[c] = theta[c] - lr * delta


@njit(error_model="numpy", cache=True, inline="always")
def lion(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"); as optax.lion.

    Update rule, with m = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ)
        u ← sign(beta1·m + (1 − beta1)·g)
        m ← beta2·m + (1 − beta2)·g
        θ ← θ − lr·(u + weight_decay·θ)

    Every coordinate moves by exactly ±lr (plus decay): the sign throws the gradient's size away.
    """
    beta1, beta2, weight_decay = h[0], h[1], h[2]
    for c in range(2):
        blend = beta1 * state[0, c] + (1 - beta1) * g[c]
        direction = 1.0 if blend > 0 else (-1.0 if blend < 0 else (0.0 if blend == 0 else blend))
        state[0, c] = beta2 * state[0, c] + (1 - beta2) * g[c]
        theta[c] = theta[c] - lr * (direction + weight_decay * theta[c])


@njit(error_model="numpy", cache=True, inline="always")
def newton(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Damped Newton's method with the landscape's analytic Hessian H (second order, not in torch.optim).

    Update rule, for t = 1, 2, ...:
        g ← ∇f(θ);  H ← ∇²f(θ)
        θ ← θ − lr·(H + damping·I)⁻¹·g

    With lr = 1 and damping = 0 it jumps to the minimum of a quadratic bowl in one step. It heads
    for any stationary point, saddles included, where H is indefinite; damping > 0 (Levenberg)
    and lr < 1 shorten the step. A singular H + damping·I gives a non-finite step: the racer diverges.
    """
    damping = h[0]
    a = hess[0] + damping
    b = hess[1]
    d = hess[2] + damping
    det = a * d - b * b
    step_x = (d * g[0] - b * g[1]) / det
    step_y = (a * g[1] - b * g[0]) / det
    theta[0] = theta[0] - lr * step_x
    theta[1] = theta[1] - lr * step_y


@njit(error_model="numpy", cache=True, inline="always")
def rprop(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Rprop (Riedmiller & Braun 1993): per-coordinate step sizes from gradient signs; as torch.optim.Rprop.

    Update rule, with s = lr (of the first update) and p = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ)
        η ← etaplus if g·p > 0,  etaminus if g·p < 0,  1 otherwise
        s ← clamp(s·η, step_size_min, step_size_max)
        if η = etaminus:  g ← 0           (a sign flip: step back no further, forget this gradient)
        θ ← θ − sign(g)·s
        p ← g

    Only the gradient's sign counts; the learning rate only sets the first step size, so a schedule
    changes nothing after update 1 (as in torch).
    """
    etaminus, etaplus, step_size_min, step_size_max = h[0], h[1], h[2], h[3]
    for c in range(2):
        prev = 0.0 if t == 1 else state[0, c]
        size = lr if t == 1 else state[1, c]
        product = g[c] * prev
        factor = etaplus if product > 0 else (etaminus if product < 0 else (1.0 if product == 0 else product))
        size = size * factor
        if size < step_size_min:
            size = step_size_min
        if size > step_size_max:
            size = step_size_max
        grad = 0.0 if factor == etaminus else g[c]
        direction = 1.0 if grad > 0 else (-1.0 if grad < 0 else (0.0 if grad == 0 else grad))
        theta[c] = theta[c] + ((-1.0) * direction) * size
        state[0, c] = grad
        state[1, c] = size


@njit(error_model="numpy", cache=True, inline="always")
def asgd(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Averaged SGD (Polyak & Juditsky 1992); as torch.optim.ASGD.

    Update rule, with η = lr (of the first update), μ = 1 and a = 0 at the start, for t = 1, 2, ...:
        g ← ∇f(θ) + weight_decay·θ
        θ ← θ·(1 − lambd·η) − η·g
        a ← a + μ·(θ − a)          (a ← θ while μ = 1)
        η ← lr / (1 + lambd·lr·t)^alpha
        μ ← 1 / max(1, t − t0)

    The racer moves as SGD with a decaying step η (the schedule's lr acts one update late, as in
    torch); a, torch's "ax", is the running average of the points from update t0 on.
    """
    lambd, alpha, t0, weight_decay = h[0], h[1], h[2], h[3]
    eta = lr if t == 1 else state[0, 0]
    mu = 1.0 if t == 1 else state[1, 0]
    decay = 1 - lambd * eta
    for c in range(2):
        grad = g[c]
        if weight_decay != 0:
            grad = grad + weight_decay * theta[c]
        p = theta[c] * decay
        p = p + (-eta) * grad
        theta[c] = p
        state[2, c] = state[2, c] + (p - state[2, c]) * mu if mu != 1 else p
    eta = lr / ((1 + (lambd * lr) * t) ** alpha)
    late = t - t0
    mu = 1 / late if late > 1 else 1.0
    state[0, 0] = state[0, 1] = eta
    state[1, 0] = state[1, 1] = mu


SQRT2 = 2**0.5  # pow(2, 0.5) as torch's Python computes numel ** 0.5 for a (2,) parameter


@njit(error_model="numpy", cache=True, inline="always")
def adafactor(
    theta: FloatArray, g: FloatArray, state: FloatArray, t: int, lr: float, h: FloatArray, hess: FloatArray
) -> None:
    """Adafactor (Shazeer & Stern 2018) for a vector parameter (not factored); as torch.optim.Adafactor.

    Update rule, with v = 0 at the start, for t = 1, 2, ...:
        w ← t^beta2_decay;   ρ ← min(lr, 1/√t)
        α ← max(eps2, RMS(θ)) · ρ
        θ ← θ·(1 − lr·weight_decay)
        v ← v + w·(g² − v)
        u ← g / √max(v, eps1²)
        θ ← θ − α / max(1, RMS(u)/d) · u

    The step is relative to the size of θ (RMS(θ), at least eps2) and clipped when the update's RMS
    exceeds d.
    """
    beta2_decay, eps1, eps2, d, weight_decay = h[0], h[1], h[2], h[3], h[4]
    w = float(t) ** beta2_decay
    inverse_root = 1 / root(float(t), t)
    rho = inverse_root if inverse_root < lr else lr
    rms = math.sqrt(theta[0] * theta[0] + theta[1] * theta[1]) / SQRT2
    alpha = (rms if rms > eps2 else eps2) * rho
    floor = eps1 * eps1
    if weight_decay != 0:
        theta[0] = theta[0] * (1 - lr * weight_decay)
        theta[1] = theta[1] * (1 - lr * weight_decay)
    v0 = lerp(state[0, 0], g[0] * g[0], w)
    v1 = lerp(state[0, 1], g[1] * g[1], w)
    state[0, 0], state[0, 1] = v0, v1
    u0 = 1.0 / math.sqrt(v0 if not v0 < floor else floor) * g[0]
    u1 = 1.0 / math.sqrt(v1 if not v1 < floor else floor) * g[1]
    ratio = math.sqrt(u0 * u0 + u1 * u1) / (SQRT2 * d)
    denom = ratio if ratio > 1.0 else 1.0
    theta[0] = theta[0] + ((-alpha) / denom) * u0
    theta[1] = theta[1] + ((-alpha) / denom) * u1


@dataclass(frozen=True)
class Rule:
    """A compiled rule as the engine calls it.

    ``number`` is its branch in core.race.advance; ``hyper`` the names of ``h``'s entries, in order;
    ``state`` torch's names of its state rows, in order (a scalar state such as NAdam's Πμ fills
    both columns of its row); ``initial`` each row's value before update 1, from the hyperparameters;
    ``present`` which of the state rows torch keeps for these hyperparameters; ``scalars`` the rows
    that hold one number; ``counts_steps`` whether torch also keeps ``step`` (the update count t).
    """

    number: int
    step: Callable[..., None]
    hyper: tuple[str, ...]
    state: tuple[str, ...] = ()
    needs_hessian: bool = False
    initial: Callable[[Mapping[str, Any]], tuple[float, ...]] | None = None
    present: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None
    scalars: tuple[str, ...] = ()
    counts_steps: bool = True

    def initial_state(self, hyper: Mapping[str, Any]) -> tuple[float, ...]:
        return self.initial(hyper) if self.initial else (0.0,) * len(self.state)

    def state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        """The state torch keeps for these hyperparameters (e.g. no ``momentum_buffer`` without momentum)."""
        return self.present(hyper) if self.present else self.state


_ADAM_HYPER = ("beta1", "beta2", "eps", "weight_decay")

RULES: dict[str, Rule] = {
    "sgd": Rule(
        0,
        sgd,
        ("momentum", "dampening", "weight_decay", "nesterov"),
        ("momentum_buffer",),
        present=lambda h: ("momentum_buffer",) if h["momentum"] != 0 else (),
        counts_steps=False,
    ),
    "adagrad": Rule(
        1,
        adagrad,
        ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
        ("sum",),
        initial=lambda h: (h["initial_accumulator_value"] + 0.0,),
    ),
    "rmsprop": Rule(
        2,
        rmsprop,
        ("alpha", "eps", "weight_decay", "momentum", "centered"),
        ("square_avg", "momentum_buffer", "grad_avg"),
        present=lambda h: (
            ("square_avg",)
            + (("momentum_buffer",) if h["momentum"] > 0 else ())
            + (("grad_avg",) if h["centered"] else ())
        ),
    ),
    "adam": Rule(
        3,
        adam,
        (*_ADAM_HYPER, "amsgrad", "decoupled_weight_decay"),
        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
        present=lambda h: ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if h["amsgrad"] else ()),
    ),
    "nadam": Rule(
        4,
        nadam,
        (*_ADAM_HYPER, "momentum_decay", "decoupled_weight_decay"),
        ("exp_avg", "exp_avg_sq", "mu_product"),
        initial=lambda h: (0.0, 0.0, 1.0),
        scalars=("mu_product",),
    ),
    "radam": Rule(5, radam, (*_ADAM_HYPER, "decoupled_weight_decay"), ("exp_avg", "exp_avg_sq")),
    "adamax": Rule(6, adamax, _ADAM_HYPER, ("exp_avg", "exp_inf")),
    "adadelta": Rule(7, adadelta, ("rho", "eps", "weight_decay"), ("square_avg", "acc_delta")),
    "lion": Rule(8, lion, ("beta1", "beta2", "weight_decay"), ("exp_avg",), counts_steps=False),
    "newton": Rule(9, newton, ("damping",), (), needs_hessian=True, counts_steps=False),
    "rprop": Rule(10, rprop, ("etaminus", "etaplus", "step_size_min", "step_size_max"), ("prev", "step_size")),
    "asgd": Rule(11, asgd, ("lambd", "alpha", "t0", "weight_decay"), ("eta", "mu", "ax"), scalars=("eta", "mu")),
    "adafactor": Rule(12, adafactor, ("beta2_decay", "eps1", "eps2", "d", "weight_decay"), ("variance",)),
}


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
class Requirement:
    """A rule across hyperparameters, as data the page reads too: ``param`` must be > ``greater_than``."""

    param: str
    greater_than: float
    reason: str


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: a name the user picks, the compiled rule it runs, and its hyperparameters.

    ``fixed`` are rule hyperparameters that define the variant and are not user-tunable (e.g.
    ``nesterov=True``); a rule hyperparameter neither tunable nor fixed is 0 (off). ``torch`` is
    the torch call that reproduces a racer, with ``{name}`` placeholders for every hyperparameter.
    """

    name: str
    title: str
    summary: str
    compiled: Rule
    params: tuple[ParamSpec, ...]
    torch: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    requires: tuple[Requirement, ...] = ()

    @property
    def rule(self) -> str:
        """The update rule: the compiled rule's docstring, dedented."""
        return inspect.cleandoc(self.compiled.step.__doc__ or "")

    def resolve(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Every hyperparameter with its default filled in; raises ValueError naming a bad one."""
        resolved = resolve_params(self.params, params, owner=self.name)
        for rule in self.requires:
            if not resolved[rule.param] > rule.greater_than:
                raise ValueError(
                    f"{self.name}.{rule.param} must be > {rule.greater_than:g} ({rule.reason}), "
                    f"got {resolved[rule.param]}"
                )
        return resolved

    def rule_arguments(self, resolved: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's hyperparameters for one racer: its own but lr, the fixed ones, 0 for the rest."""
        values = {**resolved, **self.fixed}
        return {name: values.get(name, 0.0) for name in self.compiled.hyper}

    def hyper(self, resolved: Mapping[str, Any]) -> FloatArray:
        """``h`` of the compiled rule: its hyperparameters in ``Rule.hyper``'s order, flags as 0/1."""
        return np.array([float(v) for v in self.rule_arguments(resolved).values()], dtype=np.float64)


_SGD_TORCH = "torch.optim.SGD(params, lr={lr}, momentum={momentum}, dampening={dampening}, weight_decay={weight_decay})"
_ADAM_ARGS = "lr={lr}, betas=({beta1}, {beta2}), eps={eps}, weight_decay={weight_decay}"

OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        OptimizerSpec(
            "sgd",
            "SGD",
            "plain gradient descent: step against the gradient",
            RULES["sgd"],
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
            RULES["sgd"],
            (_lr(1e-3), _MOMENTUM, _DAMPENING, _weight_decay_spec()),
            _SGD_TORCH,
        ),
        OptimizerSpec(
            "nesterov",
            "Nesterov",
            "momentum that looks ahead before it steps",
            RULES["sgd"],
            (_lr(1e-3), _MOMENTUM, _weight_decay_spec()),
            "torch.optim.SGD(params, lr={lr}, momentum={momentum}, weight_decay={weight_decay}, nesterov=True)",
            fixed={"nesterov": True, "dampening": 0.0},
            requires=(Requirement("momentum", 0.0, "Nesterov momentum needs momentum"),),
        ),
        OptimizerSpec(
            "adagrad",
            "AdaGrad",
            "per-coordinate steps that shrink with every gradient seen",
            RULES["adagrad"],
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
            RULES["rmsprop"],
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
            RULES["adam"],
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
            RULES["adam"],
            (_lr(1e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay_spec()),
            f"torch.optim.Adam(params, {_ADAM_ARGS}, amsgrad=True)",
            fixed={"amsgrad": True},
        ),
        OptimizerSpec(
            "adamw",
            "AdamW",
            "Adam with weight decay decoupled from the gradient",
            RULES["adam"],
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
            RULES["nadam"],
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
            RULES["radam"],
            (_lr(1e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay_spec(), _DECOUPLED),
            f"torch.optim.RAdam(params, {_ADAM_ARGS}, decoupled_weight_decay={{decoupled_weight_decay}})",
        ),
        OptimizerSpec(
            "adamax",
            "Adamax",
            "Adam with the infinity norm in the denominator",
            RULES["adamax"],
            (_lr(2e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay_spec()),
            f"torch.optim.Adamax(params, {_ADAM_ARGS})",
        ),
        OptimizerSpec(
            "adadelta",
            "Adadelta",
            "steps sized by the ratio of past step and gradient RMS",
            RULES["adadelta"],
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
            RULES["lion"],
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
            RULES["newton"],
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
        OptimizerSpec(
            "rprop",
            "Rprop",
            "a step size per coordinate from the gradient's sign alone",
            RULES["rprop"],
            (
                _lr(1e-2, "the first step size of every coordinate"),
                ParamSpec(
                    "etaminus",
                    0.5,
                    "factor of the step size after a sign flip",
                    minimum=0.0,
                    maximum=1.0,
                    minimum_exclusive=True,
                    maximum_exclusive=True,
                    slider_min=0.05,
                    slider_max=0.95,
                ),
                ParamSpec(
                    "etaplus",
                    1.2,
                    "factor of the step size while the sign holds",
                    minimum=1.0,
                    minimum_exclusive=True,
                    slider_min=1.01,
                    slider_max=3.0,
                ),
                ParamSpec(
                    "step_size_min",
                    1e-6,
                    "smallest step size",
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=0.1,
                ),
                ParamSpec(
                    "step_size_max",
                    50.0,
                    "largest step size",
                    minimum=0.0,
                    minimum_exclusive=True,
                    slider_min=0.01,
                    slider_max=50.0,
                    scale="log",
                ),
            ),
            "torch.optim.Rprop(params, lr={lr}, etas=({etaminus}, {etaplus}), "
            "step_sizes=({step_size_min}, {step_size_max}))",
        ),
        OptimizerSpec(
            "asgd",
            "ASGD",
            "SGD with a decaying step, averaging its points",
            RULES["asgd"],
            (
                _lr(1e-2),
                ParamSpec("lambd", 1e-4, "decay term of the step size η", minimum=0.0, slider_min=0.0, slider_max=1.0),
                ParamSpec("alpha", 0.75, "power of the step-size decay", minimum=0.0, slider_min=0.0, slider_max=2.0),
                ParamSpec(
                    "t0",
                    1e6,
                    "update from which the points are averaged",
                    minimum=0.0,
                    slider_min=0.0,
                    slider_max=1e6,
                ),
                _weight_decay_spec(),
            ),
            "torch.optim.ASGD(params, lr={lr}, lambd={lambd}, alpha={alpha}, t0={t0}, weight_decay={weight_decay})",
        ),
        OptimizerSpec(
            "adafactor",
            "Adafactor",
            "steps relative to the size of θ, from a decaying second moment",
            RULES["adafactor"],
            (
                _lr(1e-2),
                ParamSpec(
                    "beta2_decay",
                    -0.8,
                    "exponent of the second moment's decay: w = t^beta2_decay",
                    maximum=0.0,
                    slider_min=-1.0,
                    slider_max=0.0,
                ),
                ParamSpec(
                    "eps1",
                    2.220446049250313e-16,
                    "floor of the second moment (squared)",
                    minimum=0.0,
                    slider_min=1e-30,
                    slider_max=1e-3,
                    scale="log",
                ),
                ParamSpec(
                    "eps2",
                    1e-3,
                    "floor of θ's RMS in the step size",
                    minimum=0.0,
                    slider_min=1e-6,
                    slider_max=1.0,
                    scale="log",
                ),
                ParamSpec(
                    "d", 1.0, "clipping threshold of the update's RMS", minimum=1.0, slider_min=1.0, slider_max=10.0
                ),
                _weight_decay_spec(decoupled=True),
            ),
            "torch.optim.Adafactor(params, lr={lr}, beta2_decay={beta2_decay}, eps=({eps1}, {eps2}), d={d}, "
            "weight_decay={weight_decay})",
        ),
    )
}


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for ``name``; raises ValueError listing the known names."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}") from None
