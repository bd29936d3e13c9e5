"""A race figure as SVG text, for papers and crisp slides: the final state of the race, all vector.

The layout is the raster one (``figure.layout``), measured with the same DejaVu Sans metrics the
SVG asks for, so text and plot sit where the PNG puts them. The background is filled contour
regions stacked from low to high (each region is "value ≥ level k", painted over the previous
ones, so adjacent bands never show hairline seams), then the contour lines, then one
``<path class="racer" data-label="…">`` per racer over its casing, the start, the minima and each
racer's final position. Coordinates are pixels with one decimal.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import contourpy
import jinja2
import numpy as np

from server.paths import TEMPLATES
from server.render.figure import (
    Figure,
    Layout,
    Text,
    Theme,
    band_colors,
    decimate,
    halo_color,
    layout,
    marker_points,
    saddle_points,
    star_points,
)
from server.render.raster import measure
from server.render.vectors import KINDS, VectorLayer, arrow_head, shaft_end, vector_layer

FONT_FAMILY = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif"
MAX_PATH_POINTS = 3000  # per racer, so a noisy 20 000-step race stays a reasonable file
_ANCHORS = {"start": "start", "middle": "middle", "end": "end"}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def svg(
    figure: Figure,
    width: int,
    height: int,
    theme: Theme,
    step: int | None = None,
    inside: Sequence[Mapping[str, Any]] | None = None,
) -> bytes:
    """The race at ``step`` (the last by default) as an SVG document of width × height (CSS) pixels; with
    ``inside`` (server.render.vectors.internals_of), each racer's vectors there and their key."""
    step = figure.steps if step is None else step
    placed = layout(figure, width, height, measure, animated=False)
    left, top, plot_width, plot_height = placed.plot
    racers = []
    legend = []
    for index, racer in enumerate(figure.racers):
        # Every racer gets its path, even one that diverged at once (a dot at the start).
        shown = racer.path[: racer.head(step) + 1]
        pixels = placed.to_px(shown if len(shown) else np.array([figure.start], dtype=float))
        # Far-off points of a diverging racer only need to leave the picture.
        pixels = np.clip(pixels, -4 * max(width, height), 5 * max(width, height))
        kept = decimate(pixels, spacing=0.5, most=MAX_PATH_POINTS)
        head = len(pixels) - 1
        racers.append(
            {
                "label": racer.label,
                "color": racer.color,
                "halo": halo_color(racer.color, theme),
                "status": racer.status(step),
                "d": _polyline(pixels[kept]),
                "head": _marker(racer.marker, *pixels[head], placed.ball_radius),
            }
        )
        if index < len(placed.legend):  # a tiny canvas has no room for a legend
            entry = placed.legend[index]
            x0, x1, y = entry.swatch
            legend.append(
                {
                    **racers[-1],
                    "swatch": {"x0": _n(x0), "x1": _n(x1), "y": _n(y)},
                    "swatch_marker": _marker(racer.marker, (x0 + x1) / 2, y, placed.legend_marker_radius),
                    "label_text": _text(entry.label),
                    "detail_text": _text(entry.detail, racer.legend_text(step)) if entry.detail else None,
                }
            )
    start_x, start_y = placed.point_px(*figure.start)
    minima = [
        {
            "kind": kind,
            "d": _polygon(
                star_points(*placed.point_px(x, y), placed.ball_radius * (1.45 if kind == "global" else 1.0))
            ),
        }
        for x, y, kind in figure.minima
    ]
    saddles = [_polygon(saddle_points(*placed.point_px(x, y), placed.ball_radius * 0.95)) for x, y in figure.saddles]
    colors = band_colors(len(figure.levels) + 1, theme)
    context = {
        "width": width,
        "height": height,
        "theme": theme,
        "font_family": FONT_FAMILY,
        "clip_id": "optirace-plot-"
        + hashlib.blake2b(
            repr((figure.title, figure.start, [r["d"] for r in racers])).encode(), digest_size=4
        ).hexdigest(),
        "description": _description(figure),
        "plot": {"x": left, "y": top, "width": plot_width, "height": plot_height},
        "frame": {"x": _n(left - 0.5), "y": _n(top - 0.5), "width": plot_width + 1, "height": plot_height + 1},
        "base_color": colors[0],
        "bands": _bands(figure, placed, colors[1:]),
        "contours": [d for d in (_polylines(placed, paths) for paths in figure.lines) if d],
        "contour_width": _n(max(0.6, placed.font * 0.05)),
        "racers": racers,
        "legend": legend,
        "line_width": _n(placed.line_width),
        "halo_width": _n(placed.halo_width),
        "marker_stroke": _n(placed.ball_radius * 0.2),
        "start": {
            "x": _n(start_x),
            "y": _n(start_y),
            "r": _n(placed.ball_radius * 0.85),
            "halo": _n(placed.ball_radius * 0.55),
            "stroke": _n(placed.ball_radius * 0.28),
        },
        "minima": minima,
        "saddles": saddles,
        "minimum_stroke": _n(max(0.8, placed.ball_radius * 0.16)),
        "xticks": [
            {
                "x": _n(px),
                "y0": _n(top + plot_height + 0.5),
                "y1": _n(top + plot_height + 0.5 + placed.tick_length),
                "text": _text(label),
            }
            for px, label in placed.xticks
        ],
        "yticks": [
            {"y": _n(py), "x0": _n(left - 0.5 - placed.tick_length), "x1": _n(left - 0.5), "text": _text(label)}
            for py, label in placed.yticks
        ],
        "title": _text(placed.title),
        "subtitle": _text(placed.subtitle) if placed.subtitle else None,
        "progress": _text(
            placed.progress if step == figure.steps else replace(placed.progress, text=f"step {step} / {figure.steps}")
        ),
        "vectors": _vectors(figure, placed, step, inside, theme) if inside is not None else None,
    }
    return _environment().get_template("race.svg").render(context).encode()


