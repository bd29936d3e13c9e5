"""The race: descent, arrival, divergence, determinism, grouping, chunks, schedules and regularization."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.landscapes import get_landscape
from core.optimizers import OPTIMIZERS
from core.palette import GOLD
from core.race import BOUND_FACTOR, race_frames, run
from core.scene import Racer, Scene
from core.schedules import lr_per_step

# A learning rate at which each optimizer makes steady progress on both landscapes.
STEADY_LR = {
    "sgd": 1e-3,
    "momentum": 1e-4,
    "nesterov": 1e-4,
    "adadelta": 1.0,
    "newton": 0.5,
    "lion": 1e-3,
    "asgd": 1e-3,
}


def race(landscape: str = "beale", steps: int = 200, **scene) -> dict:
    racers = scene.pop("racers", None) or [{"optimizer": "adam", "params": {"lr": 0.1}}]
    return run(Scene.model_validate({"landscape": {"name": landscape}, "steps": steps, "racers": racers, **scene}))


@pytest.mark.parametrize("landscape", ["bowl", "rosenbrock"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_descends(name: str, landscape: str) -> None:
    result = race(landscape, 300, racers=[{"optimizer": name, "params": {"lr": STEADY_LR.get(name, 1e-2)}}])
    racer = result["racers"][0]
    assert racer["status"] != "diverged"
    assert racer["loss"][-1] < racer["loss"][0]


def test_path_starts_at_start_and_has_one_point_per_step() -> None:
    result = race(steps=50, start=[0.5, 0.5])
    racer = result["racers"][0]
    assert racer["path"][0] == [0.5, 0.5]
    assert len(racer["path"]) == len(racer["loss"]) == 51
    assert len(racer["lr"]) == 50


def test_default_scene_tells_the_lecture_story() -> None:
    result = run(Scene())
    arrived = {r["label"]: r["arrived_at"] for r in result["racers"]}
    assert all(r["status"] == "arrived" for r in result["racers"])
    assert arrived["Adam"] < arrived["Momentum"] < arrived["SGD"]


def test_arrival_is_the_first_step_near_a_minimum_within_tolerance() -> None:
    result = race("bowl", 400, racers=[{"optimizer": "momentum", "params": {"lr": 0.1}}])
    racer = result["racers"][0]
    landscape = get_landscape("bowl")
    k = racer["arrived_at"]
    assert racer["status"] == "arrived" and k is not None

    def at_minimum(i: int) -> bool:
        return math.dist(racer["path"][i], (0.0, 0.0)) <= landscape.radius and racer["loss"][i] <= landscape.tolerance

    assert at_minimum(k)
    assert not any(at_minimum(i) for i in range(k))


def test_newton_reaches_the_bowl_minimum_in_one_step() -> None:
    result = race("bowl", 5, racers=[{"optimizer": "newton", "params": {"lr": 1.0}}])
    assert result["racers"][0]["arrived_at"] == 1
    np.testing.assert_allclose(result["racers"][0]["path"][1], [0.0, 0.0], atol=1e-12)


def test_too_large_a_learning_rate_diverges_with_finite_json() -> None:
    result = race("rosenbrock", 500, racers=[{"optimizer": "sgd", "params": {"lr": 10.0}}])
    racer = result["racers"][0]
    assert racer["status"] == "diverged"
    k = racer["diverged_at"]
    assert 0 < k < 10
    assert len(racer["path"]) == len(racer["loss"]) == k
    assert len(racer["lr"]) == 500
    text = json.dumps(result, allow_nan=False)  # raises on NaN or Infinity
    assert "NaN" not in text and "Infinity" not in text


def test_leaving_the_bound_is_divergence_even_when_finite() -> None:
    """SGD with lr just above 2/L on the bowl grows geometrically: finite for long, but out of bounds."""
    result = race("bowl", 2000, racers=[{"optimizer": "sgd", "params": {"lr": 2.05}}])
    racer = result["racers"][0]
    assert racer["status"] == "diverged"
    domain = get_landscape("bowl").domain
    limit = domain.xmax + BOUND_FACTOR * (domain.xmax - domain.xmin)
    assert all(abs(x) <= limit and abs(y) <= limit for x, y in racer["path"])
    assert all(math.isfinite(v) for v in racer["loss"])


def test_sgd_blows_up_where_adam_stays_stable() -> None:
    result = race(
        "bowl", 300, racers=[{"optimizer": "sgd", "params": {"lr": 3.0}}, {"optimizer": "adam", "params": {"lr": 3.0}}]
    )
    sgd, adam = result["racers"]
    assert sgd["status"] == "diverged" and adam["status"] != "diverged"


def test_a_noisy_race_is_reproducible_from_its_seed() -> None:
    scene = {"noise": 0.5, "seed": 42, "racers": [{"optimizer": "sgd", "params": {"lr": 0.01}}]}
    assert race(**dict(scene)) == race(**dict(scene))
    other = race(**{**scene, "seed": 43})
    assert other["racers"][0]["path"] != race(**dict(scene))["racers"][0]["path"]


def test_adding_a_racer_leaves_the_others_paths_unchanged() -> None:
    sgd = {"optimizer": "sgd", "params": {"lr": 0.01}}
    adam = {"optimizer": "adam", "params": {"lr": 0.1, "beta1": 0.8}}
    alone = race(noise=0.3, seed=1, racers=[sgd])["racers"][0]["path"]
    together = race(noise=0.3, seed=1, racers=[adam, sgd, {**adam, "params": {"lr": 0.05}}])["racers"][1]["path"]
    assert alone == together


def test_racers_of_one_family_race_together_exactly_as_alone() -> None:
    racers = [
        {"optimizer": "adam", "params": {"lr": 0.1}},
        {"optimizer": "adamw", "params": {"lr": 0.05, "weight_decay": 0.1}},
        {"optimizer": "amsgrad", "params": {"lr": 0.2, "beta2": 0.9}, "schedule": {"name": "cosine"}},
        {"optimizer": "momentum", "params": {"lr": 0.003}},
        {"optimizer": "nesterov", "params": {"lr": 0.002, "momentum": 0.8}},
    ]
    together = race(steps=150, racers=racers)["racers"]
    for racer, result in zip(racers, together, strict=True):
        assert race(steps=150, racers=[racer])["racers"][0]["path"] == result["path"]


def test_lr_per_step_follows_the_schedule() -> None:
    schedule = {"name": "step", "params": {"step_size": 10, "gamma": 0.5}}
    result = race(steps=40, racers=[{"optimizer": "sgd", "params": {"lr": 0.01}, "schedule": schedule}])
    np.testing.assert_array_equal(result["racers"][0]["lr"], lr_per_step("step", schedule["params"], 0.01, 40))


def test_streamed_chunks_concatenate_to_the_whole_race() -> None:
    scene = Scene(steps=123, racers=[Racer(optimizer="sgd", params={"lr": 0.03}), Racer(optimizer="lion")])
    frames = list(race_frames(scene, chunk_steps=10))
    assert frames[0]["type"] == "header" and frames[-1]["type"] == "summary"
    chunks = frames[1:-1]
    assert [c["first"] for c in chunks] == list(range(0, 124, 10))
    whole = run(scene)
    for i, racer in enumerate(whole["racers"]):
        for key in ("path", "loss", "lr"):
            assert [v for c in chunks for v in c["racers"][i][key]] == racer[key]
        assert frames[-1]["racers"][i]["status"] == racer["status"]


def test_result_echoes_the_filled_scene() -> None:
    result = race(steps=10)
    scene = result["scene"]
    assert scene["start"] == [1.0, 1.5]
    assert scene["racers"][0]["params"]["beta2"] == 0.999
    assert scene["racers"][0]["schedule"] == {"name": "constant", "params": {}}
    assert scene["racers"][0]["label"] == "Adam" and scene["racers"][0]["color"] == GOLD


def test_regularization_moves_the_minimum_and_the_path() -> None:
    plain = race("bowl", 300, racers=[{"optimizer": "adam", "params": {"lr": 0.1}}])
    penalized = race("bowl", 300, l1=0.5, racers=[{"optimizer": "adam", "params": {"lr": 0.1}}])
    assert plain["racers"][0]["path"] != penalized["racers"][0]["path"]
    assert penalized["minima"][0]["value"] == pytest.approx(0.0, abs=1e-9)  # the L1 kink keeps the origin
    shifted = race("himmelblau", 10, l2=1.0)["minima"]
    surface = get_landscape("himmelblau").surface(l2=1.0)
    plain_norms = sorted(math.hypot(*m.point) for m in get_landscape("himmelblau").surface().minima)
    assert shifted and all(np.allclose(surface.grad(np.array(m["point"])), 0.0, atol=1e-6) for m in shifted)
    assert min(math.hypot(*m["point"]) for m in shifted) < plain_norms[0]  # pulled towards the origin
