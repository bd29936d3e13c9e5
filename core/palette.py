"""How racers look: one colour and one marker shape per optimizer, the same on the page, in the embed and
in every export (served with the optimizer specs by GET /api/optimizers).

The lecture's four optimizers keep the lecture's colours, SGD red, Momentum blue, RMSProp green and Adam
gold, in variants chosen to stay apart for colour-blind viewers and on a washed-out projector: every pair
of the four differs by ΔE2000 ≥ 10 under deuteranopia, protanopia and tritanopia (Machado et al. 2009,
severity 1) and with the projector's raised black and flattened gamma, alone and combined
(tests/core/test_palette.py simulates them). PALETTE begins with the four, so a race of four SGDs at
different learning rates gets the same four colours; the next ones (Okabe & Ito, Paul Tol) follow.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Shape = Literal["circle", "square", "triangle", "diamond", "down", "pentagon", "hexagon", "star"]
SHAPES: tuple[Shape, ...] = ("circle", "square", "triangle", "diamond", "down", "pentagon", "hexagon", "star")

RED, BLUE, GREEN, GOLD = "#bb2200", "#1f4e9c", "#1b9e77", "#e0a800"
LECTURE_COLORS = (RED, BLUE, GREEN, GOLD)

PALETTE = (
    *LECTURE_COLORS,
    "#56b4e9",
    "#cc79a7",
    "#000000",
    "#882255",
    "#44aa99",
    "#999933",
    "#aa4499",
    "#332288",
    "#117733",
    "#88ccee",
    "#661100",
    "#f0e442",
)


class Style(NamedTuple):
    """How one optimizer's racers are drawn: the default colour and the marker at the head of the path."""

    color: str
    marker: Shape


STYLES: dict[str, Style] = {
    "sgd": Style(RED, "circle"),
    "momentum": Style(BLUE, "square"),
    "rmsprop": Style(GREEN, "triangle"),
    "adam": Style(GOLD, "diamond"),
    "nesterov": Style("#56b4e9", "down"),
    "adagrad": Style("#cc79a7", "pentagon"),
    "adamw": Style("#882255", "hexagon"),
    "amsgrad": Style("#44aa99", "star"),
    "nadam": Style("#999933", "down"),
    "radam": Style("#aa4499", "pentagon"),
    "adamax": Style("#332288", "hexagon"),
    "adadelta": Style("#117733", "star"),
    "lion": Style("#000000", "square"),
    "newton": Style("#661100", "triangle"),
    "rprop": Style("#88ccee", "circle"),
    "asgd": Style("#f0e442", "diamond"),
    "adafactor": Style("#cc79a7", "square"),
    "lbfgs": Style("#ee7733", "star"),
}


def style_of(optimizer: str, index: int = 0) -> Style:
    """The style of ``optimizer``; one this table does not list yet takes the palette and shapes by ``index``
    (its place in the optimizer registry), so it is still the same everywhere."""
    return STYLES.get(optimizer) or Style(PALETTE[index % len(PALETTE)], SHAPES[index % len(SHAPES)])