def _vectors(
    figure: Figure, placed: Layout, step: int, inside: Sequence[Mapping[str, Any]], theme: Theme
) -> dict[str, Any]:
    """The vectors at ``step`` as SVG shapes (static/vectors.js's), and their key in the plot's lower left."""
    layer: VectorLayer = vector_layer(inside, figure.racers, step, placed.plot[2], placed.line_width, placed.point_px)
    width = layer.width
    head = 6 + 2 * width
    racers = []
    for drawn in layer.racers:
        shapes = []
        for kind in KINDS:
            if kind.key == "box":
                if drawn.box:
                    hx, hy = drawn.box
                    shapes.append(
                        {
                            "kind": "box",
                            "rect": {"x": _n(drawn.x - hx), "y": _n(drawn.y - hy), "w": _n(2 * hx), "h": _n(2 * hy)},
                            "dash": " ".join(_n(d) for d in kind.dash),
                        }
                    )
                continue
            if kind.key not in drawn.arrows:
                continue
            dx, dy = drawn.arrows[kind.key]
            x1, y1 = drawn.x + dx, drawn.y + dy
            sx, sy = shaft_end(drawn.x, drawn.y, x1, y1, head)
            tip = arrow_head(drawn.x, drawn.y, x1, y1, head)
            shapes.append(
                {
                    "kind": kind.key,
                    "d": f"M{_n(drawn.x)} {_n(drawn.y)}L{_n(sx)} {_n(sy)}",
                    "tip": _polygon(tip) if tip else "",
                    "x1": _n(x1),
                    "y1": _n(y1),
                    "dash": " ".join(_n(d) for d in kind.dash),
                }
            )
        racers.append(
            {"label": drawn.label, "color": drawn.color, "halo": halo_color(drawn.color, theme), "shapes": shapes}
        )
    left, top, _, plot_height = placed.plot
    size = placed.font * 0.8
    lines = layer.key()
    box_width = max((measure(text, size, False) for _, text in lines), default=0) + size * 3.6
    box_height = len(lines) * size * 1.5 + size * 0.5
    x0, y0 = left + size * 0.5, top + plot_height - box_height - size * 0.5
    key = []
    for index, (kind, text) in enumerate(lines):
        y = y0 + size * 0.25 + (index + 0.5) * size * 1.5
        sample = {"x0": _n(x0 + size * 0.4), "x1": _n(x0 + size * 2.6), "y": _n(y)}
        key.append(
            {
                "kind": kind.key,
                "sample": sample,
                "box": {"x": _n(x0 + size * 0.4), "y": _n(y - size * 0.35), "w": _n(size * 2.2), "h": _n(size * 0.7)},
                "tip": _polygon(arrow_head(x0 + size * 0.4, y, x0 + size * 2.6, y, size * 0.6) or []),
                "dash": " ".join(_n(d) for d in kind.dash),
                "text": _text(Text(x0 + size * 3.1, y + size * 0.35, text, size)),
                "px": _n(layer.scales[kind.key].px),
                "units": repr(layer.scales[kind.key].units),
            }
        )
    return {
        "step": step,
        "width": _n(width),
        "halo": _n(width + 2.5),
        "racers": racers,
        "key": key,
        "key_box": {"x": _n(x0), "y": _n(y0), "w": _n(box_width), "h": _n(box_height)} if key else None,
    }


