"""Catalogue entries as JSON: what a landscape, an optimizer and a schedule look like to the API and the page."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.landscape_notes import SADDLES, SUGGESTED_LR
from core.landscapes import Landscape
from core.optimizers import OPTIMIZERS, OptimizerSpec
from core.palette import style_of
from core.schedules import Schedule


def landscape_json(landscape: Landscape) -> dict[str, Any]:
    surface = landscape.surface()
    d = landscape.domain
    return {
        "name": landscape.name,
        "title": landscape.title,
        "formula": landscape.formula,
        "lesson": landscape.lesson,
        "domain": {"x": [d.xmin, d.xmax], "y": [d.ymin, d.ymax]},
        "start": list(landscape.start),
        "minima": [{"point": list(m.point), "value": m.value, "kind": m.kind} for m in surface.minima],
        "tolerance": landscape.tolerance,
        "radius": landscape.radius,
        "log_scale": landscape.log_scale,
        "params": [p.to_json() for p in landscape.params],
        "saddles": [list(point) for point in SADDLES.get(landscape.name, getattr(landscape, "saddles", ()))],
        "suggested_lr": SUGGESTED_LR.get(landscape.name, {}),
    }


def optimizer_json(spec: OptimizerSpec) -> dict[str, Any]:
    """The spec, with the colour and marker shape its racers take everywhere (core.palette)."""
    style = style_of(spec.name, list(OPTIMIZERS).index(spec.name) if spec.name in OPTIMIZERS else 0)
    return {
        "name": spec.name,
        "title": spec.title,
        "summary": spec.summary,
        "rule": spec.rule,
        "torch": spec.torch,
        "fixed": dict(spec.fixed),
        "requires": [asdict(rule) for rule in spec.requires],
        "params": [p.to_json() for p in spec.params],
        "color": style.color,
        "marker": style.marker,
    }


def schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "title": schedule.title,
        "formula": schedule.formula,
        "torch": schedule.torch,
        "params": [p.to_json() for p in schedule.params],
    }
