"""L-BFGS in races: it evaluates the landscape itself, reports how often, and races like any other optimizer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.landscapes import get_landscape
from core.optimizers import OPTIMIZERS, get_optimizer
from core.race import MAX_INTERNAL_ROWS, Entrant, Race, run
from core.scene import Scene
from core.scene_url import scene_from_query, scene_to_query


def race(landscape: str, steps: int, *params: dict, **scene) -> dict:
    racers = [{"optimizer": "lbfgs", "params": p} for p in params]
    return run(Scene.model_validate({"landscape": {"name": landscape}, "steps": steps, "racers": racers, **scene}))


def test_lbfgs_arrives_and_counts_its_evaluations() -> None:
    plain, wolfe = race("rosenbrock", 300, {"lr": 0.2}, {"line_search_fn": "strong_wolfe", "max_eval": 25})["racers"]
    assert plain["status"] == wolfe["status"] == "arrived"
    assert wolfe["arrived_at"] < plain["arrived_at"]  # the line search pays off in steps...
    assert plain["evaluations"] == 300  # ...without one: one evaluation per update
    assert wolfe["evaluations"] > 300  # ...with one, in evaluations


def test_only_lbfgs_reports_evaluations() -> None:
    result = run(Scene.model_validate({"racers": [{"optimizer": "adam"}, {"optimizer": "lbfgs"}]}))
    assert "evaluations" not in result["racers"][0]
    assert result["racers"][1]["evaluations"] == result["scene"]["steps"]


def test_a_diverging_lbfgs_racer_stops_before_its_divergence() -> None:
    racer = race("rosenbrock", 50, {"lr": 50.0})["racers"][0]
    assert racer["status"] == "diverged"
    assert len(racer["path"]) == racer["diverged_at"] == racer["steps_run"] + 1
    json.dumps(racer, allow_nan=False)


def test_lbfgs_internals_hold_torchs_state_and_json_has_no_nan() -> None:
    scene = Scene.model_validate(
        {
            "landscape": {"name": "rosenbrock"},
            "steps": 30,
            "racers": [{"optimizer": "lbfgs", "params": {"lr": 50.0, "history_size": 3}}],
        }
    )
    racer = run(scene, internals=True)["racers"][0]
    state = racer["internals"]["state"]
    names = {"d", "t", "H_diag", "prev_flat_grad", "prev_loss", "n_iter", "func_evals"}
    assert set(state) == names | {"old_dirs", "old_stps", "ro", "al"}
    assert state["al"][0] is None and state["n_iter"][0] == 1
    assert all(len(dirs) <= 3 for dirs in state["old_dirs"])
    json.dumps(racer, allow_nan=False)


def test_every_trial_of_a_step_sees_that_steps_noise() -> None:
    """With noise, a step's first evaluation sees the surface's gradient plus the step's draw (its trials
    too: tests/reference/verify_pytorch.py checks them against torch's closure); a seed gives one race."""
    params = {"line_search_fn": "strong_wolfe", "max_eval": 10}
    scene = {"noise": 0.5, "seed": 3}
    first = race("beale", 40, params, **scene)["racers"][0]
    again = race("beale", 40, params, **scene)["racers"][0]
    other = race("beale", 40, params, noise=0.5, seed=4)["racers"][0]
    assert first == again and first["path"] != other["path"]
    surface = get_landscape("beale").surface()
    spec = get_optimizer("lbfgs")
    entrant = Entrant("lbfgs", spec.resolve(params), np.ones(40))
    noisy = Race(surface, (1.0, 1.5), [entrant], 40, noise=0.5, seed=3, internals=True)
    chunk = next(noisy.chunks(41))
    path = chunk.points[0]
    grads = chunk.internals[0][0, :40]
    drawn = 0.5 * np.random.default_rng(3).standard_normal((40, 2))
    np.testing.assert_array_equal(grads, surface.grad(path[:-1]) + drawn)


def test_line_search_fn_is_a_choice_of_torchs_names() -> None:
    spec = get_optimizer("lbfgs")
    assert spec.resolve({})["line_search_fn"] == "none"
    assert spec.resolve({"line_search_fn": None})["line_search_fn"] == "none"  # JSON null, torch's None
    assert spec.resolve({"line_search_fn": "strong_wolfe"})["line_search_fn"] == "strong_wolfe"
    with pytest.raises(ValueError, match=r"lbfgs.line_search_fn must be one of: none, strong_wolfe, got 'wolfe'"):
        spec.resolve({"line_search_fn": "wolfe"})
    with pytest.raises(ValueError, match=r"lbfgs.history_size must be an integer in \[1, 100\]"):
        spec.resolve({"history_size": 101})
    choice = next(p for p in spec.params if p.name == "line_search_fn").to_json()
    assert choice["kind"] == "choice" and list(choice["choices"]) == ["none", "strong_wolfe"]
    assert all("choices" not in p.to_json() for s in OPTIMIZERS.values() for p in s.params if p.kind != "choice")


