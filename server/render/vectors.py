"""Vectors on an exported figure (``vectors=1``): what the page draws at a step (static/vectors.js), as geometry.

At step k, per racer, from the race's step internals (``core.race.Race(internals=True)``, the API's
``"internals": true``):

    −∇f    the gradient the optimizer saw (noise included), reversed: where it pushes;
    −m     the momentum buffer / first moment (``momentum_buffer``, ``exp_avg``), reversed like −∇f;
    step   the update actually taken, θₖ₊₁ − θₖ;
    box    for adaptive methods, the per-coordinate effective learning rate read from the state
           (e.g. lr/(√v̂ + ε) for Adam), an axis-aligned box of half-sides (ηx, ηy).

Each kind has one scale per race, "L px = a round number" (the 90th percentile of its sizes over
every racer's updates, rounded to 1, 2 or 5 × 10ⁿ), L = plot width / 9 within [40, 120] px, as on the
page; an arrow longer than 3 L is cut there. ``VectorLayer`` holds what the SVG and PNG renderers draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.race import Race, entrants_of, surface_of
from core.scene import Scene


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    dash: tuple[float, ...]  # in line widths' worth of px at width 2, as the page's setLineDash


KINDS = (
    Kind("grad", "−∇f (what it saw)", ()),
    Kind("momentum", "−m (momentum / 1st moment)", (7, 5)),
    Kind("update", "step taken", ()),
    Kind("box", "lr per coordinate", (3, 3)),
)


def internals_of(scene: Scene) -> list[dict[str, Any]]:
    """Per racer: its optimizer, filled hyperparameters, lr per step and step internals (the API's shape)."""
    scene = scene.filled()
    race = Race(
        surface_of(scene), scene.start, entrants_of(scene), scene.steps, scene.noise, scene.seed, internals=True
    )
    chunk = next(race.chunks(scene.steps + 1))
    return [
        {
            "optimizer": racer.optimizer,
            "params": dict(racer.params),
            "lr": chunk.lr[i].tolist(),
            "internals": race.internals_json(i, chunk, race.length(i, chunk)),
        }
        for i, racer in enumerate(scene.racers)
    ]


def effective_lr(
    optimizer: str, params: Mapping[str, Any], state: Mapping[str, Any], k: int, lr: float
) -> list[float] | None:
    """The per-coordinate effective learning rate of update k (static/vectors.js: effectiveLr), or None."""
    t = state["step"][k] if "step" in state else k + 1
    eps = params.get("eps", 0.0)
    out = []
    for c in (0, 1):
        try:
            if "max_exp_avg_sq" in state or "exp_avg_sq" in state:
                v = state["max_exp_avg_sq" if "max_exp_avg_sq" in state else "exp_avg_sq"][k][c]
                value = lr / (math.sqrt(v / (1 - params["beta2"] ** t)) + eps)  # lr/(√v̂ + ε)
            elif "exp_inf" in state:
                value = lr / state["exp_inf"][k][c]  # adamax: u already holds ε
            elif optimizer == "adagrad":
                value = lr / (1 + (t - 1) * params.get("lr_decay", 0.0)) / (math.sqrt(state["sum"][k][c]) + eps)
            elif "acc_delta" in state:  # adadelta: lr·√(Δ² before + ε)/√(v + ε)
                before = state["acc_delta"][k - 1][c] if k > 0 else 0.0
                value = lr * math.sqrt(before + eps) / math.sqrt(state["square_avg"][k][c] + eps)
            elif "square_avg" in state:  # rmsprop (centered: v − ḡ²)
                v = state["square_avg"][k][c] - (state["grad_avg"][k][c] ** 2 if "grad_avg" in state else 0.0)
                value = lr / (math.sqrt(v) + eps)
            elif "step_size" in state:
                value = state["step_size"][k][c]  # rprop: its own step per coordinate
            else:
                return None
        except (TypeError, ValueError, ZeroDivisionError):  # a state value that was not finite (None)
            return None
        if not math.isfinite(value):
            return None
        out.append(value)
    return out


def vectors_at(racer: Mapping[str, Any], k: int) -> dict[str, list[float] | None] | None:
    """The vectors of update k (the one leaving point k), or None past the racer's last update."""
    inside = racer["internals"]
    if k >= len(inside["grad"]) or k < 0:
        return None
    g = inside["grad"][k]
    state = inside["state"]
    m = (state.get("momentum_buffer") or state.get("exp_avg") or [None] * (k + 1))[k]
    return {
        "grad": [-g[0], -g[1]],
        "update": list(inside["update"][k]),
        "momentum": [-m[0], -m[1]] if m else None,
        "box": effective_lr(racer["optimizer"], racer["params"], state, k, racer["lr"][k]),
    }


def nice(v: float) -> float:
    """A round number (1, 2 or 5 × 10ⁿ) near v."""
    if not (v > 0) or not math.isfinite(v):
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    f = v / e
    return (1 if f < 1.5 else 2 if f < 3.5 else 5 if f < 7.5 else 10) * e


def typical(racers: Sequence[Mapping[str, Any]], key: str) -> float:
    """The 90th percentile of one kind's lengths (a box's larger half-side) over every racer's updates."""
    sizes = []
    for racer in racers:
        n = len(racer["internals"]["grad"])
        for k in range(0, n, max(1, n // 400)):
            v = (vectors_at(racer, k) or {}).get(key)
            if v is not None and v[0] is not None and v[1] is not None:
                sizes.append(max(abs(v[0]), abs(v[1])) if key == "box" else math.hypot(v[0], v[1]))
    sizes.sort()
    return sizes[int(len(sizes) * 0.9)] if sizes else 0.0


def fmt(v: float) -> str:
    """Two significant digits and a real minus sign (the legend's "L px = 0.05")."""
    return f"{v:.2g}".replace("-", "−")


@dataclass(frozen=True)
class Scale:
    units: float  # world length drawn as ``px`` pixels; 0: this kind is not drawn
    px: float


@dataclass(frozen=True)
class Drawn:
    """One racer's vectors at the step, in logical pixels (y down) from its point (x, y)."""

    label: str
    color: str
    x: float
    y: float
    arrows: dict[str, tuple[float, float]]  # kind → (dx, dy), cut at 3 L
    box: tuple[float, float] | None  # half-sides in px


@dataclass(frozen=True)
class VectorLayer:
    step: int
    scales: dict[str, Scale]
    racers: list[Drawn]
    width: float  # stroke width (logical px)

    def key(self) -> list[tuple[Kind, str]]:
        """The legend's lines: each kind drawn, with its scale."""
        return [
            (kind, f"{kind.label}: {round(self.scales[kind.key].px)} px = {fmt(self.scales[kind.key].units)}")
            for kind in KINDS
            if self.scales[kind.key].units
        ]


def vector_layer(
    racers: Sequence[Mapping[str, Any]],
    views: Sequence[Any],
    step: int,
    plot_width: float,
    line_width: float,
    to_px: Any,
) -> VectorLayer:
    """The vectors of every racer at ``step``: ``racers`` from ``internals_of``, ``views`` the figure's
    RacerViews (label, colour, path), ``to_px(x, y)`` world → logical pixels."""
    length = round(max(40.0, min(120.0, plot_width / 9)))
    scales = {}
    for kind in KINDS:
        size = typical(racers, kind.key)
        scales[kind.key] = Scale(nice(size) if size else 0.0, length)
    drawn = []
    for racer, view in zip(racers, views, strict=True):
        v = vectors_at(racer, step)
        if v is None or step >= len(view.path):
            continue
        x, y = to_px(*view.path[step])
        arrows = {}
        box = None
        for kind in KINDS:
            vec, scale = v[kind.key], scales[kind.key]
            if vec is None or not scale.units:
                continue
            f = scale.px / scale.units
            if kind.key == "box":
                box = (abs(vec[0]) * f, abs(vec[1]) * f)
                continue
            dx, dy = vec[0] * f, -vec[1] * f  # y up on the map
            size = math.hypot(dx, dy)
            if size > 3 * scale.px:
                dx, dy = dx * 3 * scale.px / size, dy * 3 * scale.px / size
            arrows[kind.key] = (dx, dy)
        drawn.append(Drawn(view.label, view.color, float(x), float(y), arrows, box))
    return VectorLayer(step, scales, drawn, max(2.0, line_width * 0.9))


def arrow_head(x0: float, y0: float, x1: float, y1: float, head: float) -> list[tuple[float, float]] | None:
    """The triangle at (x1, y1) of an arrow from (x0, y0), as static/vectors.js draws it; None if too short."""
    size = math.hypot(x1 - x0, y1 - y0)
    if size < 0.5:
        return None
    ux, uy = (x1 - x0) / size, (y1 - y0) / size
    h = min(head, size * 0.6)
    return [
        (x1, y1),
        (x1 - ux * h - uy * h * 0.5, y1 - uy * h + ux * h * 0.5),
        (x1 - ux * h + uy * h * 0.5, y1 - uy * h - ux * h * 0.5),
    ]


def shaft_end(x0: float, y0: float, x1: float, y1: float, head: float) -> tuple[float, float]:
    """Where the shaft stops, under the head."""
    size = math.hypot(x1 - x0, y1 - y0)
    if size < 0.5:
        return x1, y1
    h = min(head, size * 0.6)
    return x1 - (x1 - x0) / size * h * 0.8, y1 - (y1 - y0) / size * h * 0.8
