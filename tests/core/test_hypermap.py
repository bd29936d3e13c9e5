"""Hyperparameter maps and the fair race: every cell is the single race with its two values, exactly."""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import pytest

from core.hypermap import (
    MAX_RACER_STEPS,
    PARALLEL_MIN,
    Axis,
    Outcome,
    hypermap,
    map_frames,
    numeric_axes,
    plan_map,
    race_outcome,
)
from core.race import run
from core.scene import Scene
from core.tune import tune


def scene_of(landscape: dict[str, Any], *racers: dict[str, Any], steps: int = 200) -> Scene:
    return Scene.model_validate({"landscape": landscape, "steps": steps, "racers": list(racers)})


def alone(scene: Scene, racer: int, values: dict[str, float]) -> dict[str, Any]:
    """The single race of racer ``racer`` with ``values`` (``schedule.<name>`` for a schedule's) set."""
    chosen = scene.filled().racers[racer].model_dump()
    for name, value in values.items():
        if name.startswith("schedule."):
            chosen["schedule"]["params"][name.removeprefix("schedule.")] = value
        else:
            chosen["params"][name] = value
    return run(Scene.model_validate({**scene.model_dump(), "racers": [chosen]}))["racers"][0]


def assert_cells_equal_single_races(scene: Scene, racer: int, result: dict[str, Any], picks: int, seed: int) -> None:
    rng = random.Random(seed)
    x, y = result["x"], result["y"]
    for _ in range(picks):
        j, i = rng.randrange(y["count"]), rng.randrange(x["count"])
        single = alone(scene, racer, {x["name"]: x["values"][i], y["name"]: y["values"][j]})
        assert result["status"][j][i] == single["status"]
        assert result["arrived_at"][j][i] == single["arrived_at"]
        assert result["diverged_at"][j][i] == single["diverged_at"]
        expected = None if single["status"] == "diverged" else max(0.0, single["loss"][-1] - result["minimum_value"])
        assert result["final_gap"][j][i] == expected  # exactly: the same race, bit for bit


def test_cells_of_adam_on_rosenbrock_equal_the_single_races() -> None:
    scene = scene_of(
        {"name": "rosenbrock"}, {"optimizer": "sgd"}, {"optimizer": "adam", "params": {"lr": 0.05}}, steps=500
    )
    result = hypermap(scene, 1, Axis("lr", 1e-3, 10.0, 12), Axis("beta1", 0.0, 0.99, 9))
    assert set(result["counts"]) == {"arrived", "running", "diverged", "invalid"}
    assert result["counts"]["arrived"] and result["counts"]["diverged"] and result["counts"]["running"]
    assert_cells_equal_single_races(scene, 1, result, picks=8, seed=1)


def test_cells_of_momentum_on_an_ill_conditioned_bowl_equal_the_single_races() -> None:
    scene = scene_of({"name": "bowl", "params": {"condition": 100}}, {"optimizer": "momentum"})
    result = hypermap(scene, 0, Axis("lr", 1e-3, 10.0, 10), Axis("momentum", 0.0, 0.99, 8))
    assert {"arrived", "diverged"} <= {s for row in result["status"] for s in row}
    assert_cells_equal_single_races(scene, 0, result, picks=8, seed=2)


def test_a_schedule_parameter_and_a_decay_on_a_one_minus_log_axis() -> None:
    scene = scene_of(
        {"name": "beale"},
        {"optimizer": "rmsprop", "params": {"lr": 0.05}, "schedule": {"name": "step", "params": {"gamma": 0.5}}},
    )
    result = hypermap(scene, 0, Axis("schedule.gamma", 0.1, 1.0, 6), Axis("alpha", 0.9, 0.9999, 5, "one_minus_log"))
    assert result["y"]["values"] == [0.9, 0.98222, 0.996838, 0.9994377, 0.9999]  # 1 − value: 0.1, 0.01778, …, 1e-4
    assert_cells_equal_single_races(scene, 0, result, picks=5, seed=3)


def test_one_minus_log_axis_spaces_one_minus_the_value_by_decades() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "adam"})
    result = hypermap(scene, 0, Axis("lr", 0.01, 0.1, 2), Axis("beta2", 0.9, 0.9999, 4, "one_minus_log"), "arrived_at")
    assert result["y"]["values"] == [0.9, 0.99, 0.999, 0.9999]
    assert result["metric"] == "arrived_at"


def test_axis_values_are_rounded_readably_and_stay_increasing() -> None:
    result = hypermap(
        scene_of({"name": "bowl"}, {"optimizer": "sgd"}, steps=3),
        0,
        Axis("lr", 1e-3, 1.0, 16),
        Axis("momentum", 0.9, 0.9001, 128),
    )
    lrs = result["x"]["values"]
    assert all(len(f"{v:.15g}".replace("0.", "").lstrip("0").replace(".", "")) <= 4 for v in lrs)
    momenta = result["y"]["values"]
    assert all(a < b for a, b in itertools.pairwise(momenta)) and len(momenta) == 128


