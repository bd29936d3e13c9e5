"""Step internals: per update, the gradient the optimizer saw, the step it took and its state under torch's names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.landscapes import get_landscape
from core.optimizers import OPTIMIZERS
from core.race import MAX_INTERNALS, race_frames, replay, run
from core.scene import Scene

SCENE = {
    "landscape": {"name": "rosenbrock"},
    "steps": 40,
    "noise": 0.2,
    "seed": 4,
    "l1": 0.01,
    "l2": 0.02,
    "racers": [{"optimizer": name, "params": {"lr": 1e-3}} for name in sorted(OPTIMIZERS)[:16]],
}


def test_each_update_has_its_gradient_step_and_state() -> None:
    result = run(Scene.model_validate(SCENE), internals=True)
    surface = get_landscape("rosenbrock").surface(l1=0.01, l2=0.02)
    noise = 0.2 * np.random.default_rng(4).standard_normal((40, 2))
    for racer in result["racers"]:
        inside, path = racer["internals"], np.array(racer["path"])
        assert len(inside["grad"]) == len(inside["update"]) == len(path) - 1 == 40, racer["optimizer"]
        np.testing.assert_array_equal(np.array(inside["update"]), path[1:] - path[:-1])
        np.testing.assert_array_equal(np.array(inside["grad"]), surface.grad(path[:-1]) + noise)


def test_the_state_is_what_the_rule_holds_after_each_update() -> None:
    """Fed the recorded gradients alone, each racer's rule ends in the state its internals report."""
    result = run(Scene.model_validate(SCENE), internals=True)
    for racer, given in zip(result["racers"], result["scene"]["racers"], strict=True):
        if racer["optimizer"] in ("newton", "lbfgs"):
            continue  # Newton's Hessian and L-BFGS's evaluations are the landscape's, which replay does not feed
        inside = racer["internals"]
        points, states = replay(racer["optimizer"], given["params"], racer["path"][0], inside["grad"], racer["lr"])
        np.testing.assert_array_equal(points, np.array(racer["path"][1:]))
        for name, values in inside["state"].items():
            np.testing.assert_array_equal(states[name], np.array(values), err_msg=f"{racer['optimizer']}.{name}")


@pytest.mark.parametrize(
    ("optimizer", "params", "names"),
    [
        ("sgd", {}, set()),
        ("momentum", {}, {"momentum_buffer"}),
        ("rmsprop", {}, {"step", "square_avg"}),
        ("rmsprop", {"momentum": 0.5, "centered": True}, {"step", "square_avg", "momentum_buffer", "grad_avg"}),
        ("adam", {}, {"step", "exp_avg", "exp_avg_sq"}),
        ("adam", {"amsgrad": True}, {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
        ("adagrad", {}, {"step", "sum"}),
        ("nadam", {}, {"step", "exp_avg", "exp_avg_sq", "mu_product"}),
        ("adamax", {}, {"step", "exp_avg", "exp_inf"}),
        ("adadelta", {}, {"step", "square_avg", "acc_delta"}),
        ("rprop", {}, {"step", "prev", "step_size"}),
        ("asgd", {}, {"step", "eta", "mu", "ax"}),
        ("adafactor", {}, {"step", "variance"}),
        ("lion", {}, {"exp_avg"}),
        ("newton", {}, set()),
    ],
)
def test_state_has_torchs_names_for_these_hyperparameters(optimizer: str, params: dict, names: set[str]) -> None:
    scene = Scene.model_validate({"steps": 3, "racers": [{"optimizer": optimizer, "params": params}]})
    assert set(run(scene, internals=True)["racers"][0]["internals"]["state"]) == names


def test_a_diverging_racer_has_internals_up_to_its_last_finite_point() -> None:
    scene = Scene.model_validate(
        {"landscape": {"name": "rosenbrock"}, "steps": 50, "racers": [{"optimizer": "sgd", "params": {"lr": 10.0}}]}
    )
    racer = run(scene, internals=True)["racers"][0]
    assert racer["status"] == "diverged"
    assert len(racer["internals"]["grad"]) == len(racer["path"]) - 1
    json.dumps(racer, allow_nan=False)


def test_streamed_internals_concatenate_to_the_whole_race() -> None:
    scene = Scene.model_validate(SCENE)
    whole = run(scene, internals=True)
    chunks = [frame for frame in race_frames(scene, chunk_steps=7, internals=True) if frame["type"] == "chunk"]
    for i, racer in enumerate(whole["racers"]):
        joined = {key: [v for c in chunks for v in c["racers"][i]["internals"][key]] for key in ("grad", "update")}
        assert joined == {key: racer["internals"][key] for key in ("grad", "update")}
        for name, values in racer["internals"]["state"].items():
            assert [v for c in chunks for v in c["racers"][i]["internals"]["state"][name]] == values


def test_without_internals_the_result_is_unchanged() -> None:
    scene = Scene.model_validate(SCENE)
    plain, inside = run(scene), run(scene, internals=True)
    for racer in inside["racers"]:
        racer.pop("internals")
    assert plain == inside


def test_internals_are_limited_by_racers_times_steps() -> None:
    scene = Scene.model_validate({"steps": MAX_INTERNALS // 4 + 1})  # the lecture's four
    with pytest.raises(ValueError, match=rf"internals are limited to racers × steps ≤ {MAX_INTERNALS}; got 4 × "):
        run(scene, internals=True)
