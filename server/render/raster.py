"""Race figures as raster images with Pillow: the final frame as PNG, the whole race as an animated GIF.

ImageDraw does not anti-alias lines or polygons, so the plot and the chrome are drawn at
``SUPERSAMPLE`` times the size and reduced (a box filter). The chrome (title, ticks, legend
swatches) and the plot's background (filled contour bands and contour lines) are drawn once; each
frame extends the paths drawn so far to its step (``_Trails``: only the new segments are drawn),
adds the start, the minima and a ball at each racer's head, and writes the changing text (step,
losses, arrivals) straight at the output size, where FreeType anti-aliases it anyway.

A GIF holds one adaptive 255-colour palette, made from the last frame (which shows every path and
every colour) and applied to every frame without dithering, so flat bands stay flat and each frame
after the first only stores the rectangle that changed, with unchanged pixels transparent.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import GifImagePlugin, Image, ImageDraw, ImageFont

from server.render.figure import (
    Figure,
    Layout,
    Text,
    Theme,
    band_colors,
    decimate,
    frame_steps,
    halo_color,
    hex_to_rgb,
    layout,
    marker_points,
    saddle_points,
    star_points,
)
from server.render.vectors import KINDS, VectorLayer, arrow_head, shaft_end, vector_layer

SUPERSAMPLE = 2
LAST_FRAME_MS = 3000  # the final frame lingers, so the result can be read before the loop restarts
MAX_PATH_POINTS = 1500  # per racer: a longer scribble is thinned (it costs drawing time, not visible detail)
PALETTE_COLORS = 255  # one palette slot stays free for the transparent "unchanged" pixels of delta frames
_FONT_FILES = {
    False: ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf"),
    True: ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf"),
}
_ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=128)
def font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans (or Liberation Sans) at ``size`` px if installed, else Pillow's built-in font."""
    for name in _FONT_FILES[bold]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _builtin() -> bool:
    """True when no TrueType font was found and Pillow's built-in font (a font in memory) stands in."""
    return not isinstance(getattr(font(12), "path", None), str)


def font_identity() -> str:
    """Which font files the images use (part of an export's ETag: another font, other pixels)."""
    return "built-in" if _builtin() else "|".join(str(getattr(font(12, bold), "path", "")) for bold in (False, True))


def measure(text: str, size: float, bold: bool) -> float:
    """Width of ``text`` in px at font size ``size``."""
    return float(font(max(1, round(size)), bold).getlength(_glyphs(text)))


# What Pillow's built-in font lacks (the formulas' superscripts and Greek letters), in plain text.
_PLAIN = str.maketrans(
    {"−": "-", "–": "-", "²": "^2", "³": "^3", "⁴": "^4", "½": "1/2", "α": "a", "κ": "k", "π": "pi", "σ": "s", "λ": "l"}
)


def _glyphs(text: str) -> str:
    return text.translate(_PLAIN) if _builtin() else text