def test_cells_breaking_a_cross_field_rule_are_invalid_and_the_rest_is_computed() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "nesterov"})
    result = hypermap(scene, 0, Axis("lr", 1e-3, 0.5, 4), Axis("momentum", 0.0, 0.9, 3))
    assert result["status"][0] == ["invalid"] * 4
    assert all(s != "invalid" for row in result["status"][1:] for s in row)
    assert result["counts"]["invalid"] == 4
    assert "momentum must be > 0" in result["invalid_reason"]
    single = alone(scene, 0, {"lr": result["x"]["values"][2], "momentum": result["y"]["values"][1]})
    assert result["arrived_at"][1][2] == single["arrived_at"]


def test_the_racers_own_setting_and_the_best_cell_are_reported() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "adam", "params": {"lr": 0.07, "beta1": 0.8}})
    result = hypermap(scene, 0, Axis("lr", 1e-3, 1.0, 6), Axis("beta1", 0.0, 0.99, 5))
    assert result["current"] == {"x": 0.07, "y": 0.8}
    best = result["best"]
    gaps = [g for row in result["final_gap"] for g in row if g is not None]
    assert best["final_gap"] == min(gaps)
    assert result["final_gap"][best["row"]][best["column"]] == best["final_gap"]


def test_streamed_rows_make_the_same_map() -> None:
    scene = scene_of({"name": "beale"}, {"optimizer": "adam", "params": {"lr": 0.1}}, steps=120)
    x, y = Axis("lr", 1e-3, 1.0, 7), Axis("beta1", 0.0, 0.99, 5)
    whole = hypermap(scene, 0, x, y)
    frames = list(map_frames(scene, 0, x, y, rows_per_frame=2))
    assert [f["type"] for f in frames] == ["header", "rows", "rows", "rows", "summary"]
    assert [f["first"] for f in frames[1:-1]] == [0, 2, 4]
    for key in ("status", "final_gap", "arrived_at", "diverged_at"):
        assert [row for f in frames[1:-1] for row in f[key]] == whole[key]


def test_numeric_axes_list_optimizer_then_schedule_numbers_but_no_flags() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "adam", "schedule": {"name": "cosine"}})
    assert list(numeric_axes(scene.filled(), 0)) == [
        "lr",
        "beta1",
        "beta2",
        "eps",
        "weight_decay",
        "schedule.T_max",
        "schedule.eta_min",
    ]


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (
            Axis("momentum"),
            Axis("lr"),
            r"map.x: adam has no numeric hyperparameter 'momentum'; expected one of: lr, beta1",
        ),
        (Axis("amsgrad"), Axis("lr"), r"no numeric hyperparameter 'amsgrad'"),
        (Axis("lr"), Axis("beta1", 0.0, 1.5), r"map.y.max: adam.beta1 must be a number in \[0, 1\), got 1.5"),
        (Axis("lr", -1.0, 1.0), Axis("beta1"), r"map.x.min: adam.lr must be a number in \[0, inf\), got -1.0"),
        (Axis("lr", 0.0, 1.0, scale="log"), Axis("beta1"), r"map.x.min must be > 0 on a log scale"),
        (Axis("lr", 1.0, 0.1), Axis("beta1"), r"map.x.min must be < map.x.max"),
        (Axis("lr", count=129), Axis("beta1"), r"map.x.count must be an integer in \[2, 128\]"),
        (Axis("lr"), Axis("lr"), r"two different hyperparameters"),
        (Axis("lr"), Axis("beta1", 0.5, 1.0 - 1e-12, scale="linear"), None),
        (Axis("lr"), Axis("eps", 1e-8, 0.5, scale="one_minus_log"), None),
        (
            Axis("lr"),
            Axis("weight_decay", 0.0, 1.0, scale="one_minus_log"),
            r"map.y.max must be < 1 on a one_minus_log",
        ),
        (Axis("lr"), Axis("beta1", scale="cubic"), r"map.y.scale must be one of: log, linear, one_minus_log"),  # type: ignore[arg-type]
    ],
)
def test_bad_axes_are_refused_naming_the_field(x: Axis, y: Axis, message: str | None) -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "adam"}, steps=5)
    small = Axis(x.name, x.min, x.max, min(x.count, 4) if x.count <= 128 else x.count, x.scale)
    if message is None:
        hypermap(scene, 0, small, Axis(y.name, y.min, y.max, 4, y.scale))
        return
    with pytest.raises(ValueError, match=message):
        hypermap(scene, 0, small, y)


