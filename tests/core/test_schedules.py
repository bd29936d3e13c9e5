"""Schedules: torch's own learning rates (tests/reference/schedules.json), validation, edge cases.

The reference values come from tests/reference/make_schedule_refs.py, run with torch.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from core.schedules import SCHEDULES, get_schedule, lr_per_step, resolve_schedule_params

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "schedules.json").read_text())
CASES = REFERENCE["cases"]
CASE_IDS = [f"{case['schedule']}-{i}" for i, case in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_torch(case):
    got = lr_per_step(case["schedule"], case["params"], case["lr"], case["steps"])
    np.testing.assert_allclose(got, case["expected"], rtol=1e-10, atol=1e-300)


def test_every_schedule_has_a_reference_case():
    assert set(SCHEDULES) <= {case["schedule"] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_torch_template_is_the_code_that_made_the_reference(case):
    resolved = resolve_schedule_params(case["schedule"], case["params"], case["steps"])
    code = get_schedule(case["schedule"]).torch.format(lr=case["lr"], steps=case["steps"], **resolved)
    assert code == case["torch"]


@pytest.mark.parametrize("name", SCHEDULES)
def test_docstring_example_table_holds(name):
    match = re.search(r"Example \((.*)\):\n\s*t\s+(.*)\n\s*lr\s+(.*)", SCHEDULES[name].formula)
    assert match, f"{name} docstring has no example table"
    call = ast.parse(f"example({match[1]})", mode="eval").body
    kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    lr, steps = kwargs.pop("lr"), kwargs.pop("steps")
    assert [int(t) for t in match[2].split()] == list(range(steps))
    table = [float(value) for value in match[3].split()]
    np.testing.assert_allclose(lr_per_step(name, kwargs, lr, steps), table, rtol=0, atol=5e-4)


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("steps", [1, 2, 3, 37, 1000])
def test_defaults_give_finite_float64_per_step(name, steps):
    lrs = lr_per_step(name, None, 0.1, steps)
    assert lrs.shape == (steps,)
    assert lrs.dtype == np.float64
    assert np.all(np.isfinite(lrs)) and np.all(lrs >= 0)


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("steps", [1, 10, 500])
def test_resolved_defaults_are_valid_values(name, steps):
    resolved = resolve_schedule_params(name, {}, steps)
    for spec in SCHEDULES[name].params:
        assert spec.check(resolved[spec.name], name) == resolved[spec.name]


@pytest.mark.parametrize("name", SCHEDULES)
def test_race_defaults_cover_exactly_the_none_defaults(name):
    schedule = SCHEDULES[name]
    assert set(schedule.race_defaults(100)) == {spec.name for spec in schedule.params if spec.default is None}


@pytest.mark.parametrize(
    ("name", "steps", "expected"),
    [
        ("step", 100, {"step_size": 34, "gamma": 0.1}),
        ("multistep", 100, {"milestones": [50, 75], "gamma": 0.1}),
        ("multistep", 2, {"milestones": [1], "gamma": 0.1}),
        ("cosine", 100, {"T_max": 100, "eta_min": 0.0}),
        ("cosine_restarts", 100, {"T_0": 25, "T_mult": 1, "eta_min": 0.0}),
        ("onecycle", 100, {"total_steps": 100, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4}),
        ("warmup_cosine", 5, {"warmup": 0, "eta_min": 0.0}),
        ("inverse_sqrt", 5, {"warmup": 1}),
    ],
)
def test_race_dependent_defaults(name, steps, expected):
    assert resolve_schedule_params(name, None, steps) == expected


def test_given_params_override_defaults():
    assert resolve_schedule_params("cosine", {"T_max": "20", "eta_min": 0.01}, 100) == {"T_max": 20, "eta_min": 0.01}


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match=r"unknown schedule 'cosin'; expected one of: constant, step, .*inverse_sqrt"):
        lr_per_step("cosin", {}, 0.1, 10)


def test_unknown_parameter_is_rejected():
    with pytest.raises(ValueError, match=r"cosine has no parameter 'T_mx'; expected one of: T_max, eta_min"):
        lr_per_step("cosine", {"T_mx": 5}, 0.1, 10)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("cosine", {"T_max": 0}, r"cosine\.T_max must be an integer in \[1, 1000000000\], got 0"),
        ("polynomial", {"total_iters": 1e300}, r"polynomial\.total_iters must be an integer in \[1, 1000000000\]"),
        ("cosine", {"T_max": 2.5}, r"cosine\.T_max must be an integer"),
        ("cosine", {"eta_min": -0.1}, r"cosine\.eta_min must be a number in \[0, inf\)"),
        ("step", {"gamma": 0}, r"step\.gamma must be a number in \(0, 1\], got 0"),
        ("exponential", {"gamma": 1.5}, r"exponential\.gamma must be a number in \(0, 1\]"),
        ("linear", {"start_factor": 0.0}, r"linear\.start_factor must be a number in \(0, 1\]"),
        ("linear", {"end_factor": 1.1}, r"linear\.end_factor must be a number in \[0, 1\]"),
        ("cosine_restarts", {"T_mult": 0}, r"cosine_restarts\.T_mult must be an integer in \[1, 1000000000\]"),
        ("onecycle", {"pct_start": 1.5}, r"onecycle\.pct_start must be a number in \[0, 1\]"),
        ("onecycle", {"div_factor": 0.5}, r"onecycle\.div_factor must be a number in \[1, inf\)"),
        ("polynomial", {"power": 0}, r"polynomial\.power must be a number in \(0, inf\)"),
        ("cyclic", {"base_lr": float("nan")}, r"cyclic\.base_lr must be a number in \[0, inf\)"),
        ("multistep", {"milestones": [10, -1]}, r"multistep\.milestones must be a list of integers each in \[0"),
        ("inverse_sqrt", {"warmup": 0}, r"inverse_sqrt\.warmup must be an integer in \[1, 1000000000\]"),
    ],
)
def test_out_of_range_parameter_is_rejected(name, params, message):
    with pytest.raises(ValueError, match=message):
        lr_per_step(name, params, 0.1, 100)


def test_onecycle_total_steps_below_steps_is_rejected():
    with pytest.raises(ValueError, match=r"onecycle\.total_steps must be >= steps \(100\).*got 99"):
        lr_per_step("onecycle", {"total_steps": 99}, 0.1, 100)


def test_onecycle_warmup_of_one_step_is_rejected():
    with pytest.raises(ValueError, match=r"onecycle\.pct_start · total_steps must not be 1"):
        lr_per_step("onecycle", {"pct_start": 0.01}, 0.1, 100)


def test_onecycle_pct_start_1_needs_total_steps_beyond_steps():
    with pytest.raises(ValueError, match=r"onecycle\.pct_start must be < 1 when total_steps = steps \(100\)"):
        lr_per_step("onecycle", {"pct_start": 1.0}, 0.1, 100)
    assert lr_per_step("onecycle", {"pct_start": 1.0, "total_steps": 101}, 0.1, 100)[-1] < 0.1


def test_multistep_milestones_must_increase():
    with pytest.raises(ValueError, match=r"multistep\.milestones must be increasing, got \[30, 30\]"):
        lr_per_step("multistep", {"milestones": [30, 30]}, 0.1, 100)


def test_warmup_cosine_warmup_must_leave_a_cosine_phase():
    with pytest.raises(ValueError, match=r"warmup_cosine\.warmup must be < steps \(100\), got 100"):
        lr_per_step("warmup_cosine", {"warmup": 100}, 0.1, 100)


@pytest.mark.parametrize("steps", [0, -3, 2.5, True, "10"])
def test_bad_steps_are_rejected(steps):
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1"):
        lr_per_step("constant", {}, 0.1, steps)


@pytest.mark.parametrize("lr", [-0.1, float("nan"), float("inf"), "0.1"])
def test_bad_lr_is_rejected(lr):
    with pytest.raises(ValueError, match=r"lr must be a finite number >= 0"):
        lr_per_step("constant", {}, lr, 10)
