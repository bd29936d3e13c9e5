"""Optimizers: each update rule written once, compiled, per coordinate; each matches its torch.optim namesake.

A rule is one compiled function ``rule(theta, g, state, t, lr, h, hess, closure)`` that applies update t
(t = 1, 2, …) to one racer in place: ``theta`` its point (2,), ``g`` the gradient it sees (2,)
(noise and L1/L2 included, weight decay not), ``state`` its state rows (S, 2) under torch's names
(``Rule.state``), ``lr`` the learning rate of this update, ``h`` its hyperparameters in the order
of ``Rule.hyper`` (flags as 0/1), ``hess`` the Hessian (hxx, hxy, hyy) where ``Rule.needs_hessian``,
``closure`` what a rule needs to evaluate the landscape itself (L-BFGS's line search): the surface
(kind, p, program, constants, l1, l2), this step's noise (nx, ny) and the loss at θ.
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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from core.jit import njit
from core.landscapes import surface_value_and_grad
from core.params import ParamSpec, decay, ranged, resolve_params

Array = npt.NDArray[np.float64]  # a racer's point, gradient, state rows, hyperparameters


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
def coupled_decay(grad: float, p: float, weight_decay: float) -> float:
    """g + weight_decay·θ, weight decay through the gradient as torch applies it (only when weight_decay ≠ 0)."""
    return grad + weight_decay * p if weight_decay != 0 else grad


@njit(error_model="numpy", cache=True, inline="always")
def adam_moments(
    p: float,
    grad: float,
    state: Array,
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
def sgd(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
        grad = coupled_decay(g[c], theta[c], weight_decay)
        if momentum != 0:
            buffer = grad if t == 1 else state[0, c] * momentum + (1 - dampening) * grad
            state[0, c] = buffer
            grad = grad + momentum * buffer if nesterov else buffer
        theta[c] = theta[c] - lr * grad


@njit(error_model="numpy", cache=True, inline="always")
def adagrad(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
        grad = coupled_decay(g[c], theta[c], weight_decay)
        total = state[0, c] + grad * grad
        state[0, c] = total
        theta[c] = theta[c] + (-clr * grad) / (math.sqrt(total) + eps)


@njit(error_model="numpy", cache=True, inline="always")
def rmsprop(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
        grad = coupled_decay(g[c], theta[c], weight_decay)
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
def adam(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
def nadam(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
def radam(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
def adamax(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
        grad = coupled_decay(g[c], theta[c], weight_decay)
        m = lerp(state[0, c], grad, 1 - beta1)
        u = maximum(state[1, c] * beta2, abs(grad) + eps)
        state[0, c], state[1, c] = m, u
        theta[c] = theta[c] + (-clr * m) / u


@njit(error_model="numpy", cache=True, inline="always")
def adadelta(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
        grad = coupled_decay(g[c], theta[c], weight_decay)
        square_avg = state[0, c] * rho + (1 - rho) * grad * grad
        delta = math.sqrt(state[1, c] + eps) / math.sqrt(square_avg + eps) * grad
        state[0, c] = square_avg
        state[1, c] = state[1, c] * rho + (1 - rho) * delta * delta
        theta[c] = theta[c] - lr * delta


@njit(error_model="numpy", cache=True, inline="always")
def lion(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
def newton(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
def rprop(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
def asgd(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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
        grad = coupled_decay(g[c], theta[c], weight_decay)
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
def adafactor(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
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


# --- L-BFGS: a rule that evaluates the landscape itself --------------------------------------------

# state rows before the history: d, t, H_diag, prev_flat_grad, prev_loss, n_iter, func_evals, and
# (number of kept pairs, evaluations of the last update)
LBFGS_ROWS = 8
LBFGS_MAX_HISTORY = 100


@njit(error_model="numpy", cache=True, inline="always")
def _closure(closure: Any, x: float, y: float) -> tuple[float, float, float]:
    """The loss and the gradient the optimizer sees at (x, y): the surface's, plus this step's noise draw."""
    kind, p, program, constants, l1, l2, noisy, nx, ny, _ = closure
    loss, gx, gy = surface_value_and_grad(kind, p, program, constants, l1, l2, x, y)
    if noisy:
        gx = gx + nx
        gy = gy + ny
    return loss, gx, gy


@njit(error_model="numpy", cache=True)
def _cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    xmin: float,
    xmax: float,
    x1_tensor: bool,
    x2_tensor: bool,
    min_tensor: bool,
    max_tensor: bool,
) -> tuple[float, bool]:
    """torch.optim.lbfgs._cubic_interpolate with bounds (xmin, xmax); returns (value, whether torch has a tensor).

    A step length is a 0-d tensor or a Python number in torch, depending on where it came from, and
    that changes one rounding: 3·(f1 − f2)/(x1 − x2) is (1/(x1 − x2))·(3·(f1 − f2)) for a tensor.
    """
    num = 3 * (f1 - f2)
    den = x1 - x2
    quotient = (1.0 / den) * num if x1_tensor or x2_tensor else num / den
    d1 = g1 + g2 - quotient
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        value, tensor = min_pos, True
        if xmin > value:
            value, tensor = xmin, min_tensor
        if xmax < value:
            value, tensor = xmax, max_tensor
        return value, tensor
    return (xmin + xmax) / 2.0, min_tensor or max_tensor


@njit(error_model="numpy", cache=True)
def _cubic_between(
    x1: float, f1: float, g1: float, x2: float, f2: float, g2: float, x1_tensor: bool, x2_tensor: bool
) -> tuple[float, bool]:
    """_cubic_interpolate without bounds: they are the two points, in order."""
    if x1 <= x2:
        return _cubic_interpolate(x1, f1, g1, x2, f2, g2, x1, x2, x1_tensor, x2_tensor, x1_tensor, x2_tensor)
    return _cubic_interpolate(x1, f1, g1, x2, f2, g2, x2, x1, x1_tensor, x2_tensor, x2_tensor, x1_tensor)


@njit(error_model="numpy", cache=True)
def _strong_wolfe(
    closure: Any,
    x: float,
    y: float,
    t: float,
    t_tensor: bool,
    d0: float,
    d1: float,
    f: float,
    gtd: float,
    tolerance_change: float,
    max_ls: int,
) -> tuple[float, int]:
    """torch.optim.lbfgs._strong_wolfe (c1 = 1e-4, c2 = 0.9) from (x, y) along d: (accepted t, evaluations)."""
    c1 = 1e-4
    c2 = 0.9
    d_norm = abs(d0) if not abs(d1) > abs(d0) else abs(d1)
    f_new, gx, gy = _closure(closure, x + t * d0, y + t * d1)
    evaluations = 1
    gtd_new = gx * d0 + gy * d1
    t_prev, f_prev, gtd_prev, prev_tensor = 0.0, f, gtd, False
    done = False
    ls_iter = 0
    # the bracket [b0, b1] with its losses, directional derivatives and tensor flags
    b0, b1, f0, f1, gtd0, gtd1, tensor0, tensor1 = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, False
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            b0, f0, gtd0, tensor0 = t_prev, f_prev, gtd_prev, prev_tensor
            b1, f1, gtd1, tensor1 = t, f_new, gtd_new, t_tensor
            break
        if abs(gtd_new) <= -c2 * gtd:
            b0, f0, tensor0 = t, f_new, t_tensor
            b1, f1 = b0, f0  # a bracket of one point
            done = True
            break
        if gtd_new >= 0:
            b0, f0, gtd0, tensor0 = t_prev, f_prev, gtd_prev, prev_tensor
            b1, f1, gtd1, tensor1 = t, f_new, gtd_new, t_tensor
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous, previous_tensor = t, t_tensor
        t, t_tensor = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, min_step, max_step,
            prev_tensor, t_tensor, t_tensor or prev_tensor, t_tensor,
        )  # fmt: skip
        t_prev, prev_tensor, f_prev, gtd_prev = previous, previous_tensor, f_new, gtd_new
        f_new, gx, gy = _closure(closure, x + t * d0, y + t * d1)
        evaluations += 1
        gtd_new = gx * d0 + gy * d1
        ls_iter += 1
    if ls_iter == max_ls:
        b0, b1, f0, f1, tensor0, tensor1 = 0.0, t, f, f_new, False, t_tensor
    insufficient = False
    low = 0 if f0 <= f1 else 1
    while not done and ls_iter < max_ls:
        if abs(b1 - b0) * d_norm < tolerance_change:
            break
        t, t_tensor = _cubic_between(b0, f0, gtd0, b1, f1, gtd1, tensor0, tensor1)
        hi = b1 if b1 > b0 else b0
        lo = b1 if b1 < b0 else b0
        eps = 0.1 * (hi - lo)
        nearest = hi - t if not t - lo < hi - t else t - lo
        if nearest < eps:
            if insufficient or t >= hi or t <= lo:
                t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
                t_tensor = tensor0 or tensor1
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, gx, gy = _closure(closure, x + t * d0, y + t * d1)
        evaluations += 1
        gtd_new = gx * d0 + gy * d1
        ls_iter += 1
        f_low = f0 if low == 0 else f1
        if f_new > (f + c1 * t * gtd) or f_new >= f_low:
            if low == 0:
                b1, f1, gtd1, tensor1 = t, f_new, gtd_new, t_tensor
            else:
                b0, f0, gtd0, tensor0 = t, f_new, gtd_new, t_tensor
            low = 0 if f0 <= f1 else 1
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * ((b1 - b0) if low == 0 else (b0 - b1)) >= 0:
                if low == 0:
                    b1, f1, gtd1, tensor1 = b0, f0, gtd0, tensor0
                else:
                    b0, f0, gtd0, tensor0 = b1, f1, gtd1, tensor1
            if low == 0:
                b0, f0, gtd0, tensor0 = t, f_new, gtd_new, t_tensor
            else:
                b1, f1, gtd1, tensor1 = t, f_new, gtd_new, t_tensor
    return (b0 if low == 0 else b1), evaluations


@njit(error_model="numpy", cache=True, inline="always")
def lbfgs(theta: Array, g: Array, state: Array, t: int, lr: float, h: Array, hess: Array, closure: Any) -> None:
    """L-BFGS (Liu & Nocedal 1989): a quasi-Newton direction from the last steps; as torch.optim.LBFGS with max_iter=1.

    Update rule: one optimizer.step(closure) with max_iter=1 per update (the closure returns f, sets g):
        f, g ← f(θ), ∇f(θ)                           (evaluation 1 of this update)
        stop here if max|g| ≤ tolerance_grad         (θ and the state unchanged but func_evals)
        n_iter ← n_iter + 1
        if n_iter = 1:  d ← −g;  H_diag ← 1
        else:  y ← g − prev_flat_grad;  s ← t·d       (the previous update's d and t)
               if y·s > 1e-10:  keep (y, s, ρ = 1/(y·s)) as the newest of at most history_size pairs
                                H_diag ← y·s / y·y
               d ← −H·g by the two-loop recursion over the kept pairs (oldest first), H₀ = H_diag·I
        prev_flat_grad, prev_loss ← g, f
        t ← min(1, 1/‖g‖₁)·lr if n_iter = 1 else lr
        stop here if g·d > −tolerance_change          (no move)
        if line_search_fn = strong_wolfe:  t ← a step along d meeting the strong Wolfe conditions
                                          (c1 = 1e-4, c2 = 0.9; at most max_eval − 1 trial evaluations)
        θ ← θ + t·d

    Without a line search an update costs one evaluation; with strong_wolfe, one more per trial. torch's
    default max_eval for max_iter=1 is 1, so strong_wolfe with max_eval 1 makes one trial: it takes t if f
    is lower there and otherwise does not move (and, as nothing changes, never will); raise max_eval for a
    real line search. The trials of an update see that update's noise draw (a fixed mini-batch per step,
    as a torch closure over one batch). func_evals counts every evaluation since the start.
    """
    history_size = int(h[0])
    strong_wolfe, tolerance_grad, tolerance_change, max_eval = h[1] != 0.0, h[2], h[3], int(h[4])
    dirs, stps, ros = LBFGS_ROWS, LBFGS_ROWS + history_size, LBFGS_ROWS + 2 * history_size
    g0, g1 = g[0], g[1]
    loss = closure[9]
    func_evals = state[6, 0] + 1.0
    state[6, 0] = state[6, 1] = func_evals
    state[7, 1] = 1.0  # evaluations of this update
    if abs(g0) <= tolerance_grad and abs(g1) <= tolerance_grad:
        return
    n_iter = state[5, 0] + 1.0
    state[5, 0] = state[5, 1] = n_iter
    num_old = int(state[7, 0])
    if n_iter == 1:
        d0, d1 = -g0, -g1
        h_diag = 1.0
    else:
        y0, y1 = g0 - state[3, 0], g1 - state[3, 1]
        s0, s1 = state[0, 0] * state[1, 0], state[0, 1] * state[1, 0]
        ys = y0 * s0 + y1 * s1
        h_diag = state[2, 0]
        if ys > 1e-10:
            if num_old == history_size:
                for i in range(1, history_size):
                    for c in range(2):
                        state[dirs + i - 1, c] = state[dirs + i, c]
                        state[stps + i - 1, c] = state[stps + i, c]
                    state[ros + i - 1, 0] = state[ros + i, 0]
                num_old -= 1
            state[dirs + num_old, 0], state[dirs + num_old, 1] = y0, y1
            state[stps + num_old, 0], state[stps + num_old, 1] = s0, s1
            state[ros + num_old, 0] = 1.0 / ys
            num_old += 1
            h_diag = ys / (y0 * y0 + y1 * y1)
        q0, q1 = -g0, -g1
        for i in range(num_old - 1, -1, -1):
            al = (state[stps + i, 0] * q0 + state[stps + i, 1] * q1) * state[ros + i, 0]
            state[ros + i, 1] = al
            q0 = q0 + (-al) * state[dirs + i, 0]
            q1 = q1 + (-al) * state[dirs + i, 1]
        d0, d1 = q0 * h_diag, q1 * h_diag
        for i in range(num_old):
            be = (state[dirs + i, 0] * d0 + state[dirs + i, 1] * d1) * state[ros + i, 0]
            d0 = d0 + (state[ros + i, 1] - be) * state[stps + i, 0]
            d1 = d1 + (state[ros + i, 1] - be) * state[stps + i, 1]
    state[7, 0] = num_old
    state[2, 0] = state[2, 1] = h_diag
    state[3, 0], state[3, 1] = g0, g1
    state[4, 0] = state[4, 1] = loss
    step, step_tensor = lr, False
    if n_iter == 1:
        inverse = 1.0 / (abs(g0) + abs(g1))
        if inverse < 1.0:
            step, step_tensor = inverse * lr, True
    gtd = g0 * d0 + g1 * d1
    if not gtd > -tolerance_change:
        if strong_wolfe:
            step, trials = _strong_wolfe(
                closure, theta[0], theta[1], step, step_tensor, d0, d1, loss, gtd, tolerance_change, max_eval - 1
            )
            state[6, 0] = state[6, 1] = func_evals + trials
            state[7, 1] = 1.0 + trials
        theta[0] = theta[0] + step * d0
        theta[1] = theta[1] + step * d1
    state[0, 0], state[0, 1] = d0, d1
    state[1, 0] = state[1, 1] = step


@dataclass(frozen=True)
class Rule:
    """A compiled rule as the engine calls it.

    ``number`` is its branch in core.race.advance; ``hyper`` the names of ``h``'s entries, in order;
    ``state`` torch's names of its state rows, in order (a scalar state such as NAdam's Πμ fills
    both columns of its row); ``initial`` each row's value before update 1, from the hyperparameters;
    ``present`` which of the state rows torch keeps for these hyperparameters; ``scalars`` the rows
    that hold one number; ``counts_steps`` whether torch also keeps ``step`` (the update count t).
    A rule whose state is not a fixed set of rows (L-BFGS) says how many it needs (``rows``) and how
    to read them (``read``); one that evaluates the landscape itself reads from its state how often (``evaluations``).
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
    rows: Callable[[Mapping[str, Any]], int] | None = None
    read: Callable[[Array, tuple[str, ...]], dict[str, Any]] | None = None
    evaluations: Callable[[Array], int] | None = None

    def initial_state(self, hyper: Mapping[str, Any]) -> tuple[float, ...]:
        return self.initial(hyper) if self.initial else (0.0,) * len(self.state)

    def named_state(self, states: Array, names: tuple[str, ...]) -> dict[str, Any]:
        """The state after each of n updates, ``states`` (n, S, 2), under torch's names: each entry (n, 2),
        or (n,) for a number; a rule with a ``read`` of its own (L-BFGS: lists that grow) returns lists."""
        if self.read is not None:
            return self.read(states, names)
        return {
            name: states[:, self.state.index(name), 0] if name in self.scalars else states[:, self.state.index(name)]
            for name in names
        }

    def state_names(self, hyper: Mapping[str, Any]) -> tuple[str, ...]:
        """The state torch keeps for these hyperparameters (e.g. no ``momentum_buffer`` without momentum)."""
        return self.present(hyper) if self.present else self.state


