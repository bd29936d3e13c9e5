"""Every optimizer against torch 2.13, bit for bit: points after every update, and the state torch keeps.

tests/reference/optimizer_internals.json (made by tests/reference/make_optimizer_refs.py in a scratch torch
venv) records, per case, the gradients fed, the learning rate of each step, the parameter after each step and
``optimizer.state[p]`` after each step under torch's names. The race loop replays the same gradients;
L-BFGS, which evaluates its landscape itself (a closure), races on the same landscape instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.landscapes import get_landscape
from core.optimizers import OPTIMIZERS, get_optimizer
from core.race import Entrant, Race, replay

DATA = json.loads((Path(__file__).parents[1] / "reference" / "optimizer_internals.json").read_text())
CASES = [case for case in DATA["cases"] if case["optimizer"] in OPTIMIZERS and case["optimizer"] != "lbfgs"]
LBFGS = [case for case in DATA["cases"] if case["optimizer"] == "lbfgs"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_points_and_state_equal_torchs_after_every_update(case: dict) -> None:
    points, state = replay(case["optimizer"], case["params"], case["start"], case["grads"], case["lr_per_step"])
    np.testing.assert_array_equal(points, np.array(case["points"]))
    updates = np.diff(np.vstack([case["start"], points]), axis=0)
    np.testing.assert_array_equal(updates, np.array(case["updates"]))
    torch_state = {name: values for name, values in case["state"].items() if values[0] is not None}
    assert set(state) == set(torch_state)
    for name, values in torch_state.items():
        np.testing.assert_array_equal(state[name], np.array(values, dtype=float), err_msg=name)


def test_every_torch_optimizer_is_checked() -> None:
    covered = {case["optimizer"] for case in CASES + LBFGS}
    assert covered == set(OPTIMIZERS) - {"lion", "newton"}


def lbfgs_race(case: dict) -> tuple[Race, np.ndarray, dict]:
    """The case's one L-BFGS racer on its landscape, every update kept, with internals.

    The file's "quadratic" is the bowl's formula ½·θ·(Aθ) with A = [[10, 4], [4, 2]] (a11, a12, a22),
    which no condition/angle of the bowl gives exactly: its compiled parameters are set directly.
    """
    landscape = get_landscape("bowl" if case["landscape"] == "quadratic" else case["landscape"])
    surface = landscape.surface()
    if case["landscape"] == "quadratic":
        kind, _, program, constants = surface.compiled
        surface.compiled = (kind, np.array([10.0, 4.0, 2.0]), program, constants)
    steps = len(case["lr_per_step"])
    entrant = Entrant("lbfgs", get_optimizer("lbfgs").resolve(case["params"]), np.array(case["lr_per_step"]))
    race = Race(surface, case["start"], [entrant], steps, internals=True)
    race.bounds = np.array([-np.inf, -np.inf, np.inf, np.inf])  # as torch: nothing stops the racer
    race.minima = np.zeros((0, 3))
    chunk = next(race.chunks(steps + 1))
    return race, chunk.points[0], race.internals_json(0, chunk, steps + 1)


@pytest.mark.parametrize("case", LBFGS, ids=[case["id"] for case in LBFGS])
def test_lbfgs_equals_torchs_closure_calls_points_and_state_after_every_step(case: dict) -> None:
    race, path, internals = lbfgs_race(case)
    np.testing.assert_array_equal(path[1:], np.array(case["points"]))
    np.testing.assert_array_equal(np.diff(path, axis=0), np.array(case["updates"]))
    # the first closure call of each step is the racer's point: its gradient is the one recorded
    assert internals["grad"] == case["grads"] == [evals[0][3:] for evals in case["evals"]]
    assert [evals[0][:2] for evals in case["evals"]] == path[:-1].tolist()
    per_step = np.diff([0, *internals["state"]["func_evals"]]).tolist()
    assert per_step == case["func_evals_per_step"] == [len(evals) for evals in case["evals"]]
    assert race.evaluations(0) == sum(case["func_evals_per_step"])
    assert set(internals["state"]) == set(case["state"])
    for name, values in case["state"].items():
        assert internals["state"][name] == values, name  # ==: bit for bit, None where torch has no entry yet


def test_lbfgs_cases_cover_both_line_searches_both_exits_and_a_full_history() -> None:
    strong_wolfe = {case["params"]["line_search_fn"] for case in LBFGS}
    assert strong_wolfe == {None, "strong_wolfe"}
    assert any(len(case["state"]["old_dirs"][-1]) == case["params"]["history_size"] for case in LBFGS)
    assert any(max(case["func_evals_per_step"]) > 5 for case in LBFGS)  # a zoom
