"""What an exported race figure shows and where, whatever draws it (Pillow for GIF and PNG, SVG text).

``figure_from(result, contours)`` turns a race result (``core.race.run``) and the landscape's contour
data (``core.contours.contour_data``) into a ``Figure``: titles, domain, value grid, contour levels
and polylines, minima, start and one ``RacerView`` per racer. ``layout(figure, width, height,
measure)`` places everything on a width × height canvas, in logical pixels with y pointing down:

    ┌──────────────────────────────────────────────┐
    │ Title  formula · notes          step k / N   │   title row (progress on the right)
    │ ▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬                          │   progress bar (animations only)
    │  2 ┌───────────────────────┐  ─●─ SGD        │
    │    │ filled contour bands, │      lr 0.001 · …│   legend: right of the plot,
    │  1 │ contour lines, paths, │  ─■─ Momentum   │   or below it when that leaves
    │    │ minima ★, start ○     │      …           │   a larger plot
    │  0 └───────────────────────┘                 │
    │    −2    −1     0     1    2                 │   tick labels
    └──────────────────────────────────────────────┘

The plot keeps the domain's aspect ratio (one unit of x is as long as one unit of y), so a rotated
valley looks rotated. Text sizes grow with the canvas, so a figure reads the same on a projector
whatever its pixel size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from core.landscape_notes import SADDLES
from core.landscapes import get_landscape
from core.optimizers import OPTIMIZERS
from core.palette import style_of
from core.schedules import get_schedule

FloatArray = npt.NDArray[np.float64]
Measure = Callable[[str, float, bool], float]  # (text, font size, bold) -> width in logical px

# matplotlib's viridis at 11 even stops (perceptually uniform, colour-blind safe, prints in grey).
VIRIDIS = (
    "#440154",
    "#482475",
    "#414487",
    "#355f8d",
    "#2a788e",
    "#21918c",
    "#22a884",
    "#44bf70",
    "#7ad151",
    "#bddf26",
    "#fde725",
)


@dataclass(frozen=True)
class Theme:
    """Colours of a figure; the colour map is blended toward ``band_mix`` so paths stand out."""

    name: str
    background: str
    foreground: str
    muted: str
    frame: str
    band_mix: str
    band_mix_amount: float
    contour: str
    contour_alpha: float
    track: str  # the progress bar's empty part


THEMES: dict[str, Theme] = {
    "light": Theme(
        name="light", background="#ffffff", foreground="#1b1f24", muted="#57606a", frame="#6e7781",
        band_mix="#ffffff", band_mix_amount=0.3, contour="#ffffff", contour_alpha=0.55, track="#d0d7de",
    ),
    "dark": Theme(
        name="dark", background="#0f1419", foreground="#e6edf3", muted="#a1abb5", frame="#8b949e",
        band_mix="#0f1419", band_mix_amount=0.35, contour="#0f1419", contour_alpha=0.45, track="#30363d",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class RacerView:
    """One racer as a figure shows it. ``path`` holds the start and every finite point after it."""

    label: str
    color: str
    marker: str
    detail: str  # e.g. "lr 0.05 · cosine"
    path: FloatArray  # (n, 2), world coordinates
    loss: FloatArray  # (n,)
    arrived_at: int | None
    diverged_at: int | None
    # per point of ``path``: whether it passes the race's arrival test there (within the landscape's radius of a
    # minimum and tolerance of its value); None when unknown, then an arrival is taken to be for good
    home: npt.NDArray[np.bool_] | None = None

    def head(self, step: int) -> int:
        """Index of the racer's point at ``step`` (its last finite point once it has diverged)."""
        return max(0, min(step, len(self.path) - 1))

    def status(self, step: int) -> str:
        """What the legend says at ``step``: the loss, or the arrival or divergence once it has happened."""
        if self.diverged_at is not None and step >= self.diverged_at:
            return f"diverged @ {self.diverged_at}"
        if self.arrived_at is not None and step >= self.arrived_at:
            left = self.left_at(step)
            return f"arrived @ {self.arrived_at}" + ("" if left is None else f", left @ {left}")
        if not len(self.loss):
            return "no finite loss"
        return f"loss {format_number(float(self.loss[self.head(step)]))}"

    def left_at(self, step: int) -> int | None:
        """The step it last left the minimum, when it arrived before ``step`` and is away from it at ``step``
        (as the page's leaderboard says "✓ 185, left 202")."""
        if self.home is None or self.arrived_at is None or step < self.arrived_at:
            return None
        k = self.head(step)
        if self.home[k]:
            return None
        while k > self.arrived_at and not self.home[k - 1]:
            k -= 1
        return k

    def legend_text(self, step: int) -> str:
        return f"{self.detail} · {self.status(step)}"