_ADAM_HYPER = ("beta1", "beta2", "eps", "weight_decay")
_LBFGS_STATE = ("d", "t", "H_diag", "prev_flat_grad", "prev_loss", "n_iter", "func_evals")


def _read_lbfgs(states: Array, names: tuple[str, ...]) -> dict[str, Any]:
    """L-BFGS's state after each update as torch keeps it: ``old_dirs`` and ``old_stps`` lists of [a, b]
    (oldest first), ``ro`` and ``al`` lists of numbers (``al``: its used slots), None where torch has
    no such entry yet (before the first iteration; ``al`` before the second)."""
    history = (states.shape[1] - LBFGS_ROWS) // 3
    dirs, stps, ros = LBFGS_ROWS, LBFGS_ROWS + history, LBFGS_ROWS + 2 * history
    out: dict[str, list[Any]] = {name: [] for name in (*_LBFGS_STATE, "old_dirs", "old_stps", "ro", "al")}
    for row in states:
        n_iter, num_old = int(row[5, 0]), int(row[7, 0])
        out["n_iter"].append(n_iter)
        out["func_evals"].append(int(row[6, 0]))
        started = n_iter > 0
        for name, index in (("d", 0), ("prev_flat_grad", 3)):
            out[name].append(row[index].tolist() if started else None)
        for name, index in (("t", 1), ("H_diag", 2), ("prev_loss", 4)):
            out[name].append(float(row[index, 0]) if started else None)
        out["old_dirs"].append(row[dirs : dirs + num_old].tolist() if started else None)
        out["old_stps"].append(row[stps : stps + num_old].tolist() if started else None)
        out["ro"].append(row[ros : ros + num_old, 0].tolist() if started else None)
        out["al"].append(row[ros : ros + num_old, 1].tolist() if n_iter > 1 else None)
    return {name: _finite(out[name]) for name in names}


