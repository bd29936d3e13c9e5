"""Optimizers: torch-exact trajectories from recorded gradients, hand-checked first steps, grouping, validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.optimizers import OPTIMIZERS, get_optimizer, make_group_optimizer, make_optimizer

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "optimizers.json").read_text())
NOT_IN_TORCH = {"lion", "newton"}


def replay(name: str, params: dict, start: list[float], grads: list, lrs: list[float]) -> np.ndarray:
    """Feed the recorded gradients one step at a time; return the points after each step."""
    optimizer = make_optimizer(name, params)
    points = np.array([start], dtype=float)
    state = optimizer.init(points)
    after = []
    for grad, lr in zip(grads, lrs, strict=True):
        points, state = optimizer.update(points, np.array([grad]), state, lr)
        after.append(points[0].copy())
    return np.array(after)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[case["id"] for case in REFERENCE["cases"]])
def test_trajectory_matches_torch(case: dict) -> None:
    ours = replay(case["optimizer"], case["params"], case["start"], case["grads"], case["lr_per_step"])
    assert len(ours) >= 100
    np.testing.assert_allclose(ours, np.array(case["points"]), rtol=1e-10, atol=1e-300)


def test_every_torch_optimizer_has_reference_cases() -> None:
    covered = {case["optimizer"] for case in REFERENCE["cases"]}
    assert set(OPTIMIZERS) - NOT_IN_TORCH <= covered


def test_reference_cases_cover_non_default_hyperparameters() -> None:
    for name in set(OPTIMIZERS) - NOT_IN_TORCH:
        spec = get_optimizer(name)
        defaults = {p.name: p.default for p in spec.params if p.name != "lr"}
        tuned = [
            case
            for case in REFERENCE["cases"]
            if case["optimizer"] == name and any(case["params"].get(k, v) != v for k, v in defaults.items())
        ]
        assert tuned, f"{name} has no reference case with non-default hyperparameters"


def test_momentum_first_two_steps_by_hand() -> None:
    """b₁ = g₁; b₂ = momentum·b₁ + (1 − dampening)·g₂; θ ← θ − lr·b."""
    opt = make_optimizer("momentum", {"momentum": 0.5, "dampening": 0.25})
    theta = np.array([[1.0, -2.0]])
    state = opt.init(theta)
    g1, g2 = np.array([[2.0, 4.0]]), np.array([[-1.0, 1.0]])
    theta1, state = opt.update(theta, g1, state, 0.1)
    np.testing.assert_allclose(theta1, theta - 0.1 * g1)
    theta2, _ = opt.update(theta1, g2, state, 0.1)
    np.testing.assert_allclose(theta2, theta1 - 0.1 * (0.5 * g1 + 0.75 * g2))


def test_nesterov_first_step_adds_the_look_ahead() -> None:
    """Step 1: b = g, then g + momentum·b = (1 + momentum)·g."""
    opt = make_optimizer("nesterov", {"momentum": 0.9})
    theta = np.array([[0.0, 0.0]])
    new, _ = opt.update(theta, np.array([[1.0, -2.0]]), opt.init(theta), 0.1)
    np.testing.assert_allclose(new, -0.1 * 1.9 * np.array([[1.0, -2.0]]))


def test_adam_first_step_moves_every_coordinate_by_lr() -> None:
    """At t = 1, m̂ = g and √v̂ = |g|, so θ moves by lr·sign(g) (up to eps)."""
    opt = make_optimizer("adam", {"eps": 0.0})
    theta = np.array([[3.0, -1.0]])
    new, state = opt.update(theta, np.array([[1e-3, -50.0]]), opt.init(theta), 0.1)
    np.testing.assert_allclose(new, theta - 0.1 * np.array([[1.0, -1.0]]), rtol=1e-12)
    assert state.step == 1


def test_adamw_shrinks_theta_before_the_adam_step() -> None:
    opt = make_optimizer("adamw", {"weight_decay": 0.5, "eps": 0.0})
    theta = np.array([[2.0, 2.0]])
    new, _ = opt.update(theta, np.array([[1.0, 1.0]]), opt.init(theta), 0.1)
    np.testing.assert_allclose(new, theta * (1 - 0.1 * 0.5) - 0.1)


def test_lion_steps_by_the_sign_of_the_blend() -> None:
    """u = sign(beta1·m + (1 − beta1)·g); m ← beta2·m + (1 − beta2)·g; θ ← θ − lr·(u + wd·θ)."""
    opt = make_optimizer("lion", {"beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0})
    theta = np.array([[0.0, 0.0]])
    g1, g2 = np.array([[5.0, -0.01]]), np.array([[-1.0, 1.0]])
    theta1, state = opt.update(theta, g1, opt.init(theta), 0.1)
    np.testing.assert_allclose(theta1, [[-0.1, 0.1]])
    np.testing.assert_allclose(state.exp_avg, 0.01 * g1)
    theta2, _ = opt.update(theta1, g2, state, 0.1)
    blend = 0.9 * 0.01 * g1 + 0.1 * g2  # [[0.045 - 0.1, -0.00009 + 0.1]]
    np.testing.assert_allclose(theta2, theta1 - 0.1 * np.sign(blend))


def test_newton_reaches_a_quadratic_minimum_in_one_step() -> None:
    hessian = np.array([[[4.0, 1.0], [1.0, 3.0]]])
    theta = np.array([[1.0, 2.0]])
    grad = (hessian[0] @ theta[0])[None]
    opt = make_optimizer("newton", {"lr": 1.0})
    new, _ = opt.update(theta, grad, opt.init(theta), 1.0, hessians=hessian)
    np.testing.assert_allclose(new, [[0.0, 0.0]], atol=1e-15)


def test_newton_damping_shortens_the_step() -> None:
    hessian = np.array([[[2.0, 0.0], [0.0, 2.0]]])
    opt = make_optimizer("newton", {"damping": 2.0})
    new, _ = opt.update(
        np.array([[1.0, 1.0]]), np.array([[2.0, 2.0]]), opt.init(np.zeros((1, 2))), 1.0, hessians=hessian
    )
    np.testing.assert_allclose(new, [[0.5, 0.5]])


MIXED_GROUPS = {
    "sgd": [("sgd", {}), ("momentum", {"dampening": 0.3}), ("nesterov", {"momentum": 0.5, "weight_decay": 0.1})],
    "adam": [("adam", {}), ("amsgrad", {"beta1": 0.5}), ("adamw", {"weight_decay": 0.2}), ("adam", {"amsgrad": True})],
    "rmsprop": [("rmsprop", {}), ("rmsprop", {"centered": True, "momentum": 0.5}), ("rmsprop", {"alpha": 0.9})],
    "nadam": [("nadam", {}), ("nadam", {"weight_decay": 0.1, "decoupled_weight_decay": True})],
    "radam": [("radam", {}), ("radam", {"beta2": 0.5}), ("radam", {"weight_decay": 0.1})],
    "adagrad": [("adagrad", {}), ("adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.5})],
    "adamax": [("adamax", {}), ("adamax", {"beta1": 0.3, "weight_decay": 0.1})],
    "adadelta": [("adadelta", {}), ("adadelta", {"rho": 0.5, "eps": 1e-3})],
    "lion": [("lion", {}), ("lion", {"beta1": 0.5, "weight_decay": 0.0})],
}


@pytest.mark.parametrize("family", MIXED_GROUPS)
def test_a_group_steps_exactly_like_its_racers_alone(family: str) -> None:
    """Racers with different hyperparameters in one group follow the paths they follow alone, bit for bit."""
    members = MIXED_GROUPS[family]
    rng = np.random.default_rng(7)
    lrs = np.array([[0.05], [0.01], [0.1], [0.02]])[: len(members)]
    start = rng.normal(size=(len(members), 2))
    kwargs = [get_optimizer(n).factory_kwargs(get_optimizer(n).resolve(p)) for n, p in members]
    group = make_group_optimizer(get_optimizer(members[0][0]).factory, kwargs)
    alone = [make_optimizer(n, p) for n, p in members]
    points, state = start.copy(), group.init(start)
    singles = [(start[i : i + 1].copy(), opt.init(start[i : i + 1])) for i, opt in enumerate(alone)]
    for _ in range(30):
        grads = np.sin(3 * points) + points  # any smooth gradient field
        points, state = group.update(points, grads, state, lrs)
        for i, opt in enumerate(alone):
            p, s = singles[i]
            singles[i] = opt.update(p, np.sin(3 * p) + p, s, float(lrs[i, 0]))
    np.testing.assert_array_equal(points, np.vstack([p for p, _ in singles]))


def test_every_optimizer_has_a_rule_and_slider_specs() -> None:
    for spec in OPTIMIZERS.values():
        assert "θ" in spec.rule and "Update rule" in spec.rule, spec.name
        assert spec.params[0].name == "lr" and spec.params[0].scale == "log"
        for param in spec.params:
            assert param.help, (spec.name, param.name)
            if param.kind == "float":
                assert param.slider_min is not None and param.slider_max is not None


def test_torch_defaults() -> None:
    assert get_optimizer("sgd").resolve({}) == {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0}
    assert get_optimizer("adamw").resolve({})["weight_decay"] == 0.01
    assert get_optimizer("adadelta").resolve({})["lr"] == 1.0
    assert get_optimizer("nadam").resolve({})["momentum_decay"] == 4e-3


def test_unknown_optimizer_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'; expected one of: sgd, momentum, .*adam"):
        make_optimizer("adamm")


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("adam", {"beta1": 1.0}, r"adam\.beta1 must be a number in \[0, 1\), got 1\.0"),
        ("adam", {"lr": -0.1}, r"adam\.lr must be a number in \[0, inf\)"),
        ("sgd", {"momentum": -1}, r"sgd\.momentum must be"),
        ("rmsprop", {"centered": "maybe"}, r"rmsprop\.centered must be true or false"),
        ("adam", {"betas": [0.9, 0.99]}, r"adam has no parameter 'betas'; expected one of: lr, beta1"),
        ("nesterov", {"momentum": 0.0}, r"nesterov\.momentum must be > 0"),
        ("adam", {"lr": float("nan")}, r"adam\.lr must be"),
    ],
)
def test_bad_hyperparameters_are_named(name: str, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, params)