@dataclass(frozen=True)
class Figure:
    """Everything an export draws, in world coordinates."""

    name: str  # the landscape's registry name, for file names
    title: str
    subtitle: str
    domain: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
    grid: FloatArray  # (ny, nx), row j at y_j from ymin upward, column i at x_i from xmin
    levels: list[float]
    lines: list[list[FloatArray]]  # per level, its polylines (m, 2)
    log_scale: bool
    minima: list[tuple[float, float, str]]  # x, y, "global" | "local"
    saddles: list[tuple[float, float]]  # saddle points (core.landscape_notes), none on a regularized surface
    start: tuple[float, float]
    steps: int
    racers: list[RacerView]


def figure_from(result: dict[str, Any], contours: dict[str, Any]) -> Figure:
    """A ``Figure`` from ``core.race.run(scene)`` and ``core.contours.contour_data(surface, …)``."""
    scene = result["scene"]
    params = scene["landscape"]["params"]
    landscape = get_landscape(scene["landscape"]["name"]).resolve(params)
    saddles = SADDLES.get(landscape.name, getattr(landscape, "saddles", ()))  # a typed formula's are its own
    title = landscape.title
    numbers = {key: value for key, value in params.items() if isinstance(value, (int, float))}
    if numbers:  # a custom landscape's formula is the subtitle, its domain the plot's axes
        title += " (" + ", ".join(f"{key} {format_number(value)}" for key, value in numbers.items()) + ")"
    notes = [f"{key} {format_number(scene[key])}" for key in ("noise", "l1", "l2") if scene[key]]
    grid = contours["grid"]
    racers = []
    for racer, spec in zip(result["racers"], scene["racers"], strict=True):
        detail = f"lr {format_number(spec['params']['lr'])}"
        if spec["schedule"]["name"] != "constant":
            detail += f" · {get_schedule(spec['schedule']['name']).title.lower()}"
        path = np.asarray(racer["path"], dtype=float).reshape(-1, 2)
        loss = np.asarray(racer["loss"], dtype=float)
        racers.append(
            RacerView(
                label=racer["label"],
                color=racer["color"],
                marker=marker_of(racer["optimizer"]),
                detail=detail,
                path=path,
                loss=loss,
                arrived_at=racer["arrived_at"],
                diverged_at=racer["diverged_at"],
                home=_at_minimum(path, loss, result["minima"], landscape.radius, landscape.tolerance),
            )
        )
    return Figure(
        name=landscape.name,
        title=title,
        subtitle=" · ".join([landscape.formula, *notes]),
        domain=(*contours["domain"]["x"], *contours["domain"]["y"]),
        grid=np.asarray(grid["z"], dtype=float).reshape(grid["ny"], grid["nx"]),
        levels=list(contours["levels"]),
        lines=[[np.asarray(path, dtype=float).reshape(-1, 2) for path in line["paths"]] for line in contours["lines"]],
        log_scale=bool(contours["log_scale"]),
        minima=[(m["point"][0], m["point"][1], m["kind"]) for m in result["minima"]],
        saddles=[] if scene["l1"] or scene["l2"] else list(saddles),
        start=(scene["start"][0], scene["start"][1]),
        steps=scene["steps"],
        racers=racers,
    )


# --- numbers and colours -----------------------------------------------------------------------------


def format_number(value: float) -> str:
    """3 significant digits, a real minus sign and short exponents: 0.05, 1.23e−4, −1.03, 20."""
    text = f"{value:.3g}"
    text = re.sub(r"e([+-])0*(\d+)", lambda m: "e" + ("−" if m.group(1) == "-" else "") + m.group(2), text)
    return text.replace("-", "−")


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def rgb_to_hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(c):02x}" for c in rgb)