def test_a_scene_with_lbfgs_round_trips_through_its_url() -> None:
    scene = Scene.model_validate(
        {
            "racers": [
                {"optimizer": "lbfgs", "params": {"line_search_fn": "strong_wolfe", "max_eval": 20, "history_size": 5}}
            ]
        }
    ).filled()
    query = scene_to_query(scene)
    assert "line_search_fn=strong_wolfe" in query
    assert scene_from_query(query).filled() == scene


def test_state_rows_follow_the_history_and_others_keep_theirs() -> None:
    surface = get_landscape("bowl").surface()
    adam = Entrant("adam", get_optimizer("adam").resolve({}), np.full(3, 0.1))
    assert Race(surface, (1.0, 1.0), [adam], 3).state.shape == (1, 3, 2)
    lbfgs = Entrant("lbfgs", get_optimizer("lbfgs").resolve({"history_size": 7}), np.ones(3))
    assert Race(surface, (1.0, 1.0), [adam, lbfgs], 3).state.shape == (2, 8 + 3 * 7, 2)


def test_lbfgs_internals_are_limited_by_its_state_rows() -> None:
    steps = MAX_INTERNAL_ROWS // (8 + 3 * 100) + 1
    scene = Scene.model_validate({"steps": steps, "racers": [{"optimizer": "lbfgs"}]})
    with pytest.raises(ValueError, match=rf"racers × steps × state rows ≤ {MAX_INTERNAL_ROWS}.*1 × {steps} × 308"):
        run(scene, internals=True)
    small = Scene.model_validate({"steps": steps, "racers": [{"optimizer": "lbfgs", "params": {"history_size": 3}}]})
    assert len(run(small, internals=True)["racers"][0]["internals"]["grad"]) == steps


# --- on a typed formula: its line search evaluates the formula through the compiled FORMULA dispatch -------------

BEALE = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"
WOLFE = {"line_search_fn": "strong_wolfe", "max_eval": 25}


def test_lbfgs_on_typed_beale_races_as_on_the_builtin() -> None:
    """Same statuses, arrivals and evaluation counts, paths to 1e-13 (the formula's sums are ordered unlike the
    hand-written Beale's, so the last bits may differ)."""
    base = {"start": [1.0, 1.5], "steps": 200, "racers": [{"optimizer": "lbfgs", "params": p} for p in (WOLFE, {})]}
    custom = {"name": "custom", "params": {"f": BEALE, "x": [-4.5, 4.5], "y": [-4.5, 4.5]}}
    builtin = run(Scene.model_validate({**base, "landscape": {"name": "beale"}}))["racers"]
    typed = run(Scene.model_validate({**base, "landscape": custom}))["racers"]
    for b, t in zip(builtin, typed, strict=True):
        assert (t["status"], t["arrived_at"], t["evaluations"]) == (b["status"], b["arrived_at"], b["evaluations"])
        np.testing.assert_allclose(t["path"], b["path"], rtol=0, atol=1e-13)
    assert typed[0]["evaluations"] > 200 == typed[1]["evaluations"]


def test_every_step_of_lbfgs_on_a_formula_meets_the_strong_wolfe_conditions_of_that_formula() -> None:
    """A formula no built-in has: each step the line search accepted satisfies the strong Wolfe conditions
    (c1 = 1e-4, c2 = 0.9) for the formula's own value and gradient, as NumPy evaluates them."""
    params = {"f": "x^2 + 3*y^2 + sin(x*y) + 0.5*x^4", "x": [-3, 3], "y": [-3, 3]}
    scene = {"landscape": {"name": "custom", "params": params}, "start": [-2.5, 2.0], "steps": 30}
    racer = run(Scene.model_validate({**scene, "racers": [{"optimizer": "lbfgs", "params": WOLFE}]}), internals=True)
    racer = racer["racers"][0]
    surface = get_landscape("custom").surface(params)
    path, grads, state = np.array(racer["path"]), np.array(racer["internals"]["grad"]), racer["internals"]["state"]
    moved = [k for k in range(len(path) - 1) if (path[k + 1] != path[k]).any()]
    assert racer["status"] == "arrived" and len(moved) >= 5
    for k in moved:
        d, t = np.array(state["d"][k]), state["t"][k]
        np.testing.assert_array_equal(path[k] + t * d, path[k + 1])
        slope = grads[k] @ d
        assert surface.value(path[k + 1]) <= surface.value(path[k]) + 1e-4 * t * slope
        assert abs(surface.grad(path[k + 1]) @ d) <= 0.9 * abs(slope)
    assert racer["evaluations"] == state["func_evals"][-1] > 30