class Painter:
    """Draws one figure at ``scale`` × the layout's logical size: a static base, then any step's frame."""

    def __init__(self, figure: Figure, width: int, height: int, theme: Theme, scale: int = 1, animated: bool = False):
        self.figure = figure
        self.theme = theme
        self.scale = scale
        self.animated = animated
        self.layout: Layout = layout(figure, width, height, measure, animated)
        self.size = (width * scale, height * scale)
        _, _, plot_width, plot_height = self.layout.plot
        self.plot_size = (plot_width * scale * SUPERSAMPLE, plot_height * scale * SUPERSAMPLE)
        self.base = self._base()
        self.plot_base = self._plot_base()
        self._trails = _Trails(figure, self.layout, scale * SUPERSAMPLE, self.plot_size, theme)
        self._painted = self.plot_base.copy()  # background and the paths drawn so far

    # -- static parts ---------------------------------------------------------------------------

    def _base(self) -> Image.Image:
        """Background, title, ticks, frame, legend swatches and labels (no plot content, no per-step text)."""
        k = self.scale * SUPERSAMPLE
        image = Image.new("RGB", (self.size[0] * SUPERSAMPLE, self.size[1] * SUPERSAMPLE), self.theme.background)
        draw = ImageDraw.Draw(image)
        placed = self.layout
        self._text(draw, placed.title, k)
        if placed.subtitle:
            self._text(draw, placed.subtitle, k)
        left, top, width, height = placed.plot
        frame = self.theme.frame
        draw.rectangle(
            [(left - 1) * k, (top - 1) * k, (left + width + 1) * k - 1, (top + height + 1) * k - 1],
            outline=frame,
            width=max(1, k),
        )
        for px, label in placed.xticks:
            y0 = (top + height + 1) * k
            draw.line([(px * k, y0), (px * k, y0 + placed.tick_length * k)], fill=frame, width=max(1, k))
            self._text(draw, label, k)
        for py, label in placed.yticks:
            x0 = (left - 1) * k
            draw.line([(x0 - placed.tick_length * k, py * k), (x0, py * k)], fill=frame, width=max(1, k))
            self._text(draw, label, k)
        if placed.bar:
            x, y, bar_width, bar_height = placed.bar
            draw.rectangle([x * k, y * k, (x + bar_width) * k, (y + bar_height) * k], fill=self.theme.track)
        for racer, entry in zip(self.figure.racers, placed.legend, strict=False):  # the legend may be left out
            x0, x1, y = entry.swatch
            halo = halo_color(racer.color, self.theme)
            draw.line([(x0 * k, y * k), (x1 * k, y * k)], fill=halo, width=round(placed.halo_width * k))
            draw.line([(x0 * k, y * k), (x1 * k, y * k)], fill=racer.color, width=round(placed.line_width * k))
            self._marker(draw, racer.marker, (x0 + x1) / 2 * k, y * k, placed.legend_marker_radius * k, racer.color)
            self._text(draw, entry.label, k)
        return image.reduce(SUPERSAMPLE)

    def _plot_base(self) -> Image.Image:
        """Filled contour bands (colour by level interval) under translucent contour lines."""
        figure, theme = self.figure, self.theme
        width, height = self.plot_size
        grid = figure.grid[::-1].astype(np.float32)  # image rows go down, the grid's rows go up
        ny, nx = grid.shape
        # Linear interpolation between grid points, as contourpy assumes: pixel centres map onto
        # the grid's first to last points.
        values = np.asarray(
            Image.fromarray(grid).resize((width, height), Image.Resampling.BILINEAR, box=(0.5, 0.5, nx - 0.5, ny - 0.5))
        )
        colors = np.array([hex_to_rgb(c) for c in band_colors(len(figure.levels) + 1, theme)], dtype=np.uint8)
        bands = np.searchsorted(np.asarray(figure.levels, dtype=np.float32), values)
        image = Image.fromarray(colors[bands])

        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        k = self.scale * SUPERSAMPLE
        left, top, _, _ = self.layout.plot
        line = (*hex_to_rgb(theme.contour), round(255 * theme.contour_alpha))
        line_width = max(1, round(self.layout.font * 0.06 * k))
        for paths in figure.lines:
            for path in paths:
                if len(path) > 1:
                    pixels = (self.layout.to_px(path) - np.array([left, top])) * k
                    draw.line([tuple(p) for p in pixels.tolist()], fill=line, width=line_width)
        image.paste(overlay, (0, 0), overlay)
        return image

    # -- frames ---------------------------------------------------------------------------------

    def frame(self, step: int, vectors: VectorLayer | None = None) -> Image.Image:
        """The figure at ``step``: paths up to it, a ball at each head, the legend's status at that step;
        with ``vectors`` (server.render.vectors), each racer's vectors there and their key."""
        k = self.scale * SUPERSAMPLE
        placed = self.layout
        self._grow(step)
        plot = self._painted.copy()
        draw = ImageDraw.Draw(plot)
        left, top, _, _ = placed.plot
        start_x, start_y = placed.point_px(*self.figure.start)
        radius = placed.ball_radius * k
        sx, sy = (start_x - left) * k, (start_y - top) * k
        draw.ellipse(
            [sx - radius, sy - radius, sx + radius, sy + radius],
            outline=self.theme.background,
            width=round(radius * 0.55),
        )
        draw.ellipse(
            [sx - radius * 0.85, sy - radius * 0.85, sx + radius * 0.85, sy + radius * 0.85],
            outline=self.theme.foreground,
            width=round(radius * 0.28),
        )
        for x, y in self.figure.saddles:
            mx, my = placed.point_px(x, y)
            bow = saddle_points((mx - left) * k, (my - top) * k, radius * 0.95)
            draw.polygon(bow, fill="#1b1f24", outline="#ffffff", width=max(1, round(radius * 0.16)))
        for x, y, kind in self.figure.minima:
            mx, my = placed.point_px(x, y)
            star = star_points((mx - left) * k, (my - top) * k, radius * (1.45 if kind == "global" else 1.0))
            draw.polygon(star, fill="#ffffff", outline="#1b1f24", width=max(1, round(radius * 0.16)))
        for racer, pixels in zip(self.figure.racers, self._trails.pixels, strict=True):
            if len(pixels):
                hx, hy = pixels[racer.head(step)]
                self._marker(draw, racer.marker, float(hx), float(hy), radius, racer.color)
        if vectors is not None:
            self._vectors(draw, vectors, k)
        image = self.base.copy()
        image.paste(plot.reduce(SUPERSAMPLE), (left * self.scale, top * self.scale))
        if vectors is not None:
            self._vector_key(ImageDraw.Draw(image), vectors)

        # Text that changes with the step, drawn at the output size (FreeType anti-aliases it).
        draw = ImageDraw.Draw(image)
        s = self.scale
        progress = (
            f"step {step} / {self.figure.steps}"
            if self.animated or step != self.figure.steps
            else f"{self.figure.steps} steps"
        )
        self._text(draw, replace(placed.progress, text=progress), s)
        if placed.bar:
            x, y, bar_width, bar_height = placed.bar
            filled = bar_width * step / max(1, self.figure.steps)
            if filled > 0:
                draw.rectangle([x * s, y * s, (x + filled) * s, (y + bar_height) * s], fill=self.theme.foreground)
        for racer, entry in zip(self.figure.racers, placed.legend, strict=False):  # the legend may be left out
            if entry.detail:
                self._text(draw, replace(entry.detail, text=racer.legend_text(step)), s)
        return image

    def _grow(self, step: int) -> None:
        """Extend every path to ``step`` and repaint only the rectangles the new segments touch."""
        k = self.scale * SUPERSAMPLE
        heads = [racer.head(step) for racer in self.figure.racers]
        boxes = self._trails.grow(heads, round(self.layout.line_width * k), round(self.layout.halo_width * k))
        for box in boxes:
            self._painted.paste(self._trails.paint(self.plot_base, box), box[:2])

    def _vectors(self, draw: ImageDraw.ImageDraw, layer: VectorLayer, k: float) -> None:
        """Each racer's arrows and box (static/vectors.js's shapes) on the supersampled plot, halo first."""
        left, top, _, _ = self.layout.plot
        head = (6 + 2 * layer.width) * k
        for drawn in layer.racers:
            x, y = (drawn.x - left) * k, (drawn.y - top) * k
            for color, width in ((halo_color(drawn.color, self.theme), layer.width + 2.5), (drawn.color, layer.width)):
                w = max(1, round(width * k))
                for kind in KINDS:
                    dash = tuple(d * k for d in kind.dash)
                    if kind.key == "box":
                        if drawn.box:
                            hx, hy = drawn.box[0] * k, drawn.box[1] * k
                            corners = [(x - hx, y - hy), (x + hx, y - hy), (x + hx, y + hy), (x - hx, y + hy)]
                            for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
                                _line(draw, a, b, dash, w, color)
                        continue
                    if kind.key not in drawn.arrows:
                        continue
                    dx, dy = drawn.arrows[kind.key]
                    x1, y1 = x + dx * k, y + dy * k
                    _line(draw, (x, y), shaft_end(x, y, x1, y1, head), dash, w, color)
                    tip = arrow_head(x, y, x1, y1, head)
                    if tip:
                        draw.polygon(tip, fill=color, outline=color, width=w if color != drawn.color else 1)

    def _vector_key(self, draw: ImageDraw.ImageDraw, layer: VectorLayer) -> None:
        """What each kind is and its scale, in a box at the plot's lower left (as the SVG's)."""
        lines = layer.key()
        if not lines:
            return
        s = self.scale
        left, top, _, plot_height = self.layout.plot
        size = self.layout.font * 0.8
        box_width = max(measure(text, size, False) for _, text in lines) + size * 3.6
        box_height = len(lines) * size * 1.5 + size * 0.5
        x0, y0 = left + size * 0.5, top + plot_height - box_height - size * 0.5
        draw.rounded_rectangle(
            [x0 * s, y0 * s, (x0 + box_width) * s, (y0 + box_height) * s],
            radius=4 * s,
            fill=self.theme.background,
            outline=self.theme.frame,
            width=s,
        )
        for index, (kind, text) in enumerate(lines):
            y = y0 + size * 0.25 + (index + 0.5) * size * 1.5
            a, b = (x0 + size * 0.4) * s, (x0 + size * 2.6) * s
            if kind.key == "box":
                half = size * 0.35 * s
                for p, q in (
                    ((a, y * s - half), (b, y * s - half)),
                    ((a, y * s + half), (b, y * s + half)),
                    ((a, y * s - half), (a, y * s + half)),
                    ((b, y * s - half), (b, y * s + half)),
                ):
                    _line(draw, p, q, tuple(d * s for d in kind.dash), 2 * s, self.theme.foreground)
            else:
                _line(
                    draw,
                    (a, y * s),
                    (b - size * 0.4 * s, y * s),
                    tuple(d * s for d in kind.dash),
                    2 * s,
                    self.theme.foreground,
                )
                draw.polygon(arrow_head(a, y * s, b, y * s, size * 0.6 * s) or [], fill=self.theme.foreground)
            self._text(draw, Text(x0 + size * 3.1, y + size * 0.35, text, size), s)

    # -- primitives -----------------------------------------------------------------------------

    def _text(self, draw: ImageDraw.ImageDraw, text: Text, k: float) -> None:
        draw.text(
            (text.x * k, text.y * k),
            _glyphs(text.text),
            font=font(max(1, round(text.size * k)), text.bold),
            fill=getattr(self.theme, text.role),
            anchor=_ANCHORS[text.align],
        )

    def _marker(self, draw: ImageDraw.ImageDraw, shape: str, x: float, y: float, r: float, color: str) -> None:
        outline = self.theme.foreground
        width = max(1, round(r * 0.22))
        points = marker_points(shape, x, y, r)
        if points is None:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=color, outline=outline, width=width)
        else:
            draw.polygon(points, fill=color, outline=outline, width=width)