def luminance(color: str) -> float:
    """Relative luminance (WCAG) of a hex colour, 0 (black) to 1 (white)."""
    channels = []
    for c in hex_to_rgb(color):
        s = c / 255
        channels.append(s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, amount: float) -> str:
    """``a`` moved ``amount`` (0 to 1) of the way to ``b``."""
    return rgb_to_hex([x * (1 - amount) + y * amount for x, y in zip(hex_to_rgb(a), hex_to_rgb(b), strict=True)])


def halo_color(color: str, theme: Theme) -> str:
    """The casing under a racer's path: the background, unless the racer's colour is too close to it
    (gold on white, black on dark grey); then a deep shade of the colour itself, toward the foreground."""
    return theme.background if contrast(color, theme.background) >= 2.5 else mix(color, theme.foreground, 0.6)


def band_colors(count: int, theme: Theme) -> list[str]:
    """``count`` colours for filled contour bands, low to high: viridis blended toward the theme."""
    stops = np.array([hex_to_rgb(c) for c in VIRIDIS], dtype=float)
    t = np.linspace(0.0, 1.0, count) if count > 1 else np.zeros(1)
    position = t * (len(stops) - 1)
    low = np.minimum(np.floor(position).astype(int), len(stops) - 2)
    frac = (position - low)[:, None]
    rgb = stops[low] * (1 - frac) + stops[low + 1] * frac
    mix = np.array(hex_to_rgb(theme.band_mix), dtype=float)
    rgb = rgb * (1 - theme.band_mix_amount) + mix * theme.band_mix_amount
    return [rgb_to_hex(c) for c in rgb]


def nice_ticks(low: float, high: float, max_count: int) -> tuple[list[float], float]:
    """Round tick values (steps of 1, 2, 5 × 10^k) inside [low, high], at most ``max_count`` of them."""
    span = high - low
    max_count = max(2, max_count)
    for exponent in range(math.floor(math.log10(span / max_count)) - 1, math.floor(math.log10(span)) + 2):
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exponent
            first = math.ceil(low / step - 1e-9)
            last = math.floor(high / step + 1e-9)
            if last - first + 1 <= max_count:
                return [round(k * step, 12) for k in range(first, last + 1)], step
    return [low, high], span


def tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "−")


def marker_of(optimizer: str) -> str:
    """The optimizer's marker shape (core.palette): the same on the page, in the embed and in every export."""
    index = list(OPTIMIZERS).index(optimizer) if optimizer in OPTIMIZERS else 0
    return style_of(optimizer, index).marker


def marker_points(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]] | None:
    """A marker's polygon around (x, y) with radius ``r`` (areas roughly equal); None for a circle.

    The shapes and their proportions are static/animate.js's markerPath (core.palette.SHAPES)."""
    if shape == "circle":
        return None
    if shape == "square":
        h = r * 0.85
        return [(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h)]
    if shape == "star":
        return star_points(x, y, r * 1.35, inner=0.6 / 1.35)
    corners = {  # corners, angle of the first (degrees, counter-clockwise from +x), size
        "diamond": (4, 0, 1.2),
        "triangle": (3, 90, 1.2),
        "down": (3, -90, 1.2),
        "pentagon": (5, 90, 1.1),
        "hexagon": (6, 0, 1.05),
    }
    count, phase, grow = corners[shape]
    return [
        (
            x + r * grow * math.cos(math.radians(phase + 360 * k / count)),
            y - r * grow * math.sin(math.radians(phase + 360 * k / count)),
        )
        for k in range(count)
    ]


def saddle_points(x: float, y: float, r: float) -> list[tuple[float, float]]:
    """A saddle point's bow-tie around (x, y): two triangles meeting at the point (static/plot.js: drawSaddles)."""
    return [(x - r, y - r * 0.75), (x + r, y + r * 0.75), (x + r, y - r * 0.75), (x - r, y + r * 0.75)]


def star_points(x: float, y: float, r: float, inner: float = 0.45) -> list[tuple[float, float]]:
    """A five-pointed star (minima, and the star marker) around (x, y); ``inner``: the inner radius over ``r``."""
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * inner
        angle = math.radians(90 + 36 * k)
        points.append((x + radius * math.cos(angle), y - radius * math.sin(angle)))
    return points