def _finite(value: Any) -> Any:
    """``value`` with None for every number that is not finite (JSON has no NaN or Infinity)."""
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


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
    "lbfgs": Rule(
        13,
        lbfgs,
        ("history_size", "line_search_fn", "tolerance_grad", "tolerance_change", "max_eval"),
        _LBFGS_STATE,
        scalars=("t", "H_diag", "prev_loss", "n_iter", "func_evals"),
        counts_steps=False,
        present=lambda h: (*_LBFGS_STATE, "old_dirs", "old_stps", "ro", "al"),
        rows=lambda h: LBFGS_ROWS + 3 * int(h["history_size"]),
        read=_read_lbfgs,
        evaluations=lambda state: int(state[6, 0]),  # func_evals
    ),
}


# --- specs and the registry ---------------------------------------------------------------------


def _lr(default: float, help_text: str = "learning rate: the step size") -> ParamSpec:
    return ranged("lr", default, help_text, (1e-5, 10.0), "log")


def _eps(default: float) -> ParamSpec:
    return ranged("eps", default, "added to the denominator for numerical stability", (1e-12, 1.0), "log")


def _weight_decay(default: float = 0.0, decoupled: bool = False) -> ParamSpec:
    meaning = (
        "decoupled weight decay: θ shrinks by lr·weight_decay·θ each step"
        if decoupled
        else "L2 penalty added to the gradient: g + weight_decay·θ"
    )
    return ranged("weight_decay", default, meaning, (0.0, 1.0))


