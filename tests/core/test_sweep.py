"""The learning-rate sweep: one vectorized run per racer × rate, SGD blowing up before Adam."""

from __future__ import annotations

import numpy as np
import pytest

from core.race import run
from core.scene import Scene
from core.sweep import log_spaced, sweep


def bowl_scene(*optimizers: str) -> Scene:
    return Scene.model_validate(
        {"landscape": {"name": "bowl"}, "steps": 200, "racers": [{"optimizer": name} for name in optimizers]}
    )


def test_rates_are_log_spaced() -> None:
    np.testing.assert_allclose(log_spaced(1e-3, 10.0, 5), [1e-3, 1e-2, 1e-1, 1.0, 10.0])


def test_sgd_is_the_first_to_blow_up_and_adam_the_last() -> None:
    result = sweep(bowl_scene("sgd", "momentum", "adam"), 1e-3, 30.0, 24)
    first_divergent = {
        r["optimizer"]: next((lr for lr, d in zip(result["lrs"], r["diverged_at"], strict=True) if d is not None), None)
        for r in result["racers"]
    }
    assert first_divergent["sgd"] is not None and 1.5 < first_divergent["sgd"] < 3.0  # 2/L with L = 1
    assert first_divergent["adam"] is None or first_divergent["adam"] > first_divergent["sgd"]


def test_each_cell_equals_the_race_run_alone() -> None:
    scene = bowl_scene("rmsprop")
    result = sweep(scene, 1e-2, 1.0, 3)
    for lr, gap, arrived in zip(
        result["lrs"], result["racers"][0]["final_gap"], result["racers"][0]["arrived_at"], strict=True
    ):
        alone = run(
            Scene.model_validate({**scene.model_dump(), "racers": [{"optimizer": "rmsprop", "params": {"lr": lr}}]})
        )
        assert alone["racers"][0]["arrived_at"] == arrived
        assert alone["racers"][0]["loss"][-1] == pytest.approx(gap, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(
    ("lr_min", "lr_max", "count", "message"),
    [(0.0, 1.0, 8, "0 < lr_min < lr_max"), (1.0, 0.5, 8, "0 < lr_min < lr_max"), (1e-3, 1.0, 1, r"count must be")],
)
def test_bad_sweeps_are_refused(lr_min: float, lr_max: float, count: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sweep(bowl_scene("sgd"), lr_min, lr_max, count)


def test_too_many_races_are_refused() -> None:
    with pytest.raises(ValueError, match=r"racers × count ≤ 1024"):
        sweep(bowl_scene(*["sgd"] * 16), 1e-3, 1.0, 65)
