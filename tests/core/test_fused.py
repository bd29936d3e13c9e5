"""The fused moment update steps every racer exactly as its own optimizer's init/update pair does."""

from __future__ import annotations

import numpy as np
import pytest

from core.fused import BLOCK, moment_form
from core.landscapes import get_landscape
from core.optimizers import get_optimizer
from core.race import Entrant, simulate
from core.schedules import lr_per_step

STEPS = BLOCK + 44  # crosses a block of coefficient tables

FUSABLE = [
    ("sgd", {"lr": 0.002}),
    ("sgd", {"lr": 0.001, "weight_decay": 0.3}),
    ("momentum", {"lr": 0.001, "momentum": 0.8, "dampening": 0.3}),
    ("momentum", {"lr": 0.001, "weight_decay": 0.1}),
    ("nesterov", {"lr": 0.001, "momentum": 0.7, "weight_decay": 0.05}),
    ("adagrad", {"lr": 0.3, "lr_decay": 0.01, "initial_accumulator_value": 0.4, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.2}),
    ("adam", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.1}),
    ("adam", {"lr": 0.05, "amsgrad": True, "eps": 1e-3}),
    ("amsgrad", {"lr": 0.02, "beta2": 0.9}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.5}),
    ("nadam", {"lr": 0.05, "momentum_decay": 0.01, "beta2": 0.95}),
    ("nadam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
]
NOT_FUSABLE = [
    ("rmsprop", {"momentum": 0.5}),
    ("rmsprop", {"centered": True}),
    ("adam", {"beta1": 0.3}),
    ("nadam", {"beta1": 0.5}),
    ("radam", {}),
    ("adamax", {}),
    ("adadelta", {}),
    ("lion", {}),
    ("newton", {}),
]
SCHEDULES = [("constant", {}), ("cosine", {"T_max": 100}), ("onecycle", {}), ("step", {"step_size": 7, "gamma": 0.7})]


def entrant(name: str, params: dict, schedule: tuple[str, dict]) -> Entrant:
    resolved = get_optimizer(name).resolve(params)
    return Entrant(name, resolved, lr_per_step(schedule[0], schedule[1], resolved["lr"], STEPS))


def race(entrants: list[Entrant], fuse: bool, landscape: str = "rosenbrock") -> np.ndarray:
    surface = get_landscape(landscape).surface()
    start = get_landscape(landscape).start
    (chunk,) = simulate(
        surface, start, entrants, STEPS, noise=0.5, seed=3, chunk_steps=STEPS + 1, fuse=fuse, engine="arrays"
    )
    return chunk.points


def assert_same_race(fused: np.ndarray, alone: np.ndarray) -> None:
    """Same finite points, bit for bit, and the same steps at which points stop being finite."""
    np.testing.assert_array_equal(np.isfinite(fused), np.isfinite(alone))
    finite = np.isfinite(fused)
    np.testing.assert_array_equal(fused[finite], alone[finite])


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_fused_paths_equal_each_optimizers_own_update_bit_for_bit(schedule: tuple[str, dict]) -> None:
    entrants = [entrant(name, params, schedule) for name, params in FUSABLE]
    fused = race(entrants, fuse=True)
    assert np.isfinite(fused).all()
    np.testing.assert_array_equal(fused, race(entrants, fuse=False))


@pytest.mark.parametrize(("name", "params"), FUSABLE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FUSABLE)])
def test_each_fusable_optimizer_alone_matches_its_update(name: str, params: dict) -> None:
    one = [entrant(name, params, ("constant", {}))]
    np.testing.assert_array_equal(race(one, fuse=True, landscape="beale"), race(one, fuse=False, landscape="beale"))


@pytest.mark.parametrize(("name", "params"), FUSABLE)
def test_the_common_optimizers_fit_the_fused_form(name: str, params: dict) -> None:
    spec = get_optimizer(name)
    assert moment_form(spec.factory, spec.factory_kwargs(spec.resolve(params))) is not None


@pytest.mark.parametrize(("name", "params"), NOT_FUSABLE)
def test_rules_outside_the_fused_form_step_on_their_own(name: str, params: dict) -> None:
    spec = get_optimizer(name)
    assert moment_form(spec.factory, spec.factory_kwargs(spec.resolve(params))) is None


def test_fused_and_unfused_racers_share_a_race() -> None:
    entrants = [entrant(n, p, ("cosine", {"T_max": 100})) for n, p in FUSABLE[:4] + NOT_FUSABLE[:5]]
    assert_same_race(race(entrants, fuse=True), race(entrants, fuse=False))


def test_divergence_happens_at_the_same_step_fused_or_not() -> None:
    entrants = [entrant("sgd", {"lr": 0.05}, ("constant", {})), entrant("adam", {"lr": 0.01}, ("constant", {}))]
    fused = race(entrants, fuse=True)
    assert_same_race(fused, race(entrants, fuse=False))
    assert not np.isfinite(fused[:, 0]).all()