# --- animation -------------------------------------------------------------------------------------


def frame_steps(steps: int, frames: int) -> list[int]:
    """The step each frame shows: evenly spaced from 0 to ``steps``, no step twice.

    A race of N steps has N + 1 points, so at most N + 1 distinct frames.
    """
    count = max(2, min(frames, steps + 1))
    return sorted({round(k * steps / (count - 1)) for k in range(count)})


def decimate(pixels: FloatArray, spacing: float, most: int) -> npt.NDArray[np.intp]:
    """Indices of a polyline's points about ``spacing`` px apart along it, at most about ``most`` of them.

    Drawing a 20 000-step path in every frame would cost more than the eye can see; keeping a point
    whenever the path has travelled another ``spacing`` pixels keeps every visible wiggle. A long
    scribble (a noisy race of many steps) is thinned further, to about ``most`` points evenly
    spread along it. The first and the last point are always kept.
    """
    if len(pixels) <= 2:
        return np.arange(len(pixels))
    travelled = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pixels, axis=0), axis=1))])
    spacing = max(spacing, float(travelled[-1]) / max(1, most))
    bucket = np.floor(travelled / spacing)
    keep = np.concatenate([[True], bucket[1:] != bucket[:-1]])
    keep[-1] = True
    return np.flatnonzero(keep)


# --- layout ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A line of text: its baseline anchor in logical px, size, weight, colour role and alignment."""

    x: float
    y: float
    text: str
    size: float
    bold: bool = False
    role: str = "foreground"  # a Theme attribute
    align: str = "start"  # start | middle | end


@dataclass(frozen=True)
class LegendEntry:
    swatch: tuple[float, float, float]  # x0, x1, y of the swatch line (marker at its middle)
    label: Text
    detail: Text | None  # its text is filled per frame (RacerView.legend_text); None on a tiny canvas


@dataclass(frozen=True)
class Layout:
    """Where everything goes on a ``width`` × ``height`` canvas (logical px, y down)."""

    width: int
    height: int
    font: float  # base font size
    plot: tuple[int, int, int, int]  # left, top, width, height (whole px, so raster layers paste exactly)
    domain: tuple[float, float, float, float]
    title: Text
    subtitle: Text | None
    progress: Text  # its text is filled per frame
    bar: tuple[float, float, float, float] | None  # x, y, width, height of the progress bar
    xticks: list[tuple[float, Text]]  # pixel x, label
    yticks: list[tuple[float, Text]]  # pixel y, label
    tick_length: float
    legend: list[LegendEntry]  # one per racer, in order; empty on a tiny canvas
    line_width: float
    halo_width: float
    ball_radius: float
    legend_marker_radius: float

    def to_px(self, points: FloatArray) -> FloatArray:
        """World (…, 2) → logical pixels (…, 2), y down."""
        left, top, width, height = self.plot
        xmin, xmax, ymin, ymax = self.domain
        out = np.empty(np.shape(points))
        out[..., 0] = left + (points[..., 0] - xmin) * (width / (xmax - xmin))
        out[..., 1] = top + (ymax - points[..., 1]) * (height / (ymax - ymin))
        return out

    def point_px(self, x: float, y: float) -> tuple[float, float]:
        px = self.to_px(np.array([x, y], dtype=float))
        return float(px[0]), float(px[1])


MIN_FONT = 9.0  # px; below this the legend loses its status lines, then goes
LEGEND_MODES = ("full", "labels", "none")  # label and status line; label only; no legend


def layout(figure: Figure, width: int, height: int, measure: Measure, animated: bool) -> Layout:
    """Place titles, plot, ticks and legend.

    The type starts at a size proportional to the canvas; while the plot would get less than
    ``PLOT_SHARE`` of the scale it would have alone on the canvas, the type shrinks, and on a tiny
    canvas the legend drops its status lines and then itself.
    """
    xmin, xmax, ymin, ymax = figure.domain
    alone = min(width / (xmax - xmin), height / (ymax - ymin))
    start = min(max(min(width, height) / 30, MIN_FONT), 40.0)
    placed = None
    for mode in LEGEND_MODES:
        font = start if mode == "full" else MIN_FONT * 1.2
        while True:
            placed = _layout(figure, width, height, measure, animated, font, mode)
            if placed.plot[2] / (xmax - xmin) >= PLOT_SHARE * alone:
                return placed
            if font <= MIN_FONT:
                break
            font = max(MIN_FONT, font * 0.9)
    assert placed is not None
    return placed


