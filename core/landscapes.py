"""Loss landscapes: f(x, y), its analytic gradient and Hessian, compiled, at one point or many.

A ``Landscape`` is the catalogue entry: formula, lesson, plotted domain, default start, exact
minima, arrival tolerances, display hints and parameter specs. ``Landscape.surface(params, l1, l2)``
fixes the parameters and the regularization and gives the ``Surface`` a race steps on:

    F(θ) = f(θ) + l1·(|x| + |y|) + l2·(x² + y²)
    ∇F(θ) = ∇f(θ) + l1·sign(θ) + 2·l2·θ          (sign(0) = 0)
    ∇²F(θ) = ∇²f(θ) + 2·l2·I                      (the |·| kink has no Hessian; 0 is used)

Each landscape is two compiled functions of one point (x, y) and its parameters as a float array
``p``: one returns ``(f, ∂f/∂x, ∂f/∂y)``, the other ``(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²)``. Inside
compiled code a landscape is its ``kind``, an integer (``value_and_grad_at``, ``hessian_at``), so
the race loop, the contour grid and ``/evaluate`` all run the same functions, and one compiled race
loop serves every landscape.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core import formula
from core.formula import program_hessian, program_value_and_grad
from core.jit import njit
from core.params import ParamSpec, ranged, resolve_params

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Params = Mapping[str, Any]
NO_PROGRAM = np.zeros(0, dtype=np.int64)  # the program of every landscape but a formula
NO_CONSTANTS = np.zeros(0, dtype=np.float64)


class Minimum(NamedTuple):
    """A minimum of a surface: where, how low, and whether it is a lowest one."""

    point: tuple[float, float]
    value: float
    kind: Literal["global", "local"]


@dataclass(frozen=True)
class Domain:
    """The plotted window [xmin, xmax] × [ymin, ymax]."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float


@dataclass(frozen=True)
class Landscape:
    """A named loss landscape and everything the page, the API and the race need to know about it.

    ``minima`` are exact and do not depend on the landscape's parameters. A racer arrives at a
    minimum when its loss is within ``tolerance`` of the minimum's value and its point within
    ``radius`` of the minimum's point. ``kind`` names its functions in compiled code; ``pack``
    turns its resolved parameters into the float array ``p`` they read (default: the values in
    the order of ``params``).
    """

    name: str
    title: str
    formula: str
    lesson: str
    domain: Domain
    start: tuple[float, float]
    minima: tuple[Minimum, ...]
    kind: int = field(repr=False, compare=False)
    tolerance: float = 1e-3
    radius: float = 0.05
    log_scale: bool = False
    params: tuple[ParamSpec, ...] = ()
    pack: Callable[[Params], tuple[float, ...]] | None = field(default=None, repr=False, compare=False)

    def surface(self, params: Params | None = None, l1: float = 0.0, l2: float = 0.0) -> Surface:
        """This landscape with its parameters and regularization fixed; raises ``ValueError``."""
        resolved = resolve_params(self.params, params, owner=f"landscape {self.name}")
        return Surface(self, resolved, _check_penalty("l1", l1), _check_penalty("l2", l2))

    def packed(self, resolved: Params) -> FloatArray:
        """The parameter array ``p`` of the compiled functions."""
        values = self.pack(resolved) if self.pack else tuple(float(resolved[spec.name]) for spec in self.params)
        return np.array(values, dtype=np.float64).reshape(-1)

    def resolve(self, params: Params | None = None) -> Landscape:
        """The entry that holds for these parameters: this one, except for ``custom``, whose domain,
        minima and start depend on its formula (see FormulaLandscape)."""
        return self

    @property
    def program(self) -> tuple[IntArray, FloatArray]:
        """(code, constants) of the formula program compiled code runs for this landscape: none but ``custom``'s."""
        return NO_PROGRAM, NO_CONSTANTS


class Surface:
    """F(θ) = f(θ) + l1·(|x| + |y|) + l2·(x² + y²) for one landscape with fixed parameters.

    Every method takes points (..., 2) (a single point (2,) too) and broadcasts over the leading
    axes: ``value`` → (...), ``grad`` → (..., 2), ``hessian`` → (..., 2, 2). ``compiled`` is what
    compiled code needs: (kind, p, program, constants).
    """

    __slots__ = ("compiled", "l1", "l2", "landscape", "params")

    def __init__(self, landscape: Landscape, params: dict[str, Any], l1: float, l2: float):
        self.landscape, self.params, self.l1, self.l2 = landscape, params, l1, l2
        self.compiled = (landscape.kind, landscape.packed(params), *landscape.program)

    def __repr__(self) -> str:
        return f"Surface({self.landscape.name!r}, params={self.params}, l1={self.l1}, l2={self.l2})"

    def value_and_grad(self, points: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Loss (...) and gradient (..., 2) at ``points`` (..., 2), in one pass."""
        points = np.asarray(points, dtype=np.float64)
        loss, grads = _evaluate(*self.compiled, self.l1, self.l2, np.ascontiguousarray(points.reshape(-1, 2)))
        return loss.reshape(points.shape[:-1]), grads.reshape(points.shape)

    def value(self, points: ArrayLike) -> FloatArray:
        """Loss F at ``points`` (..., 2) → (...)."""
        return self.value_and_grad(points)[0]

    def grad(self, points: ArrayLike) -> FloatArray:
        """Gradient ∇F at ``points`` (..., 2) → (..., 2)."""
        return self.value_and_grad(points)[1]

    def hessian(self, points: ArrayLike) -> FloatArray:
        """Hessian ∇²F at ``points`` (..., 2) → (..., 2, 2); the l1 kink contributes 0."""
        points = np.asarray(points, dtype=np.float64)
        hess = _hessians(*self.compiled, self.l2, np.ascontiguousarray(points.reshape(-1, 2)))
        return hess.reshape((*points.shape, 2))

    @property
    def minima(self) -> tuple[Minimum, ...]:
        """The landscape's exact minima, or, when regularized, the minima found numerically."""
        if not (self.l1 or self.l2):
            return self.landscape.minima
        key = tuple(sorted(self.params.items()))
        return _regularized_minima(self.landscape.name, key, self.l1, self.l2)


def _check_penalty(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


# --- Regularized minima --------------------------------------------------------------------------

_GRID = 201  # candidate grid, points per axis
_STENCIL = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], dtype=np.float64)
_STENCIL_EDGE = np.abs(_STENCIL).max(axis=1) == 2