class _Trails:
    """Every racer's path so far, grown frame by frame, as two "owner" maps over the plot's pixels.

    Drawing the paths whole, racer after racer (casing, then line), leaves at each pixel the paint
    of the last racer whose casing covers it: its line colour if its line covers the pixel too,
    else its casing colour. So two maps say it all: ``top_casing`` (1 + the last racer whose casing
    covers the pixel, 0 for none) and ``top_line`` (the same for lines). Both only grow: a frame
    draws its new segments into them with a maximum, and repaints just the rectangles touched.
    Memory stays two bytes a pixel, however many racers.
    """

    def __init__(self, figure: Figure, placed: Layout, k: int, size: tuple[int, int], theme: Theme):
        left, top, _, _ = placed.plot
        self.size = size
        self.pixels: list[np.ndarray] = []
        self.kept: list[np.ndarray] = []
        for racer in figure.racers:
            pixels = (placed.to_px(racer.path) - np.array([left, top])) * k
            # Far-off points of a diverging racer only need to leave the picture.
            pixels = np.clip(pixels, -4 * max(size), 5 * max(size))
            self.pixels.append(pixels)
            # Round joints hide the corners of points closer than the line is wide.
            self.kept.append(decimate(pixels, spacing=max(k, 0.6 * placed.line_width * k), most=MAX_PATH_POINTS))
        colors = [racer.color for racer in figure.racers]
        self.line_colors = np.array([(0, 0, 0)] + [hex_to_rgb(c) for c in colors], dtype=np.uint8)
        self.casing_colors = np.array([(0, 0, 0)] + [hex_to_rgb(halo_color(c, theme)) for c in colors], dtype=np.uint8)
        self._reset()

    def _reset(self) -> None:
        width, height = self.size
        self.top_casing = np.zeros((height, width), dtype=np.uint8)
        self.top_line = np.zeros((height, width), dtype=np.uint8)
        self.drawn = [0] * len(self.pixels)  # each path is drawn up to this point index
        self.before = [0] * len(self.pixels)  # and the point before it, for a round joint with the next stretch

    def grow(self, heads: list[int], line_width: int, casing_width: int) -> list[tuple[int, int, int, int]]:
        """Draw each path on to its point ``heads[i]``; the rectangles that changed.

        Frames usually go forward; going back starts over.
        """
        boxes = []
        if any(head < drawn for head, drawn in zip(heads, self.drawn, strict=True)):
            self._reset()
            boxes.append((0, 0, *self.size))
        width, height = self.size
        reach = casing_width / 2 + 2
        for racer, head in enumerate(heads):
            pixels, kept, drawn = self.pixels[racer], self.kept[racer], self.drawn[racer]
            if head <= drawn or not len(pixels):
                continue
            middle = kept[(kept > drawn) & (kept < head)].tolist()
            indices = [self.before[racer], drawn, *middle, head] if drawn else [0, *middle, head]
            self.before[racer], self.drawn[racer] = indices[-2], head
            xy = pixels[indices]
            low, high = np.floor(xy.min(axis=0) - reach), np.ceil(xy.max(axis=0) + reach)
            x0, y0 = max(0, int(low[0])), max(0, int(low[1]))
            x1, y1 = min(width, int(high[0])), min(height, int(high[1]))
            if x0 >= x1 or y0 >= y1:
                continue  # off the picture
            points = [tuple(p) for p in (xy - [x0, y0]).tolist()]
            for owners, stroke in ((self.top_casing, casing_width), (self.top_line, line_width)):
                stretch = Image.new("L", (x1 - x0, y1 - y0), 0)
                ImageDraw.Draw(stretch).line(points, fill=racer + 1, width=stroke, joint="curve")
                np.maximum(owners[y0:y1, x0:x1], np.asarray(stretch), out=owners[y0:y1, x0:x1])
            boxes.append((x0, y0, x1, y1))
        return boxes

    def paint(self, background: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
        """The rectangle ``box`` of the plot: ``background`` under the paths drawn so far."""
        x0, y0, x1, y1 = box
        patch = np.array(background.crop(box))
        top_casing, top_line = self.top_casing[y0:y1, x0:x1], self.top_line[y0:y1, x0:x1]
        covered = top_casing > 0
        patch[covered] = self.casing_colors[top_casing[covered]]
        on_line = covered & (top_line == top_casing)
        patch[on_line] = self.line_colors[top_line[on_line]]
        return Image.fromarray(patch)


def png(
    figure: Figure,
    width: int,
    height: int,
    theme: Theme,
    scale: int = 1,
    step: int | None = None,
    inside: Sequence[Mapping[str, Any]] | None = None,
) -> bytes:
    """The race at ``step`` (the last by default) as a PNG of exactly (width × scale) × (height × scale)
    pixels; with ``inside`` (server.render.vectors.internals_of), each racer's vectors there and their key."""
    step = figure.steps if step is None else step
    painter = Painter(figure, width, height, theme, scale=scale)
    layer = None
    if inside is not None:
        placed = painter.layout
        layer = vector_layer(inside, figure.racers, step, placed.plot[2], placed.line_width, placed.point_px)
    buffer = io.BytesIO()
    painter.frame(step, layer).save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _line(
    draw: ImageDraw.ImageDraw,
    a: tuple[float, float],
    b: tuple[float, float],
    dash: tuple[float, ...],
    width: int,
    color: str,
) -> None:
    """A straight line, dashed by ``dash`` (on, off, … in px) when given, with round ends as the page's."""
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    if length < 0.5:
        return
    if not dash:
        draw.line([a, b], fill=color, width=width, joint="curve")
        return
    ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
    at, index = 0.0, 0
    while at < length:
        run = dash[index % len(dash)]
        if index % 2 == 0:
            end = min(length, at + run)
            draw.line([(a[0] + ux * at, a[1] + uy * at), (a[0] + ux * end, a[1] + uy * end)], fill=color, width=width)
        at += run
        index += 1


def gif(figure: Figure, width: int, height: int, theme: Theme, frames: int, fps: int) -> bytes:
    """The race as a looping GIF: ``frames`` frames (at most steps + 1) at ``fps``, the last one held longer."""
    painter = Painter(figure, width, height, theme, animated=True)
    steps = frame_steps(figure.steps, frames)
    last = painter.frame(steps[-1])
    palette = last.quantize(colors=PALETTE_COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    delay = round(1000 / fps)

    def indexed() -> Iterator[tuple[np.ndarray, int]]:
        for step in steps[:-1]:
            yield np.asarray(painter.frame(step).quantize(palette=palette, dither=Image.Dither.NONE)), delay
        yield np.asarray(last.quantize(palette=palette, dither=Image.Dither.NONE)), LAST_FRAME_MS

    return encode_gif(indexed(), palette.getpalette() or [], (width, height))


def encode_gif(frames: Iterable[tuple[np.ndarray, int]], palette: list[int], size: tuple[int, int]) -> bytes:
    """A looping GIF89a of palette-index frames (H, W) with their durations in ms, one global palette.

    Each frame after the first stores only the rectangle that changed since the previous one, with
    its unchanged pixels set to the transparent index (the first palette slot not in use), which
    compresses to almost nothing; a frame identical to the previous one lengthens it instead.
    Frames are encoded as they come, so memory holds two frames, not the whole animation.
    """
    colors = len(palette) // 3
    if colors > 255:
        raise ValueError(f"encode_gif needs a free palette slot for transparency; got {colors} colours")
    transparent = colors
    out = io.BytesIO()
    out.write(b"GIF89a" + struct.pack("<HHBBB", size[0], size[1], 0xF7, 0, 0))  # 256-entry global palette
    out.write(bytes(palette).ljust(768, b"\0"))
    out.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\0")  # loop forever
    pending: tuple[np.ndarray, tuple[int, int], dict[str, int]] | None = None
    previous: np.ndarray | None = None
    for indices, duration in frames:
        if previous is None:
            block, offset, params = indices, (0, 0), {"duration": duration}
        else:
            changed = indices != previous
            rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            if not len(rows):
                assert pending is not None
                pending[2]["duration"] += duration
                continue
            y0, y1, x0, x1 = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
            block = np.where(changed[y0:y1, x0:x1], indices[y0:y1, x0:x1], transparent).astype(np.uint8)
            offset = (int(x0), int(y0))
            params = {"duration": duration, "transparency": transparent, "disposal": 1}
        if pending is not None:
            _write_frame(out, *pending)
        pending = (block, offset, params)
        previous = indices
    if pending is not None:
        _write_frame(out, *pending)
    out.write(b";")
    return out.getvalue()


def _write_frame(out: io.BytesIO, block: np.ndarray, offset: tuple[int, int], params: dict[str, int]) -> None:
    """One frame: Pillow's GIF encoder writes the control extension, the descriptor and the LZW data."""
    for chunk in GifImagePlugin.getdata(Image.fromarray(np.ascontiguousarray(block)), offset, interlace=0, **params):
        out.write(chunk)