def _description(figure: Figure) -> str:
    parts = [f"{figure.title}: {figure.subtitle}. {figure.steps} steps."]
    parts += [f"{racer.label} ({racer.detail}): {racer.status(figure.steps)}." for racer in figure.racers]
    return " ".join(parts)


def _bands(figure: Figure, placed: Layout, colors: list[str]) -> list[dict[str, str]]:
    """Region "value ≥ level k" for each level, as one even-odd path each, to paint in order."""
    xmin, xmax, ymin, ymax = figure.domain
    ny, nx = figure.grid.shape
    generator = contourpy.contour_generator(
        np.linspace(xmin, xmax, nx), np.linspace(ymin, ymax, ny), figure.grid, fill_type=contourpy.FillType.OuterOffset
    )
    bands = []
    for level, color in zip(figure.levels, colors, strict=True):
        polygons, offsets = generator.filled(level, np.inf)
        rings = [
            points[a:b] for points, cuts in zip(polygons, offsets, strict=True) for a, b in itertools.pairwise(cuts)
        ]
        d = "".join(_polyline(placed.to_px(ring)) + "Z" for ring in rings if len(ring) > 2)
        if d:
            bands.append({"color": color, "d": d})
    return bands


def _polylines(placed: Layout, paths: list[np.ndarray]) -> str:
    return "".join(_polyline(placed.to_px(path)) for path in paths if len(path) > 1)


def _polyline(pixels: np.ndarray) -> str:
    """``M x y l dx dy …`` in tenths of a pixel: relative moves keep the numbers short; steps that
    round to nothing are dropped."""
    tenths = np.round(np.asarray(pixels) * 10).astype(np.int64)
    steps = np.diff(tenths, axis=0)
    steps = steps[np.any(steps != 0, axis=1)]
    head = f"M{_t(tenths[0, 0])} {_t(tenths[0, 1])}"
    if not len(steps):
        return head + "h0"
    return head + "l" + " ".join(f"{_t(dx)} {_t(dy)}" for dx, dy in steps.tolist())


def _t(tenths: int) -> str:
    """An integer number of tenths as the shortest decimal: 15 → 1.5, −3 → -.3, 20 → 2."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(int(tenths)), 10)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole or ''}.{frac}"


def _polygon(points: list[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in points) + "Z"


def _marker(shape: str, x: float, y: float, r: float) -> dict[str, str]:
    points = marker_points(shape, float(x), float(y), r)
    if points is None:
        return {"circle": "1", "cx": _n(x), "cy": _n(y), "r": _n(r)}
    return {"circle": "", "d": _polygon(points)}


def _text(text: Text, content: str | None = None) -> dict[str, str]:
    return {
        "x": _n(text.x),
        "y": _n(text.y),
        "text": text.text if content is None else content,
        "size": _n(text.size),
        "weight": "bold" if text.bold else "normal",
        "role": text.role,
        "anchor": _ANCHORS[text.align],
    }


def _n(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{float(value):.1f}".removesuffix(".0")