def _flag(name: str, default: bool, help_text: str) -> ParamSpec:
    return ParamSpec(name, default, help_text, kind="bool")


_MOMENTUM = decay("momentum", 0.9, "momentum factor: how much of the last step is kept", maximum=None)
_DAMPENING = ranged("dampening", 0.0, "dampening of the new gradient in the momentum buffer", (0.0, 1.0), maximum=1.0)
_BETA1 = decay("beta1", 0.9, "decay of the running mean of gradients (first moment)", open_max=True)
_BETA2 = decay("beta2", 0.999, "decay of the running mean of squared gradients (second moment)", open_max=True)
_AMSGRAD = _flag("amsgrad", False, "use the running maximum of v (AMSGrad)")
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

    def state_depth(self, resolved: Mapping[str, Any]) -> int:
        """How many state rows a racer with these hyperparameters needs (L-BFGS's grow with its history)."""
        rule = self.compiled
        return rule.rows(self.rule_arguments(resolved)) if rule.rows else len(rule.state)

    def rule_arguments(self, resolved: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's hyperparameters for one racer: its own but lr, the fixed ones, 0 for the rest."""
        values = {**resolved, **self.fixed}
        return {name: values.get(name, 0.0) for name in self.compiled.hyper}

    def hyper(self, resolved: Mapping[str, Any]) -> Array:
        """``h`` of the compiled rule: its hyperparameters in ``Rule.hyper``'s order, flags as 0/1, a choice
        as its index in ``choices``."""
        return np.array(
            [
                float(v) if not isinstance(v, str) else self._choice_index(name, v)
                for name, v in self.rule_arguments(resolved).items()
            ],
            dtype=np.float64,
        )

    def _choice_index(self, name: str, value: str) -> float:
        """A choice's value as the rule reads it: its index in the parameter's ``choices``."""
        return float(next(spec.choices for spec in self.params if spec.name == name).index(value))


_SGD_TORCH = "torch.optim.SGD(params, lr={lr}, momentum={momentum}, dampening={dampening}, weight_decay={weight_decay})"
_ADAM_ARGS = "lr={lr}, betas=({beta1}, {beta2}), eps={eps}, weight_decay={weight_decay}"

_ADAM_PARAMS = (_lr(1e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay())

OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        OptimizerSpec(
            "sgd",
            "SGD",
            "plain gradient descent: step against the gradient",
            RULES["sgd"],
            (_lr(1e-3), replace(_MOMENTUM, default=0.0), _DAMPENING, _weight_decay()),
            _SGD_TORCH,
        ),
        OptimizerSpec(
            "momentum",
            "Momentum",
            "heavy ball: velocity accumulates along consistent directions",
            RULES["sgd"],
            (_lr(1e-3), _MOMENTUM, _DAMPENING, _weight_decay()),
            _SGD_TORCH,
        ),
        OptimizerSpec(
            "nesterov",
            "Nesterov",
            "momentum that looks ahead before it steps",
            RULES["sgd"],
            (_lr(1e-3), _MOMENTUM, _weight_decay()),
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
                ranged("lr_decay", 0.0, "learning-rate decay: lr/(1 + (t−1)·lr_decay)", (0.0, 1.0)),
                _weight_decay(),
                ranged("initial_accumulator_value", 0.0, "starting value of the sum of squared gradients", (0.0, 1.0)),
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
                decay("alpha", 0.99, "decay of the running mean of squared gradients"),
                _eps(1e-8),
                _weight_decay(),
                replace(_MOMENTUM, default=0.0),
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
            (*_ADAM_PARAMS, _AMSGRAD),
            f"torch.optim.Adam(params, {_ADAM_ARGS}, amsgrad={{amsgrad}})",
        ),
        OptimizerSpec(
            "amsgrad",
            "AMSGrad",
            "Adam whose denominator never shrinks",
            RULES["adam"],
            _ADAM_PARAMS,
            f"torch.optim.Adam(params, {_ADAM_ARGS}, amsgrad=True)",
            fixed={"amsgrad": True},
        ),
        OptimizerSpec(
            "adamw",
            "AdamW",
            "Adam with weight decay decoupled from the gradient",
            RULES["adam"],
            (*_ADAM_PARAMS[:4], _weight_decay(1e-2, decoupled=True), _AMSGRAD),
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
                *_ADAM_PARAMS[1:],
                ranged("momentum_decay", 4e-3, "warm-up of the momentum coefficient μₜ", (0.0, 0.1)),
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
            (*_ADAM_PARAMS, _DECOUPLED),
            f"torch.optim.RAdam(params, {_ADAM_ARGS}, decoupled_weight_decay={{decoupled_weight_decay}})",
        ),
        OptimizerSpec(
            "adamax",
            "Adamax",
            "Adam with the infinity norm in the denominator",
            RULES["adamax"],
            (_lr(2e-3), *_ADAM_PARAMS[1:]),
            f"torch.optim.Adamax(params, {_ADAM_ARGS})",
        ),
        OptimizerSpec(
            "adadelta",
            "Adadelta",
            "steps sized by the ratio of past step and gradient RMS",
            RULES["adadelta"],
            (
                _lr(1.0, "scale of the step Δ (1 in the paper)"),
                decay("rho", 0.9, "decay of both running averages"),
                _eps(1e-6),
                _weight_decay(),
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
                decay("beta1", 0.9, "blend of momentum and gradient in the sign", open_max=True),
                decay("beta2", 0.99, "decay of the momentum", open_max=True),
                _weight_decay(1e-3, decoupled=True),
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
                ranged("damping", 0.0, "λ added to the Hessian's diagonal (Levenberg)", (0.0, 10.0)),
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
                ranged(
                    "etaminus",
                    0.5,
                    "factor of the step size after a sign flip",
                    (0.05, 0.95),
                    maximum=1.0,
                    open_min=True,
                    open_max=True,
                ),
                ranged(
                    "etaplus",
                    1.2,
                    "factor of the step size while the sign holds",
                    (1.01, 3.0),
                    minimum=1.0,
                    open_min=True,
                ),
                ranged("step_size_min", 1e-6, "smallest step size", (0.0, 0.1)),
                ranged("step_size_max", 50.0, "largest step size", (0.01, 50.0), "log", open_min=True),
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
                ranged("lambd", 1e-4, "decay term of the step size η", (0.0, 1.0)),
                ranged("alpha", 0.75, "power of the step-size decay", (0.0, 2.0)),
                ranged("t0", 1e6, "update from which the points are averaged", (0.0, 1e6)),
                _weight_decay(),
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
                ranged(
                    "beta2_decay",
                    -0.8,
                    "exponent of the second moment's decay: w = t^beta2_decay",
                    (-1.0, 0.0),
                    minimum=None,
                    maximum=0.0,
                ),
                ranged("eps1", 2.220446049250313e-16, "floor of the second moment (squared)", (1e-30, 1e-3), "log"),
                ranged("eps2", 1e-3, "floor of θ's RMS in the step size", (1e-6, 1.0), "log"),
                ranged("d", 1.0, "clipping threshold of the update's RMS", (1.0, 10.0), minimum=1.0),
                _weight_decay(decoupled=True),
            ),
            "torch.optim.Adafactor(params, lr={lr}, beta2_decay={beta2_decay}, eps=({eps1}, {eps2}), d={d}, "
            "weight_decay={weight_decay})",
        ),
        OptimizerSpec(
            "lbfgs",
            "L-BFGS",
            "quasi-Newton: a curvature estimate from the last steps, optionally a line search",
            RULES["lbfgs"],
            (
                _lr(1.0, "step length along the L-BFGS direction (the line search's first trial)"),
                ranged(
                    "history_size",
                    100,
                    "how many recent (gradient change, step) pairs shape the direction",
                    (1, LBFGS_MAX_HISTORY),
                    minimum=1,
                    maximum=LBFGS_MAX_HISTORY,
                    kind="int",
                ),
                ParamSpec(
                    "line_search_fn",
                    "none",
                    "none: step lr·d; strong_wolfe: search along d for a step meeting the strong Wolfe conditions",
                    kind="choice",
                    choices=("none", "strong_wolfe"),
                ),
                ranged(
                    "tolerance_grad",
                    1e-7,
                    "no step while every |gradient coordinate| is at most this",
                    (1e-12, 1.0),
                    "log",
                ),
                ranged(
                    "tolerance_change",
                    1e-9,
                    "no step unless g·d < −this; ends the line search's zoom",
                    (1e-15, 1.0),
                    "log",
                ),
                ranged(
                    "max_eval",
                    1,
                    "evaluations per step, the first one included (torch: 1 for max_iter=1, one line-search trial)",
                    (1, 50),
                    minimum=1,
                    maximum=100,
                    kind="int",
                ),
            ),
            "torch.optim.LBFGS(params, lr={lr}, max_iter=1, max_eval={max_eval}, tolerance_grad={tolerance_grad}, "
            "tolerance_change={tolerance_change}, history_size={history_size}, line_search_fn={line_search_fn})",
        ),
    )
}


def get_optimizer(name: str) -> OptimizerSpec:
    """The registry entry for ``name``; raises ValueError listing the known names."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}") from None
