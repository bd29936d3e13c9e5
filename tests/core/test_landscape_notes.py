"""Suggested learning rates descend without diverging; marked saddle points are saddle points."""

from __future__ import annotations

import numpy as np
import pytest

from core.landscape_notes import SADDLES, SUGGESTED_LR, suggested_lr
from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.race import run
from core.scene import Scene


def test_every_landscape_suggests_a_rate_for_every_optimizer_in_the_specs_range() -> None:
    assert set(SUGGESTED_LR) == set(LANDSCAPES) - {"custom"}  # a typed formula has no table: torch's defaults
    for landscape, rates in SUGGESTED_LR.items():
        assert set(rates) <= set(OPTIMIZERS), landscape
        for optimizer, lr in rates.items():
            spec = next(p for p in OPTIMIZERS[optimizer].params if p.name == "lr")
            assert spec.slider_min <= lr <= spec.slider_max, (landscape, optimizer, lr)
    assert suggested_lr("beale", "no such optimizer") is None


@pytest.mark.parametrize("landscape", sorted(SUGGESTED_LR))
def test_suggested_rates_descend_and_never_diverge(landscape: str) -> None:
    rates = SUGGESTED_LR[landscape]
    scene = Scene.model_validate(
        {
            "landscape": {"name": landscape},
            "steps": 500,
            "racers": [{"optimizer": name, "params": {"lr": lr}} for name, lr in rates.items()],
        }
    )
    result = run(scene)
    for racer in result["racers"]:
        assert racer["status"] != "diverged", (landscape, racer["optimizer"])
        assert racer["loss"][-1] < racer["loss"][0], (landscape, racer["optimizer"])


@pytest.mark.parametrize("landscape", sorted(SADDLES))
def test_marked_saddles_are_saddle_points_inside_the_map(landscape: str) -> None:
    meta = LANDSCAPES[landscape]
    surface = meta.surface()
    for point in SADDLES[landscape]:
        x, y = point
        assert meta.domain.xmin <= x <= meta.domain.xmax and meta.domain.ymin <= y <= meta.domain.ymax
        assert np.linalg.norm(surface.grad(point)) < 1e-6, point
        low, high = np.linalg.eigvalsh(surface.hessian(point))
        assert low < 0 < high, point