PLOT_SHARE = 0.55


def _layout(
    figure: Figure, width: int, height: int, measure: Measure, animated: bool, font: float, mode: str
) -> Layout:
    pad = round(font * 0.7)
    title_size, small, tick_size = font * 1.2, font * 0.8, font * 0.75
    xmin, xmax, ymin, ymax = figure.domain

    # Title row: the title, the formula if it fits, the progress (or the step count) on the right.
    progress_text = f"step {figure.steps} / {figure.steps}" if animated else f"{figure.steps} steps"
    progress_width = measure(progress_text, small, False)
    title_text = _fit(figure.title, width - 2 * pad - progress_width - font, title_size, True, measure)
    title_width = measure(title_text, title_size, True)
    baseline = pad + title_size * 0.95
    title = Text(pad, baseline, title_text, title_size, bold=True)
    subtitle = None
    room = width - 2 * pad - progress_width - font - title_width - font * 0.8
    if measure(figure.subtitle, small, False) <= room:
        subtitle = Text(pad + title_width + font * 0.8, baseline, figure.subtitle, small, role="muted")
    progress = Text(width - pad, baseline, progress_text, small, role="muted", align="end")
    top = baseline + title_size * 0.45
    bar = None
    if animated:
        bar = (pad, top, width - 2 * pad, max(2.0, font * 0.18))
        top += bar[3]
    top += font * 0.6

    # The plot's box: tick labels to its left and below it.
    tick_length = font * 0.3
    y_ticks, y_step = nice_ticks(ymin, ymax, 7)
    label_width = max(measure(tick_label(v, y_step), tick_size, False) for v in y_ticks)
    left = pad + label_width + tick_length + font * 0.3
    right = width - pad
    below_plot = tick_length + tick_size * 1.1 + font * 0.2  # the x tick labels
    bottom = height - pad - below_plot

    # Legend entries, all the same size: swatch and label, then (mode "full") the status line.
    count = len(figure.racers) if mode != "none" else 0
    swatch = font * 2.0
    text_width = max((measure(r.label, font, True) for r in figure.racers), default=0.0)
    if mode == "full":
        text_width = max(
            text_width,
            *(measure(f"{r.detail} · {s}", small, False) for r in figure.racers for s in _longest(figure.steps)),
        )
    entry_width = swatch + font * 0.6 + text_width
    entry_height = font * 1.25 + font * 0.5 + (small * 1.2 if mode == "full" else 0.0)
    gap = font * 1.2

    # Legend on the right, in as many columns as its height needs; or below, in as many columns as fit.
    options = []
    if count:
        rows = max(1, min(count, int((bottom - top) // entry_height)))
        columns = math.ceil(count / rows)
        rows = math.ceil(count / columns)  # balanced columns: 8 + 8, not 15 + 1
        legend_width = columns * entry_width + (columns - 1) * font
        options.append(("right", _fit_plot(figure.domain, right - legend_width - gap - left, bottom - top), rows))
        columns = max(1, min(count, int((right - left + font) // (entry_width + font))))
        rows = math.ceil(count / columns)
        room_below = bottom - top - gap - rows * entry_height
        options.append(("below", _fit_plot(figure.domain, right - left, room_below), rows))
    else:
        options.append(("none", _fit_plot(figure.domain, right - left, bottom - top), 1))
    where, (plot_width, plot_height), rows = max(options, key=lambda option: option[1][0] * option[1][1])
    plot_width, plot_height = max(plot_width, 8), max(plot_height, 8)
    columns = math.ceil(count / rows) if count else 0
    legend_width = columns * entry_width + max(0, columns - 1) * font
    legend_height = min(count, rows) * entry_height

    # Centre the plot and its legend together in the space left.
    if where == "below":
        block = plot_height + below_plot + gap + legend_height
        plot_top = round(top + max(0.0, (bottom + below_plot - top - block) / 2))
        plot_left = round(left + (right - left - plot_width) / 2)
        legend_left = max(pad, (width - legend_width) / 2)
        legend_top = plot_top + plot_height + below_plot + gap
    else:
        block = plot_width + (gap + legend_width if count else 0.0)
        plot_left = round(left + max(0.0, (right - left - block) / 2))
        plot_top = round(top + (bottom - top - plot_height) / 2)
        legend_left = plot_left + plot_width + gap
        centred = plot_top + (plot_height - legend_height) / 2
        legend_top = min(max(top, centred), max(top, height - pad - legend_height))
    plot = (plot_left, plot_top, int(plot_width), int(plot_height))

    legend = []
    for index, racer in enumerate(figure.racers[:count]):
        column, row = divmod(index, rows)
        x = legend_left + column * (entry_width + font)
        label_baseline = legend_top + row * entry_height + font * 0.95
        legend.append(
            LegendEntry(
                swatch=(x, x + swatch, label_baseline - font * 0.35),
                label=Text(x + swatch + font * 0.6, label_baseline, racer.label, font, bold=True),
                detail=Text(x + swatch + font * 0.6, label_baseline + small * 1.25, "", small, role="muted")
                if mode == "full"
                else None,
            )
        )

    placed = Layout(
        width=width,
        height=height,
        font=font,
        plot=plot,
        domain=figure.domain,
        title=title,
        subtitle=subtitle,
        progress=progress,
        bar=bar,
        xticks=[],
        yticks=[],
        tick_length=tick_length,
        legend=legend,
        line_width=max(2.0, font * 0.2),
        halo_width=max(3.5, font * 0.36),
        ball_radius=max(4.0, font * 0.42),
        legend_marker_radius=max(3.0, font * 0.34),
    )
    x_ticks, x_step = nice_ticks(xmin, xmax, max(2, int(plot_width // (font * 3.2))))
    label_y = plot_top + plot_height + tick_length + tick_size * 1.05
    xticks = [
        (px, Text(px, label_y, tick_label(v, x_step), tick_size, role="muted", align="middle"))
        for v in x_ticks
        for px in [placed.point_px(v, ymin)[0]]
    ]
    y_ticks, y_step = nice_ticks(ymin, ymax, max(2, int(plot_height // (font * 2.2))))
    label_x = plot_left - tick_length - font * 0.25
    yticks = [
        (py, Text(label_x, py + tick_size * 0.36, tick_label(v, y_step), tick_size, role="muted", align="end"))
        for v in y_ticks
        for py in [placed.point_px(xmin, v)[1]]
    ]
    return replace(placed, xticks=xticks, yticks=yticks)


def _fit_plot(domain: tuple[float, float, float, float], width: float, height: float) -> tuple[int, int]:
    """The largest plot of the domain's aspect ratio inside width × height."""
    xmin, xmax, ymin, ymax = domain
    scale = max(0.0, min(width / (xmax - xmin), height / (ymax - ymin)))
    return int(scale * (xmax - xmin)), int(scale * (ymax - ymin))


def _at_minimum(
    path: FloatArray, loss: FloatArray, minima: list[dict[str, Any]], radius: float, tolerance: float
) -> npt.NDArray[np.bool_]:
    """Per point, whether it passes the race's arrival test (core.race's Tracker): near a minimum, and its loss
    within ``tolerance`` of that minimum's value."""
    n = min(len(path), len(loss))
    home = np.zeros(len(path), dtype=bool)
    for minimum in minima:
        near = np.hypot(path[:n, 0] - minimum["point"][0], path[:n, 1] - minimum["point"][1]) <= radius
        home[:n] |= near & (loss[:n] - minimum["value"] <= tolerance)
    return home


def _longest(steps: int) -> list[str]:
    return [f"arrived @ {steps}, left @ {steps}", f"diverged @ {steps}", "loss −8.88e−88"]


def _fit(text: str, room: float, size: float, bold: bool, measure: Measure) -> str:
    """``text``, cut with an ellipsis to fit ``room`` px."""
    if measure(text, size, bold) <= room:
        return text
    while text and measure(text + "…", size, bold) > room:
        text = text[:-1]
    return text.rstrip() + "…"
