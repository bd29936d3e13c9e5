"""Optimizers: torch-exact trajectories from recorded gradients, hand-checked first steps, grouping, validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.optimizers import OPTIMIZERS, get_optimizer
from core.race import replay

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "optimizers.json").read_text())
INTERNALS = json.loads((Path(__file__).parents[1] / "reference" / "optimizer_internals.json").read_text())
ALL_CASES = REFERENCE["cases"] + [case for case in INTERNALS["cases"] if case["optimizer"] in OPTIMIZERS]
NOT_IN_TORCH = {"lion", "newton"}
BOOTH_HESSIAN = np.array([[10.0, 8.0], [8.0, 10.0]])  # core.race.replay's surface: Newton's H


class Racer:
    """One racer fed gradients by hand, update by update (core.race.replay)."""

    def __init__(self, name: str, params: dict | None = None, start: list[float] | None = None):
        self.name, self.params = name, params or {}
        self.start = start if start is not None else [0.0, 0.0]
        self.grads: list[list[float]] = []
        self.lrs: list[float] = []
        self.states: dict[str, np.ndarray] = {}

    def step(self, grad: list[float], lr: float) -> np.ndarray:
        self.grads.append(list(grad))
        self.lrs.append(lr)
        points, self.states = replay(self.name, self.params, self.start, self.grads, self.lrs)
        return points[-1]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.states[name][-1]


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[case["id"] for case in REFERENCE["cases"]])
def test_trajectory_matches_torch(case: dict) -> None:
    ours, _ = replay(case["optimizer"], case["params"], case["start"], case["grads"], case["lr_per_step"])
    assert len(ours) >= 100
    np.testing.assert_array_equal(ours, np.array(case["points"]))


def test_every_torch_optimizer_has_reference_cases() -> None:
    covered = {case["optimizer"] for case in ALL_CASES}
    assert set(OPTIMIZERS) - NOT_IN_TORCH <= covered


def test_reference_cases_cover_non_default_hyperparameters() -> None:
    for name in set(OPTIMIZERS) - NOT_IN_TORCH:
        spec = get_optimizer(name)
        defaults = {p.name: p.default for p in spec.params if p.name != "lr"}
        tuned = [
            case
            for case in ALL_CASES
            if case["optimizer"] == name and any(case["params"].get(k, v) != v for k, v in defaults.items())
        ]
        assert tuned, f"{name} has no reference case with non-default hyperparameters"


def test_momentum_first_two_steps_by_hand() -> None:
    """b₁ = g₁; b₂ = momentum·b₁ + (1 − dampening)·g₂; θ ← θ − lr·b."""
    racer = Racer("momentum", {"momentum": 0.5, "dampening": 0.25}, [1.0, -2.0])
    g1, g2 = np.array([2.0, 4.0]), np.array([-1.0, 1.0])
    theta1 = racer.step(list(g1), 0.1)
    np.testing.assert_allclose(theta1, np.array([1.0, -2.0]) - 0.1 * g1)
    theta2 = racer.step(list(g2), 0.1)
    np.testing.assert_allclose(theta2, theta1 - 0.1 * (0.5 * g1 + 0.75 * g2))
    np.testing.assert_allclose(racer["momentum_buffer"], 0.5 * g1 + 0.75 * g2)


def test_nesterov_first_step_adds_the_look_ahead() -> None:
    """Step 1: b = g, then g + momentum·b = (1 + momentum)·g."""
    racer = Racer("nesterov", {"momentum": 0.9})
    np.testing.assert_allclose(racer.step([1.0, -2.0], 0.1), -0.1 * 1.9 * np.array([1.0, -2.0]))


def test_adam_first_step_moves_every_coordinate_by_lr() -> None:
    """At t = 1, m̂ = g and √v̂ = |g|, so θ moves by lr·sign(g) (up to eps)."""
    racer = Racer("adam", {"eps": 0.0}, [3.0, -1.0])
    np.testing.assert_allclose(racer.step([1e-3, -50.0], 0.1), [3.0 - 0.1, -1.0 + 0.1], rtol=1e-12)
    np.testing.assert_allclose(racer["exp_avg"], 0.1 * np.array([1e-3, -50.0]))


def test_adamw_shrinks_theta_before_the_adam_step() -> None:
    racer = Racer("adamw", {"weight_decay": 0.5, "eps": 0.0}, [2.0, 2.0])
    np.testing.assert_allclose(racer.step([1.0, 1.0], 0.1), np.array([2.0, 2.0]) * (1 - 0.1 * 0.5) - 0.1)


def test_amsgrad_keeps_the_largest_second_moment() -> None:
    racer = Racer("amsgrad", {"beta2": 0.5})
    racer.step([2.0, 2.0], 0.1)
    racer.step([0.0, 0.0], 0.1)
    np.testing.assert_array_equal(racer["max_exp_avg_sq"], [0.5 * 4.0, 0.5 * 4.0])
    np.testing.assert_array_equal(racer["exp_avg_sq"], [0.25 * 4.0, 0.25 * 4.0])


def test_lion_steps_by_the_sign_of_the_blend() -> None:
    """u = sign(beta1·m + (1 − beta1)·g); m ← beta2·m + (1 − beta2)·g; θ ← θ − lr·(u + wd·θ)."""
    racer = Racer("lion", {"beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0})
    g1, g2 = np.array([5.0, -0.01]), np.array([-1.0, 1.0])
    theta1 = racer.step(list(g1), 0.1)
    np.testing.assert_allclose(theta1, [-0.1, 0.1])
    np.testing.assert_allclose(racer["exp_avg"], 0.01 * g1)
    theta2 = racer.step(list(g2), 0.1)
    blend = 0.9 * 0.01 * g1 + 0.1 * g2  # [0.045 - 0.1, -0.00009 + 0.1]
    np.testing.assert_allclose(theta2, theta1 - 0.1 * np.sign(blend))


def test_newton_reaches_a_quadratic_minimum_in_one_step() -> None:
    racer = Racer("newton", {"lr": 1.0}, [1.0, 2.0])
    grad = BOOTH_HESSIAN @ np.array([1.0, 2.0])  # the gradient of ½θᵀHθ
    np.testing.assert_allclose(racer.step(list(grad), 1.0), [0.0, 0.0], atol=1e-15)


def test_newton_damping_shortens_the_step() -> None:
    racer = Racer("newton", {"damping": 2.0}, [1.0, 1.0])
    step = np.linalg.solve(BOOTH_HESSIAN + 2.0 * np.eye(2), [2.0, 2.0])
    np.testing.assert_allclose(racer.step([2.0, 2.0], 1.0), np.array([1.0, 1.0]) - step)


def test_every_optimizer_has_a_rule_and_slider_specs() -> None:
    for spec in OPTIMIZERS.values():
        assert "θ" in spec.rule and "Update rule" in spec.rule, spec.name
        assert spec.params[0].name == "lr" and spec.params[0].scale == "log"
        for param in spec.params:
            assert param.help, (spec.name, param.name)
            if param.kind == "float":
                assert param.slider_min is not None and param.slider_max is not None


def test_every_update_rule_reads_as_plain_text() -> None:
    """The rule's block is what the page and the step inspector show a student, line by line: no markup in it."""
    for spec in OPTIMIZERS.values():
        block = spec.rule[spec.rule.index("Update rule") :].split("\n\n")[0]
        assert "`" not in block and "**" not in block, (spec.name, block)


def test_torch_defaults() -> None:
    assert get_optimizer("sgd").resolve({}) == {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0}
    assert get_optimizer("adamw").resolve({})["weight_decay"] == 0.01
    assert get_optimizer("adadelta").resolve({})["lr"] == 1.0
    assert get_optimizer("nadam").resolve({})["momentum_decay"] == 4e-3


def test_unknown_optimizer_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'; expected one of: sgd, momentum, .*adam"):
        get_optimizer("adamm")


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
        get_optimizer(name).resolve(params)