def test_the_racer_index_must_exist() -> None:
    with pytest.raises(ValueError, match=r"map.racer must be an integer in \[0, 0\], got 3"):
        hypermap(scene_of({"name": "bowl"}, {"optimizer": "adam"}), 3, Axis("lr"), Axis("beta1"))


def test_too_much_work_is_refused_with_the_limit() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "adam"}, steps=2000)
    with pytest.raises(ValueError, match=f"≤ {MAX_RACER_STEPS:,} racer-steps; got 128 × 128 × 2000"):
        hypermap(scene, 0, Axis("lr", count=128), Axis("beta1", count=128))


def test_an_integer_schedule_parameter_takes_distinct_integers() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "sgd", "params": {"lr": 0.1}, "schedule": {"name": "step"}})
    result = hypermap(scene, 0, Axis("schedule.step_size", 1, 200, 5, "log"), Axis("lr", 0.01, 1.0, 3))
    assert result["x"]["values"] == [1, 4, 14, 53, 200]
    assert_cells_equal_single_races(scene, 0, result, picks=3, seed=4)
    with pytest.raises(ValueError, match=r"map.x.count must be ≤ 5, the number of integers in \[1, 5\]"):
        hypermap(scene, 0, Axis("schedule.step_size", 1, 5, 6), Axis("lr", 0.01, 1.0, 3))


# --- the fair race ---


def test_tune_gives_each_racer_its_best_lr_and_the_race_with_it() -> None:
    scene = scene_of({"name": "beale"}, {"optimizer": "sgd"}, {"optimizer": "adam"}, steps=500)
    result = tune(scene, lr_min=1e-4, lr_max=3.0, count=12, refine=5)
    assert result["objective"]["name"] == "arrival"
    for entry, raced in zip(result["racers"], result["race"]["racers"], strict=True):
        assert entry["found"] and entry["status"] == raced["status"] == "arrived"
        assert raced["arrived_at"] == entry["arrived_at"]
        assert (
            result["scene"]["racers"][len(result["racers"]) - 1 if entry["optimizer"] == "adam" else 0]["params"]["lr"]
            == entry["tuned"]["lr"]
        )
    # no candidate of the first grid arrives earlier and stays than the tuned lr
    for r, entry in enumerate(result["racers"]):
        for lr in (1e-4 * (3.0 / 1e-4) ** (k / 11) for k in range(12)):
            other = alone(scene, r, {"lr": float(f"{lr:.4g}")})
            if other["status"] == "arrived" and other["loss"][-1] <= 1e-6:  # beale's tolerance
                assert other["arrived_at"] >= entry["arrived_at"]


def test_tune_with_beta1_tunes_it_only_where_the_optimizer_has_one() -> None:
    scene = scene_of({"name": "bowl"}, {"optimizer": "momentum"}, {"optimizer": "adam"}, steps=100)
    result = tune(scene, lr_min=1e-3, lr_max=1.0, count=5, refine=0, beta1=True, objective="final_gap")
    assert set(result["racers"][0]["tuned"]) == {"lr"}
    assert set(result["racers"][1]["tuned"]) == {"lr", "beta1"}
    assert result["racers"][1]["tuned"]["beta1"] in result["search"]["beta1"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"objective": "fastest"}, r"objective must be one of: arrival, final_gap"),
        ({"lr_min": 1.0, "lr_max": 0.1}, r"0 < lr_min < lr_max"),
        ({"count": 2}, r"count must be an integer in \[3, 64\]"),
    ],
)
def test_bad_tunes_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tune(scene_of({"name": "bowl"}, {"optimizer": "sgd"}, steps=10), **options)


def test_a_big_map_races_in_two_threads_exactly_as_in_one() -> None:
    """From PARALLEL_MIN cells on, two halves race in two threads; noise included, every cell is the one race's."""
    scene = Scene.model_validate(
        {"landscape": {"name": "rosenbrock"}, "steps": 150, "noise": 0.5, "seed": 4, "racers": [{"optimizer": "adam"}]}
    )
    plan = plan_map(scene, 0, Axis("lr", 1e-3, 10.0, 24), Axis("beta1", 0.0, 0.99, 24))
    assert len(plan.entrants) >= PARALLEL_MIN

    def cells(outcome: Outcome) -> list[tuple[Any, ...]]:
        finals = [None if math.isnan(loss) else loss for loss in outcome.final_loss]
        return list(zip(finals, outcome.arrived_at, outcome.diverged_at, strict=True))

    one, two = (cells(race_outcome(plan.scene, plan.entrants, threads=n)) for n in (1, 2))
    assert two == one
    assert {status is not None for _, _, status in one} == {True, False}  # some diverged, some did not
    j, i = 17, 5  # and a cell of the second half is its single race
    single = alone(scene, 0, {"lr": plan.x.values[i], "beta1": plan.y.values[j]})
    assert two[j * 24 + i][1:] == (single["arrived_at"], single["diverged_at"])
