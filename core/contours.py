"""Contour data for drawing a surface: a value grid, contour levels and their polylines.

Everything returned is plain JSON-ready Python (lists of finite floats), small enough to send
with every scene: grid values keep 6 significant digits, polyline coordinates 5 decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import contourpy
import numpy as np

from core.landscapes import Domain, Surface

GRID_DIGITS = 6  # significant digits of grid values
PATH_DECIMALS = 5  # decimals of polyline coordinates
LOW_QUANTILE = 0.002  # log levels start at the gap below which this share of the grid lies ...
MIN_LOG_GAP = 1e-9  # ... but at most this factor below the highest gap


def contour_data(
    surface: Surface, levels: int = 24, resolution: int = 160, window: Sequence[float] | None = None
) -> dict[str, Any]:
    """Grid, contour levels and contour polylines of ``surface`` over its landscape's domain, or over
    ``window`` = (xmin, xmax, ymin, ymax) (a close-up, e.g. of a race's ending; see check_window).

    The grid has ``resolution`` × ``resolution`` points from (xmin, ymin) to (xmax, ymax); ``z``
    is row-major with row j at y_j, from ymin upward. With m the global minimum value:
        log scale:  level_k = m + geomspace(g_lo, g_hi, levels + 2)[k + 1],
                    g_lo = the 0.2 % quantile of the grid's gaps z − m (at least 1e-9·g_hi),
                    g_hi = max z − m
        linear:     level_k = linspace(min z, max z, levels + 2)[k + 1]
    so no level touches the grid's extremes. Each line is {"level": v, "paths": [[[x, y], ...]]}.
    A typed formula's landscape (custom) adds its saddle points, unregularized: {"saddles": [[x, y], ...]}.
    """
    if isinstance(levels, bool) or not isinstance(levels, int) or not 2 <= levels <= 200:
        raise ValueError(f"levels must be an integer in [2, 200], got {levels!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not (16 <= resolution <= 512):
        raise ValueError(f"resolution must be an integer in [16, 512], got {resolution!r}")

    landscape = surface.landscape
    domain = landscape.domain if window is None else Domain(*check_window(window, landscape.domain))
    xs = np.linspace(domain.xmin, domain.xmax, resolution)
    ys = np.linspace(domain.ymin, domain.ymax, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)  # grid[j, i] = (x_i, y_j)
    z = surface.value(grid)  # z[j, i] = F(x_i, y_j)
    finite = np.isfinite(z)
    if not finite.any():
        raise ValueError(f"landscape {landscape.name} is not finite on {'its domain' if window is None else 'window'}")
    if not finite.all():  # a typed formula (custom) may have holes, e.g. log(x) at x ≤ 0: drawn as its extremes
        z = np.where(finite, z, np.where(z == -np.inf, z[finite].min(), z[finite].max()))
    z_min = float(z.min())
    z_max = float(z.max())
    level_values = _levels(surface, z, levels)

    generator = contourpy.contour_generator(xs, ys, z, line_type=contourpy.LineType.Separate)
    lines = [
        {
            "level": level,
            "paths": [np.round(path, PATH_DECIMALS).tolist() for path in generator.lines(level)],
        }
        for level in level_values
    ]
    saddles = getattr(landscape, "saddles", ()) if not (surface.l1 or surface.l2) else ()
    return {
        **({"saddles": [list(point) for point in saddles]} if saddles else {}),
        "domain": {"x": [domain.xmin, domain.xmax], "y": [domain.ymin, domain.ymax]},
        "log_scale": landscape.log_scale,
        "grid": {"nx": resolution, "ny": resolution, "z": _significant(z).ravel().tolist()},
        "z_min": z_min,
        "z_max": z_max,
        "levels": level_values,
        "lines": lines,
    }


def check_window(window: Sequence[float], domain: Domain) -> tuple[float, float, float, float]:
    """A close-up (xmin, xmax, ymin, ymax): finite, ordered, inside the domain, at least 1e-6 of its size."""
    if len(window) != 4 or not all(isinstance(v, (int, float)) and np.isfinite(v) for v in window):
        raise ValueError(f"window must be four finite numbers xmin,xmax,ymin,ymax, got {list(window)!r}")
    xmin, xmax, ymin, ymax = (float(v) for v in window)
    width, height = domain.xmax - domain.xmin, domain.ymax - domain.ymin
    inside = domain.xmin <= xmin and xmax <= domain.xmax and domain.ymin <= ymin and ymax <= domain.ymax
    if not (inside and xmax - xmin >= 1e-6 * width and ymax - ymin >= 1e-6 * height):
        raise ValueError(
            f"window must lie in the domain x in [{domain.xmin:g}, {domain.xmax:g}], y in [{domain.ymin:g}, "
            f"{domain.ymax:g}] with xmin < xmax and ymin < ymax (at least 1e-6 of the domain's size); "
            f"got {list(window)}"
        )
    return xmin, xmax, ymin, ymax


def _levels(surface: Surface, z: np.ndarray, count: int) -> list[float]:
    """``count`` levels strictly between the grid's lowest and highest values (see contour_data)."""
    if not surface.landscape.log_scale:
        return np.linspace(z.min(), z.max(), count + 2)[1:-1].tolist()
    lowest = min(minimum.value for minimum in surface.minima)
    gaps = z - lowest
    high = float(gaps.max())
    low = max(float(np.quantile(gaps, LOW_QUANTILE)), MIN_LOG_GAP * high)
    return (lowest + np.geomspace(low, high, count + 2)[1:-1]).tolist()


def _significant(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to GRID_DIGITS significant digits, so their JSON reprs stay short.

    Rounding to a whole number of units 10^e and multiplying (or dividing) by an exact power of
    ten gives the double nearest the decimal, which JSON writes with at most 6 digits.
    """
    magnitude = np.abs(values)
    exponent = np.floor(np.log10(np.where(magnitude > 0, magnitude, 1.0))) - (GRID_DIGITS - 1)
    exponent = np.clip(exponent, -300, 300)
    result = np.empty_like(values)
    up = exponent >= 0
    unit = 10.0 ** np.abs(exponent)
    result[up] = np.round(values[up] / unit[up]) * unit[up]
    result[~up] = np.round(values[~up] * unit[~up]) / unit[~up]
    return result
