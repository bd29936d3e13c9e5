"""The racers' colours stay apart for colour-blind viewers and on a washed-out projector; one marker per optimizer."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from core.optimizers import OPTIMIZERS
from core.palette import LECTURE_COLORS, PALETTE, SHAPES, STYLES, style_of

# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB.
MACHADO = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def colour_blind(kind: str):
    matrix = np.array(MACHADO[kind])
    return lambda srgb: to_srgb(matrix @ to_linear(srgb))


def washed_out(srgb: np.ndarray) -> np.ndarray:
    """A projector in a lit hall: black raised to 12 % of white, 70 % of the contrast left, gamma flattened."""
    return to_srgb(0.12 + 0.70 * to_linear(srgb)) ** 0.8


def lab(srgb: np.ndarray) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour."""
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ to_linear(srgb)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def delta_e2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1 = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2 = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else (h2 - h1 + 180) % 360 - 180
    dh_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    rotation = 30 * math.exp(-(((h_mean - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    sl = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    sc = 1 + 0.045 * cp_mean
    sh = 1 + 0.015 * cp_mean * t
    rt = -math.sin(math.radians(2 * rotation)) * rc
    return math.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dh_big / sh) ** 2 + rt * (dc / sc) * (dh_big / sh))


VIEWERS = {
    "normal vision": lambda c: c,
    **{kind: colour_blind(kind) for kind in MACHADO},
    "washed-out projector": washed_out,
    **{
        f"{kind} on a washed-out projector": (lambda f: lambda c: washed_out(f(c)))(colour_blind(kind))
        for kind in MACHADO
    },
}


def closest_pair(colors: tuple[str, ...], viewer) -> tuple[float, str, str]:
    seen = {color: lab(viewer(rgb(color))) for color in colors}
    return min((delta_e2000(seen[a], seen[b]), a, b) for a, b in itertools.combinations(colors, 2))


def test_delta_e2000_matches_sharmas_reference_pairs() -> None:
    # pairs 1, 7 and 17 of Sharma, Wu & Dalal's test data
    assert delta_e2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert delta_e2000((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert delta_e2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_lecture_colours_stay_apart(viewer: str) -> None:
    """SGD red, Momentum blue, RMSProp green, Adam gold: ΔE2000 ≥ 10 for every pair, for every viewer."""
    distance, a, b = closest_pair(LECTURE_COLORS, VIEWERS[viewer])
    assert distance >= 10, f"{a} and {b} are only ΔE2000 {distance:.1f} apart for {viewer}"


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_first_eight_palette_colours_stay_apart(viewer: str) -> None:
    distance, a, b = closest_pair(PALETTE[:8], VIEWERS[viewer])
    assert distance >= 6, f"{a} and {b} are only ΔE2000 {distance:.1f} apart for {viewer}"


def test_the_lecture_optimizers_have_the_lecture_colours() -> None:
    assert tuple(STYLES[name].color for name in ("sgd", "momentum", "rmsprop", "adam")) == LECTURE_COLORS
    assert PALETTE[:4] == LECTURE_COLORS and len(set(PALETTE)) == len(PALETTE)


def test_every_optimizer_has_one_marker_and_the_lecture_four_differ() -> None:
    for index, name in enumerate(OPTIMIZERS):
        assert style_of(name, index).marker in SHAPES
    assert len({STYLES[name].marker for name in ("sgd", "momentum", "rmsprop", "adam")}) == 4
