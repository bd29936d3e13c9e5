"""Every optimizer against torch 2.13, bit for bit: points after every update, and the state torch keeps.

tests/reference/optimizer_internals.json (made by tests/reference/make_optimizer_refs.py in a scratch torch
venv) records, per case, the gradients fed, the learning rate of each step, the parameter after each step and
``optimizer.state[p]`` after each step under torch's names. The race loop replays the same gradients.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.optimizers import OPTIMIZERS
from core.race import replay

DATA = json.loads((Path(__file__).parents[1] / "reference" / "optimizer_internals.json").read_text())
CASES = [case for case in DATA["cases"] if case["optimizer"] in OPTIMIZERS]


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


def test_every_torch_optimizer_but_lbfgs_is_checked() -> None:
    covered = {case["optimizer"] for case in CASES}
    assert covered == set(OPTIMIZERS) - {"lion", "newton"}