@functools.lru_cache(maxsize=256)
def _regularized_minima(
    name: str, params_key: tuple[tuple[str, Any], ...], l1: float, l2: float
) -> tuple[Minimum, ...]:
    """Minima of the regularized surface, found numerically.

    Candidates are the landscape's exact minima and the local minima of a 201 × 201 grid over the
    domain. Each is refined by a shrinking 5 × 5 pattern search (derivative-free, so the |x| kink
    does no harm), coordinates within 1e-9 of an axis are snapped onto it when that is no worse,
    and a few Newton steps in the coordinates off the axes polish the rest. A candidate is kept if
    it ends inside the domain with a vanishing gradient off the axes; one that did not start at an
    exact minimum is kept only if it is no higher than the highest of those that did, so a new
    minimum joins the list only when it matters. Duplicates merge; "global" marks the lowest.
    """
    surface = LANDSCAPES[name].surface(dict(params_key), l1, l2)
    landscape = surface.landscape  # custom: the entry of this formula
    domain = landscape.domain
    xs = np.linspace(domain.xmin, domain.xmax, _GRID)
    ys = np.linspace(domain.ymin, domain.ymax, _GRID)
    grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)  # grid[i, j] = (x_i, y_j)
    z = surface.value(grid)
    padded = np.pad(z, 1, constant_values=np.inf)
    is_min = np.ones(z.shape, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= z <= padded[1 + di : 1 + di + _GRID, 1 + dj : 1 + dj + _GRID]
    exact = np.array([m.point for m in landscape.minima])
    starts = np.concatenate([exact, grid[is_min]])
    spacing = max(xs[1] - xs[0], ys[1] - ys[0])

    points = _pattern_search(surface, starts, spacing)
    if l1:
        snapped = np.where(np.abs(points) < 1e-9, 0.0, points)
        loss = surface.value(points)
        better = surface.value(snapped) <= loss + 1e-12 * (1 + np.abs(loss))
        points = np.where(better[:, None], snapped, points)
    points = _newton_polish(surface, points)

    loss, grads = surface.value_and_grad(points)
    free_grads = np.where(points == 0.0, 0.0, grads) if l1 else grads
    scale = 1.0 + np.abs(loss)
    low, high = np.array([domain.xmin, domain.ymin]), np.array([domain.xmax, domain.ymax])
    inside = ((points >= low) & (points <= high)).all(axis=1)
    keep = inside & (np.linalg.norm(free_grads, axis=1) <= 1e-6 * scale)
    from_exact = np.arange(len(points)) < len(exact)
    if (keep & from_exact).any():
        keep &= from_exact | (loss <= loss[keep & from_exact].max())

    found: list[tuple[float, tuple[float, float]]] = []
    for index in np.argsort(loss, kind="stable"):
        if not keep[index]:
            continue
        point = (float(points[index, 0]), float(points[index, 1]))
        if all(math.dist(point, other) > 1e-6 for _, other in found):
            found.append((float(loss[index]), point))
    lowest = found[0][0]
    return tuple(
        Minimum(point, value, "global" if value <= lowest + 1e-9 * (1 + abs(lowest)) else "local")
        for value, point in found
    )


def _pattern_search(surface: Surface, points: FloatArray, spacing: float) -> FloatArray:
    """Move each point to the lowest of a 5 × 5 stencil around it; halve the stencil's step
    unless the lowest was on its rim. 80 rounds take a grid step of ~0.05 below 1e-14."""
    step = np.full(len(points), spacing)
    rows = np.arange(len(points))
    for _ in range(80):
        trial = points[:, None, :] + step[:, None, None] * _STENCIL
        best = surface.value(trial).argmin(axis=1)
        points = trial[rows, best]
        step = np.where(_STENCIL_EDGE[best], step, 0.5 * step)
    return points


def _newton_polish(surface: Surface, points: FloatArray, rounds: int = 6) -> FloatArray:
    """Newton steps θ ← θ − H⁻¹·∇F in the coordinates that are not pinned to an axis by l1;
    a step is taken only where H is positive definite and the loss does not rise."""
    for _ in range(rounds):
        loss, grads = surface.value_and_grad(points)
        hess = surface.hessian(points)
        pinned = points == 0.0 if surface.l1 else np.zeros(points.shape, dtype=bool)
        g = np.where(pinned, 0.0, grads)
        hxx, hyy = hess[:, 0, 0], hess[:, 1, 1]
        hxy = np.where(pinned.any(axis=1), 0.0, hess[:, 0, 1])
        det = hxx * hyy - hxy * hxy
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.empty(points.shape)
            step[:, 0] = (hyy * g[:, 0] - hxy * g[:, 1]) / det
            step[:, 1] = (hxx * g[:, 1] - hxy * g[:, 0]) / det
        candidate = points - step
        ok = (det > 0) & (hxx > 0) & np.isfinite(step).all(axis=1)
        if surface.l1:  # stay on the smooth side of the kink
            ok &= ~(np.sign(candidate) * np.sign(points) < 0).any(axis=1)
        candidate = np.where(ok[:, None], candidate, points)
        ok &= surface.value(candidate) <= loss + 1e-12 * (1 + np.abs(loss))
        points = np.where(ok[:, None], candidate, points)
    return points


# --- The landscapes ------------------------------------------------------------------------------
# Each pair, compiled: (f, ∂f/∂x, ∂f/∂y) and (∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) at one point (x, y), the
# landscape's parameters in the float array p (its ``pack``). math's exp, sin and cos are the C
# library's, compiled or not, so NUMBA_DISABLE_JIT=1 gives the same bits.


@njit(error_model="numpy", cache=True)
def beale(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = r₁² + r₂² + r₃²,  rᵢ = cᵢ + x·(yⁱ − 1),  c = (1.5, 2.25, 2.625)

    ∂f/∂x = 2·Σ rᵢ·(yⁱ − 1),  ∂f/∂y = 2·x·(r₁ + 2·r₂·y + 3·r₃·y²)
    """
    y2 = y * y
    y3 = y2 * y
    d1 = y - 1.0
    d2 = y2 - 1.0
    d3 = y3 - 1.0
    r1 = x * d1 + 1.5
    r2 = x * d2 + 2.25
    r3 = x * d3 + 2.625
    loss = r1 * r1 + r2 * r2 + r3 * r3
    grad_x = 2.0 * (r1 * d1 + r2 * d2 + r3 * d3)
    grad_y = 2.0 * x * (r1 + 2.0 * r2 * y + 3.0 * r3 * y2)
    return loss, grad_x, grad_y


@njit(error_model="numpy", cache=True)
def beale_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∂²f/∂x² = 2·Σ (yⁱ − 1)²,  ∂²f/∂x∂y = 2·Σ i·yⁱ⁻¹·(x·(yⁱ − 1) + rᵢ),
    ∂²f/∂y² = 2·Σ i·x·yⁱ⁻²·(i·x·yⁱ + (i − 1)·rᵢ)"""
    y2 = y * y
    y3 = y2 * y
    d1 = y - 1.0
    d2 = y2 - 1.0
    d3 = y3 - 1.0
    r2 = x * d2 + 2.25
    r3 = x * d3 + 2.625
    hxx = 2.0 * (d1 * d1 + d2 * d2 + d3 * d3)
    hxy = 2.0 * ((2.0 * x * d1 + 1.5) + 2.0 * y * (x * d2 + r2) + 3.0 * y2 * (x * d3 + r3))
    hyy = 2.0 * x * (x + 2.0 * (2.0 * x * y2 + r2) + 3.0 * y * (3.0 * x * y3 + 2.0 * r3))
    return hxx, hxy, hyy


@njit(error_model="numpy", cache=True)
def rosenbrock(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = (1 − x)² + 100·(y − x²)²

    ∂f/∂x = −2·(1 − x) − 400·x·(y − x²),  ∂f/∂y = 200·(y − x²)
    """
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b


@njit(error_model="numpy", cache=True)
def rosenbrock_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∂²f/∂x² = 2 − 400·y + 1200·x²,  ∂²f/∂x∂y = −400·x,  ∂²f/∂y² = 200"""
    return 2.0 - 400.0 * y + 1200.0 * x * x, -400.0 * x, 200.0


@njit(error_model="numpy", cache=True)
def saddle(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = (x² − 1)²/4 + y²/2: a saddle at (0, 0) (f = 1/4), minima at (±1, 0) (f = 0)

    ∂f/∂x = x·(x² − 1),  ∂f/∂y = y
    """
    a = x * x - 1.0
    return 0.25 * a * a + 0.5 * y * y, x * a, y


@njit(error_model="numpy", cache=True)
def saddle_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∂²f/∂x² = 3·x² − 1,  ∂²f/∂x∂y = 0,  ∂²f/∂y² = 1"""
    return 3.0 * x * x - 1.0, 0.0, 1.0


@functools.lru_cache(maxsize=64)
def _bowl_matrix(condition: float, angle: float) -> tuple[float, float, float]:
    """A = R·diag(1/κ, 1)·Rᵀ with R the rotation by ``angle`` degrees, as (a₁₁, a₁₂, a₂₂)."""
    c = math.cos(math.radians(angle))
    s = math.sin(math.radians(angle))
    return c * c / condition + s * s, c * s * (1.0 / condition - 1.0), s * s / condition + c * c


def _pack_bowl(params: Params) -> tuple[float, ...]:
    """bowl's p: the entries (a₁₁, a₁₂, a₂₂) of A, computed once per surface."""
    return _bowl_matrix(params["condition"], params["angle"])


@njit(error_model="numpy", cache=True)
def bowl(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = ½·(u²/κ + v²) = ½·θᵀAθ,  u = x·cos α + y·sin α,  v = −x·sin α + y·cos α

    κ = condition, α = angle; A = R·diag(1/κ, 1)·Rᵀ has eigenvalues 1/κ (along the valley) and 1.
    ∇f = A·θ
    """
    a11, a12, a22 = p[0], p[1], p[2]
    grad_x = a11 * x + a12 * y
    grad_y = a12 * x + a22 * y
    return 0.5 * (x * grad_x + y * grad_y), grad_x, grad_y


@njit(error_model="numpy", cache=True)
def bowl_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∇²f = A, constant"""
    return p[0], p[1], p[2]


@njit(error_model="numpy", cache=True)
def himmelblau(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = (x² + y − 11)² + (x + y² − 7)²

    ∂f/∂x = 4·x·(x² + y − 11) + 2·(x + y² − 7),  ∂f/∂y = 2·(x² + y − 11) + 4·y·(x + y² − 7)
    """
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return a * a + b * b, 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


@njit(error_model="numpy", cache=True)
def himmelblau_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∂²f/∂x² = 12·x² + 4·y − 42,  ∂²f/∂x∂y = 4·(x + y),  ∂²f/∂y² = 4·x + 12·y² − 26"""
    return 12.0 * x * x + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * y * y - 26.0


_TWO_PI = 2.0 * math.pi
_TWENTY_PI = 20.0 * math.pi
_FORTY_PI_SQUARED = 40.0 * math.pi**2


@njit(error_model="numpy", cache=True)
def rastrigin(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = 20 + x² − 10·cos(2πx) + y² − 10·cos(2πy)

    ∂f/∂x = 2·x + 20π·sin(2πx),  ∂f/∂y = 2·y + 20π·sin(2πy)
    """
    tx = _TWO_PI * x
    ty = _TWO_PI * y
    loss = 20.0 + x * x + y * y - 10.0 * (math.cos(tx) + math.cos(ty))
    return loss, 2.0 * x + _TWENTY_PI * math.sin(tx), 2.0 * y + _TWENTY_PI * math.sin(ty)


@njit(error_model="numpy", cache=True)
def rastrigin_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∂²f/∂x² = 2 + 40π²·cos(2πx),  ∂²f/∂x∂y = 0,  ∂²f/∂y² = 2 + 40π²·cos(2πy)"""
    return 2.0 + _FORTY_PI_SQUARED * math.cos(_TWO_PI * x), 0.0, 2.0 + _FORTY_PI_SQUARED * math.cos(_TWO_PI * y)


@njit(error_model="numpy", cache=True)
def six_hump_camel(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = (4 − 2.1·x² + x⁴/3)·x² + x·y + (4·y² − 4)·y²

    ∂f/∂x = 8·x − 8.4·x³ + 2·x⁵ + y,  ∂f/∂y = x − 8·y + 16·y³
    """
    x2 = x * x
    y2 = y * y
    loss = (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2
    grad_x = x * (8.0 - 8.4 * x2 + 2.0 * x2 * x2) + y
    grad_y = x + y * (16.0 * y2 - 8.0)
    return loss, grad_x, grad_y


@njit(error_model="numpy", cache=True)
def six_hump_camel_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∂²f/∂x² = 8 − 25.2·x² + 10·x⁴,  ∂²f/∂x∂y = 1,  ∂²f/∂y² = 48·y² − 8"""
    x2 = x * x
    return 8.0 - 25.2 * x2 + 10.0 * x2 * x2, 1.0, 48.0 * y * y - 8.0


@njit(error_model="numpy", cache=True)
def booth(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = (x + 2·y − 7)² + (2·x + y − 5)²

    ∂f/∂x = 2·(x + 2·y − 7) + 4·(2·x + y − 5),  ∂f/∂y = 4·(x + 2·y − 7) + 2·(2·x + y − 5)
    """
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return a * a + b * b, 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


@njit(error_model="numpy", cache=True)
def booth_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """∇²f = [[10, 8], [8, 10]]: eigenvalues 18 and 2, eigenvectors along the diagonals"""
    return 10.0, 8.0, 10.0


@njit(error_model="numpy", cache=True)
def goldstein_price(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = [1 + (x + y + 1)²·(19 − 14x + 3x² − 14y + 6xy + 3y²)]
         · [30 + (2x − 3y)²·(18 − 32x + 12x² + 48y − 36xy + 27y²)]

    It factors as f = A(u)·B(t) with u = x + y, t = 2x − 3y:
        A = 3u⁴ − 8u³ − 6u² + 24u + 20,   A′ = 12·(u − 2)·(u − 1)·(u + 1)
        B = 3t⁴ − 16t³ + 18t² + 30,       B′ = 12·t·(t − 1)·(t − 3)
    so ∂f/∂x = A′·B + 2·A·B′,  ∂f/∂y = A′·B − 3·A·B′, and the minima are exactly where A and B
    are both at a minimum: u ∈ {−1, 2}, t ∈ {0, 3}.
    """
    u = x + y
    t = 2.0 * x - 3.0 * y
    a = (((3.0 * u - 8.0) * u - 6.0) * u + 24.0) * u + 20.0
    b = ((3.0 * t - 16.0) * t + 18.0) * t * t + 30.0
    da = 12.0 * (u - 2.0) * (u * u - 1.0)
    db = 12.0 * t * (t - 1.0) * (t - 3.0)
    return a * b, da * b + 2.0 * a * db, da * b - 3.0 * a * db


@njit(error_model="numpy", cache=True)
def goldstein_price_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """With A″ = 36u² − 48u − 12 and B″ = 36t² − 96t + 36:
    ∂²f/∂x² = A″B + 4A′B′ + 4AB″,  ∂²f/∂x∂y = A″B − A′B′ − 6AB″,  ∂²f/∂y² = A″B − 6A′B′ + 9AB″
    """
    u = x + y
    t = 2.0 * x - 3.0 * y
    a = (((3.0 * u - 8.0) * u - 6.0) * u + 24.0) * u + 20.0
    b = ((3.0 * t - 16.0) * t + 18.0) * t * t + 30.0
    da = 12.0 * (u - 2.0) * (u * u - 1.0)
    db = 12.0 * t * (t - 1.0) * (t - 3.0)
    dda = (36.0 * u - 48.0) * u - 12.0
    ddb = (36.0 * t - 96.0) * t + 36.0
    return (
        dda * b + 4.0 * da * db + 4.0 * a * ddb,
        dda * b - da * db - 6.0 * a * ddb,
        dda * b - 6.0 * da * db + 9.0 * a * ddb,
    )


@njit(error_model="numpy", cache=True)
def plateau(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """f = 1 − exp(−(x² + y²)/(2w²)),  w = width

    ∇f = exp(−(x² + y²)/(2w²))·θ/w²: it vanishes exponentially away from the well
    """
    inv_w2 = 1.0 / (p[0] * p[0])
    well = math.exp(-0.5 * inv_w2 * (x * x + y * y))
    return 1.0 - well, inv_w2 * well * x, inv_w2 * well * y


@njit(error_model="numpy", cache=True)
def plateau_hessian(x: float, y: float, p: FloatArray) -> tuple[float, float, float]:
    """With e = exp(−(x² + y²)/(2w²)):  ∇²f = e/w²·(I − θθᵀ/w²)"""
    inv_w2 = 1.0 / (p[0] * p[0])
    scaled = inv_w2 * math.exp(-0.5 * inv_w2 * (x * x + y * y))
    return scaled * (1.0 - inv_w2 * x * x), -scaled * inv_w2 * x * y, scaled * (1.0 - inv_w2 * y * y)


# --- Dispatch: a landscape's kind (an integer) to its functions, inside compiled code ---------------
# ``program`` (int64 op codes) and ``constants`` (float64) describe a formula landscape (kind FORMULA,
# core/formula.py): one more kind whose value, gradient and Hessian come from a compiled interpreter
# of that program, so a new formula needs no new compilation. Every other kind ignores them. Adding a
# landscape: its two functions above, one line in each function below, and its entry in _ALL.

FORMULA = 100  # the kind of a formula landscape: core/formula.py's interpreter runs its program


@njit(error_model="numpy", cache=True, inline="always")
def value_and_grad_at(
    kind: int, x: float, y: float, p: FloatArray, program: IntArray, constants: FloatArray
) -> tuple[float, float, float]:
    """(f, ∂f/∂x, ∂f/∂y) of the landscape of this kind at (x, y)."""
    if kind == 0:
        return beale(x, y, p)
    if kind == 1:
        return rosenbrock(x, y, p)
    if kind == 2:
        return saddle(x, y, p)
    if kind == 3:
        return bowl(x, y, p)
    if kind == 4:
        return himmelblau(x, y, p)
    if kind == 5:
        return rastrigin(x, y, p)
    if kind == 6:
        return six_hump_camel(x, y, p)
    if kind == 7:
        return booth(x, y, p)
    if kind == 8:
        return goldstein_price(x, y, p)
    if kind == 9:
        return plateau(x, y, p)
    if kind == FORMULA:
        return program_value_and_grad(program, constants, x, y)
    return math.nan, math.nan, math.nan  # an unknown kind: the racer diverges at once


@njit(error_model="numpy", cache=True, inline="always")
def hessian_at(
    kind: int, x: float, y: float, p: FloatArray, program: IntArray, constants: FloatArray
) -> tuple[float, float, float]:
    """(∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²) of the landscape of this kind at (x, y)."""
    if kind == 0:
        return beale_hessian(x, y, p)
    if kind == 1:
        return rosenbrock_hessian(x, y, p)
    if kind == 2:
        return saddle_hessian(x, y, p)
    if kind == 3:
        return bowl_hessian(x, y, p)
    if kind == 4:
        return himmelblau_hessian(x, y, p)
    if kind == 5:
        return rastrigin_hessian(x, y, p)
    if kind == 6:
        return six_hump_camel_hessian(x, y, p)
    if kind == 7:
        return booth_hessian(x, y, p)
    if kind == 8:
        return goldstein_price_hessian(x, y, p)
    if kind == 9:
        return plateau_hessian(x, y, p)
    if kind == FORMULA:
        return program_hessian(program, constants, x, y)
    return math.nan, math.nan, math.nan


@njit(error_model="numpy", cache=True)
def sign(value: float) -> float:
    """np.sign on one float: ±1, 0.0 for ±0 (positive, as NumPy), NaN for NaN."""
    if value > 0:
        return 1.0
    if value < 0:
        return -1.0
    return 0.0 if value == 0 else value


@njit(error_model="numpy", cache=True, inline="always")
def surface_value_and_grad(
    kind: int, p: FloatArray, program: IntArray, constants: FloatArray, l1: float, l2: float, x: float, y: float
) -> tuple[float, float, float]:
    """(F, ∂F/∂x, ∂F/∂y) with F = f + l1·(|x| + |y|) + l2·(x² + y²)."""
    loss, grad_x, grad_y = value_and_grad_at(kind, x, y, p, program, constants)
    if l1 != 0.0:
        loss = loss + l1 * (abs(x) + abs(y))
        grad_x = grad_x + l1 * sign(x)
        grad_y = grad_y + l1 * sign(y)
    if l2 != 0.0:
        loss = loss + l2 * (x * x + y * y)
        grad_x = grad_x + (2.0 * l2) * x
        grad_y = grad_y + (2.0 * l2) * y
    return loss, grad_x, grad_y


@njit(error_model="numpy", cache=True, inline="always")
def surface_hessian(
    kind: int, p: FloatArray, program: IntArray, constants: FloatArray, l2: float, x: float, y: float
) -> tuple[float, float, float]:
    """(∂²F/∂x², ∂²F/∂x∂y, ∂²F/∂y²): the l2 term adds 2·l2 to the diagonal; the l1 kink contributes 0."""
    hxx, hxy, hyy = hessian_at(kind, x, y, p, program, constants)
    return hxx + 2.0 * l2, hxy, hyy + 2.0 * l2


@njit(error_model="numpy", cache=True)
def _evaluate(
    kind: int, p: FloatArray, program: IntArray, constants: FloatArray, l1: float, l2: float, xy: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """F and ∇F at each row of ``xy`` (n, 2)."""
    n = xy.shape[0]
    loss = np.empty(n)
    grads = np.empty((n, 2))
    for i in range(n):
        loss[i], grads[i, 0], grads[i, 1] = surface_value_and_grad(
            kind, p, program, constants, l1, l2, xy[i, 0], xy[i, 1]
        )
    return loss, grads


@njit(error_model="numpy", cache=True)
def _hessians(
    kind: int, p: FloatArray, program: IntArray, constants: FloatArray, l2: float, xy: FloatArray
) -> FloatArray:
    """∇²F at each row of ``xy`` (n, 2) → (n, 2, 2)."""
    n = xy.shape[0]
    hess = np.empty((n, 2, 2))
    for i in range(n):
        hxx, hxy, hyy = surface_hessian(kind, p, program, constants, l2, xy[i, 0], xy[i, 1])
        hess[i, 0, 0] = hxx
        hess[i, 0, 1] = hxy
        hess[i, 1, 0] = hxy
        hess[i, 1, 1] = hyy
    return hess


def _global(x: float, y: float, value: float = 0.0) -> Minimum:
    return Minimum((x, y), value, "global")


def _local(x: float, y: float, value: float) -> Minimum:
    return Minimum((x, y), value, "local")


_RASTRIGIN_X = 0.9949586376523348  # root of 2x + 20π·sin(2πx) near 1
_RASTRIGIN_1 = 0.9949590570932916  # f(_RASTRIGIN_X, 0)
_CAMEL = (
    _global(0.08984201310031807, -0.7126564030207396, -1.0316284534898774),
    _global(-0.08984201310031807, 0.7126564030207396, -1.0316284534898774),
    _local(1.7036067149699805, -0.7960835686726251, -0.21546382438371792),
    _local(-1.7036067149699805, 0.7960835686726251, -0.21546382438371792),
    _local(1.6071047529201976, 0.5686514548841313, 2.1042503103112593),
    _local(-1.6071047529201976, -0.5686514548841313, 2.1042503103112593),
)

_ALL = (
    Landscape(
        name="beale",
        title="Beale",
        formula="(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
        lesson="a flat basin behind steep walls: gradients span orders of magnitude, so one fixed "
        "learning rate crawls on the floor and overshoots on the walls",
        domain=Domain(-4.5, 4.5, -4.5, 4.5),
        start=(1.0, 1.5),
        tolerance=1e-4,
        log_scale=True,
        minima=(_global(3.0, 0.5),),
        kind=0,
    ),
    Landscape(
        name="rosenbrock",
        title="Rosenbrock",
        formula="(1 − x)² + 100·(y − x²)²",
        lesson="a narrow curved valley: finding it is easy, following its flat floor to the "
        "minimum is slow, and steps across it zig-zag",
        domain=Domain(-2.0, 2.0, -1.0, 3.0),
        start=(-1.5, 2.0),
        tolerance=1e-4,
        log_scale=True,
        minima=(_global(1.0, 1.0),),
        kind=1,
    ),
    Landscape(
        name="saddle",
        title="Saddle",
        formula="(x² − 1)²/4 + y²/2",
        lesson="a saddle point: plain gradient descent slides down to it and lingers where the "
        "gradient vanishes, momentum rolls through to a minimum",
        domain=Domain(-2.0, 2.0, -2.0, 2.0),
        start=(0.001, 1.8),
        minima=(_global(-1.0, 0.0), _global(1.0, 0.0)),
        kind=2,
    ),
    Landscape(
        name="bowl",
        title="Elongated bowl",
        formula="½·(u²/κ + v²),  u = x·cos α + y·sin α,  v = −x·sin α + y·cos α",
        lesson="ill-conditioning: the steep direction caps the learning rate, the flat one then "
        "takes κ times longer; rotate it and per-coordinate step sizes lose their edge",
        domain=Domain(-5.0, 5.0, -5.0, 5.0),
        start=(-4.0, 1.5),
        minima=(_global(0.0, 0.0),),
        kind=3,
        pack=_pack_bowl,
        params=(
            ranged(
                "condition",
                20.0,
                "condition number κ: ratio of the steepest to the flattest curvature",
                (1.0, 1000.0),
                "log",
                minimum=1.0,
                maximum=1e4,
            ),
            ranged(
                "angle",
                0.0,
                "rotation α of the valley in degrees (0: valley along x)",
                (-90.0, 90.0),
                minimum=-90.0,
                maximum=90.0,
            ),
        ),
    ),
    Landscape(
        name="himmelblau",
        title="Himmelblau",
        formula="(x² + y − 11)² + (x + y² − 7)²",
        lesson="four equally good minima: which one you reach depends on where you start and on "
        "how the optimizer moves",
        domain=Domain(-5.0, 5.0, -5.0, 5.0),
        start=(-0.3, -0.9),
        log_scale=True,
        minima=(
            _global(3.0, 2.0),
            _global(-2.805118086952745, 3.131312518250573),
            _global(-3.779310253377747, -3.283185991286169),
            _global(3.5844283403304917, -1.8481265269644034),
        ),
        kind=4,
    ),
    Landscape(
        name="rastrigin",
        title="Rastrigin",
        formula="20 + x² − 10·cos(2πx) + y² − 10·cos(2πy)",
        lesson="a bowl covered in ripples: every dimple is a local minimum that traps a careful "
        "optimizer; noise or momentum can hop out",
        domain=Domain(-5.12, 5.12, -5.12, 5.12),
        start=(-4.3, 3.6),
        tolerance=1e-2,
        minima=(
            _global(0.0, 0.0),
            *(_local(sx * _RASTRIGIN_X, 0.0, _RASTRIGIN_1) for sx in (-1.0, 1.0)),
            *(_local(0.0, sy * _RASTRIGIN_X, _RASTRIGIN_1) for sy in (-1.0, 1.0)),
            *(
                _local(sx * _RASTRIGIN_X, sy * _RASTRIGIN_X, 2.0 * _RASTRIGIN_1)
                for sx in (-1.0, 1.0)
                for sy in (-1.0, 1.0)
            ),
        ),
        kind=5,
    ),
    Landscape(
        name="six_hump_camel",
        title="Six-hump camel",
        formula="(4 − 2.1x² + x⁴/3)·x² + xy + (4y² − 4)·y²",
        lesson="two global minima and four local ones of different depths: a good minimum is "
        "not always the nearest one",
        domain=Domain(-2.0, 2.0, -1.0, 1.0),
        start=(-1.5, -0.9),
        minima=_CAMEL,
        kind=6,
    ),
    Landscape(
        name="booth",
        title="Booth",
        formula="(x + 2y − 7)² + (2x + y − 5)²",
        lesson="a tilted quadratic (condition 9, valley along a diagonal): easy for anything, "
        "but the axes are not its natural directions",
        domain=Domain(-10.0, 10.0, -10.0, 10.0),
        start=(8.0, -6.0),
        log_scale=True,
        minima=(_global(1.0, 3.0),),
        kind=7,
    ),
    Landscape(
        name="goldstein_price",
        title="Goldstein–Price",
        formula="[1 + (x + y + 1)²·(19 − 14x + 3x² − 14y + 6xy + 3y²)]"
        " · [30 + (2x − 3y)²·(18 − 32x + 12x² + 48y − 36xy + 27y²)]",
        lesson="values from 3 to a million: without adaptive or tiny steps the gradient "
        "flings you out, and three local minima wait on the way",
        domain=Domain(-2.0, 2.0, -2.0, 2.0),
        start=(1.5, 1.5),
        tolerance=1e-2,
        log_scale=True,
        minima=(
            _global(0.0, -1.0, 3.0),
            _local(-0.6, -0.4, 30.0),
            _local(1.8, 0.2, 84.0),
            _local(1.2, 0.8, 840.0),
        ),
        kind=8,
    ),
    Landscape(
        name="plateau",
        title="Plateau",
        formula="1 − exp(−(x² + y²)/(2w²))",
        lesson="a vast flat plateau around a well: the gradient all but vanishes, so plain "
        "gradient descent crawls while sign- and scale-free methods (Adam, Lion) walk",
        domain=Domain(-5.0, 5.0, -5.0, 5.0),
        start=(-4.0, 3.0),
        minima=(_global(0.0, 0.0),),
        kind=9,
        params=(
            ranged(
                "width",
                1.5,
                "width w of the well; the plateau starts around 2·w from the centre",
                (0.5, 5.0),
                minimum=0.1,
                maximum=10.0,
            ),
        ),
    ),
)

LANDSCAPES: dict[str, Landscape] = {landscape.name: landscape for landscape in _ALL}


# --- custom: f(x, y) typed by the user ----------------------------------------------------------
# core.formula parses the formula, differentiates it and lowers it to a program; here it becomes an
# entry like the others, its domain from the parameters, its minima found numerically.

CUSTOM_FORMULA = "x^2 + 10*y^2"
CUSTOM_RANGE = 1e4  # |x|, |y| bound of a custom domain
CUSTOM_MIN_WIDTH = 1e-3
CUSTOM_FINITE_SHARE = 0.5  # f must be finite on at least this share of a 41 × 41 grid over the domain
CUSTOM_PARAMS = (
    ParamSpec("f", CUSTOM_FORMULA, "the formula f(x, y)", kind="text", maximum=float(formula.MAX_LENGTH)),
    ParamSpec("x", (-3.0, 3.0), "the domain's x range", kind="range", minimum=-CUSTOM_RANGE, maximum=CUSTOM_RANGE),
    ParamSpec("y", (-3.0, 3.0), "the domain's y range", kind="range", minimum=-CUSTOM_RANGE, maximum=CUSTOM_RANGE),
)


@dataclass(frozen=True)
class FormulaLandscape(Landscape):
    """``custom``: a landscape typed as a formula (parameters f, x and y).

    ``resolve(params)`` is the entry of one formula on one domain: value, gradient and Hessian run
    the formula's program (core.formula); the minima and saddles are found numerically; the start
    lies a tenth of the way into the domain from its lower-left corner; a racer arrives within
    1e-4·max(1, |f*|) of a minimum's value and 0.05·max(1, size/10) of its point (Rosenbrock's and
    Beale's 1e-4 and 0.05 on their domains); log colours when the values above the minimum span
    more than two decades (the highest over the 10 % quantile).
    """

    compiled: formula.Formula | None = field(default=None, repr=False, compare=False)
    saddles: tuple[tuple[float, float], ...] = ()  # as core.landscape_notes.SADDLES for the built-ins

    def resolve(self, params: Params | None = None) -> FormulaLandscape:
        resolved = resolve_params(self.params, params, owner=f"landscape {self.name}")
        return _custom_entry(resolved["f"], resolved["x"], resolved["y"])

    def surface(self, params: Params | None = None, l1: float = 0.0, l2: float = 0.0) -> Surface:
        resolved = resolve_params(self.params, params, owner=f"landscape {self.name}")
        entry = _custom_entry(resolved["f"], resolved["x"], resolved["y"])
        return Surface(entry, resolved, _check_penalty("l1", l1), _check_penalty("l2", l2))

    @property
    def program(self) -> tuple[IntArray, FloatArray]:
        return (self.compiled.program.code, self.compiled.program.consts) if self.compiled else super().program


def _custom_entry(text: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> FormulaLandscape:
    """The entry of formula ``text`` on x_range × y_range; raises ``ValueError`` naming the parameter.

    Cached, refusals too: a formula sent again costs a look-up, whether it was raced or refused.
    """
    entry = _custom_entry_or_refusal(text, x_range, y_range)
    if isinstance(entry, formula.FormulaError):  # a fresh exception each time: re-raising one grows its traceback
        raise formula.FormulaError(entry.problem, entry.position, entry.hint)
    if isinstance(entry, ValueError):
        raise ValueError(*entry.args)
    return entry


@functools.lru_cache(maxsize=256)
def _custom_entry_or_refusal(
    text: str, x_range: tuple[float, float], y_range: tuple[float, float]
) -> FormulaLandscape | ValueError:
    try:
        return _derive_custom_entry(text, x_range, y_range)
    except ValueError as error:
        return error


def _derive_custom_entry(text: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> FormulaLandscape:
    try:
        compiled = formula.compile_formula(text)
    except formula.FormulaError as error:
        raise formula.FormulaError(f"landscape custom.f: {error.problem}", error.position, error.hint) from None
    for name, (low, high) in (("x", x_range), ("y", y_range)):
        if high - low < CUSTOM_MIN_WIDTH:
            raise ValueError(f"landscape custom.{name} must span at least {CUSTOM_MIN_WIDTH:g}, got {low:g},{high:g}")
    domain = Domain(*x_range, *y_range)
    where = f"x in [{domain.xmin:g}, {domain.xmax:g}], y in [{domain.ymin:g}, {domain.ymax:g}]"
    xs, ys = np.meshgrid(np.linspace(*x_range, 41), np.linspace(*y_range, 41), indexing="ij")
    with np.errstate(all="ignore"):
        sample = compiled.value_and_grad_xy(xs, ys)
    finite = np.isfinite(sample[0]) & np.isfinite(sample[1]) & np.isfinite(sample[2])
    if finite.mean() < CUSTOM_FINITE_SHARE:
        raise ValueError(
            f"landscape custom.f: f or its gradient is not finite on most of the domain ({where}): "
            f"finite at {finite.mean():.0%} of a 41 × 41 grid; change f or the domain (landscape.x, landscape.y)"
        )
    found = formula.critical_points(compiled, *x_range, *y_range)
    if not found.minima:
        raise ValueError(
            f"landscape custom.f: f has no minimum inside the domain ({where}); widen the domain or add a bowl, "
            "e.g. + 0.01*(x^2 + y^2)"
        )
    lowest = found.minima[0][1]
    tolerance = 1e-4 * max(1.0, abs(lowest))
    minima = tuple(
        Minimum(point, value, "global" if value <= lowest + 1e-9 * (1 + abs(lowest)) else "local")
        for point, value in found.minima
    )
    z = sample[0][finite]
    gaps = z - lowest
    low_gap = float(np.quantile(gaps, 0.1))
    log_scale = bool(gaps.max() > 0 and (low_gap <= 0 or gaps.max() / low_gap > 100.0))
    size = max(domain.xmax - domain.xmin, domain.ymax - domain.ymin)
    return FormulaLandscape(
        name="custom",
        title="Your formula",
        formula=" ".join(text.split()),  # shown on one line (titles, exports), whatever spacing was typed
        lesson="your own landscape: its gradient and Hessian are derived exactly from the formula",
        domain=domain,
        start=_custom_start(domain),
        tolerance=tolerance,
        radius=0.05 * max(1.0, size / 10.0),
        log_scale=log_scale,
        minima=minima,
        kind=FORMULA,
        params=CUSTOM_PARAMS,
        pack=lambda resolved: (),  # the formula is its program, not a parameter array
        compiled=compiled,
        saddles=tuple(point for point, _ in found.saddles),
    )


def _custom_start(domain: Domain) -> tuple[float, float]:
    """A tenth of the way into the domain from its lower-left corner: the page computes the same from the
    domain alone (static/scene-url.js), so a link without a start gives the same race on both."""
    return (domain.xmin + 0.1 * (domain.xmax - domain.xmin), domain.ymin + 0.1 * (domain.ymax - domain.ymin))


LANDSCAPES["custom"] = _custom_entry(CUSTOM_FORMULA, (-3.0, 3.0), (-3.0, 3.0))


def get_landscape(name: str) -> Landscape:
    """The landscape registered as ``name``; raises ``ValueError`` listing the known names."""
    try:
        return LANDSCAPES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown landscape {name!r}; expected one of: {', '.join(LANDSCAPES)}") from None
