"""Racing on Python floats gives the NumPy engine's race bit for bit, and falls back to it where Python raises."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

import core.float_rules
import core.race
import core.scalar
from core.float_rules import stepper
from core.fused import moment_form
from core.landscapes import LANDSCAPES, get_landscape
from core.optimizers import OPTIMIZERS, get_optimizer
from core.race import FLOATS_PER_GROUP, Chunk, Entrant, run, simulate
from core.scalar import FloatsFailed
from core.scene import Scene
from tests.core.test_fused import FUSABLE, SCHEDULES, entrant

STEPS = 300  # crosses a block of coefficient tables (BLOCK = 256)
CHUNK = 97  # and several chunks
# The rules outside the fused form (core.float_rules), with and without their options, beside fused racers.
OTHERS = [
    ("rmsprop", {"lr": 0.01, "momentum": 0.5}),
    ("rmsprop", {"lr": 0.01, "centered": True, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 0.005, "centered": True, "momentum": 0.3}),
    ("radam", {"lr": 0.05}),
    ("radam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("radam", {"lr": 0.05, "weight_decay": 0.05, "beta2": 0.9}),
    ("adamax", {"lr": 0.05, "weight_decay": 0.1}),
    ("adamax", {"lr": 0.1, "beta1": 0.5}),
    ("adadelta", {"lr": 1.0}),
    ("adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("lion", {"lr": 0.01}),
    ("newton", {"lr": 0.5}),
    ("newton", {"lr": 1.0, "damping": 0.5}),
    ("adam", {"lr": 0.05}),
    ("sgd", {"lr": 0.002}),
]
# Adam and NAdam with beta1 ≤ 0.5 take torch's other lerp branch, outside the fused form.
LOW_BETA1 = [
    ("adam", {"lr": 0.05, "beta1": 0.3}),
    ("adam", {"lr": 0.05, "beta1": 0.5, "weight_decay": 0.1}),
    ("amsgrad", {"lr": 0.05, "beta1": 0.2}),
    ("adamw", {"lr": 0.05, "beta1": 0.0, "weight_decay": 0.3}),
    ("nadam", {"lr": 0.05, "beta1": 0.5}),
    ("nadam", {"lr": 0.02, "beta1": 0.4, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("nadam", {"lr": 0.02, "beta1": 0.1, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("adam", {"lr": 0.05, "beta1": 0.9}),
    ("nadam", {"lr": 0.05}),
]


def chunks(landscape: str, entrants: list[Entrant], engine: str, l1: float = 0.0, l2: float = 0.0, noise: float = 0.0):
    surface = get_landscape(landscape).surface(l1=l1, l2=l2)
    start = get_landscape(landscape).start
    return list(simulate(surface, start, entrants, STEPS, noise, 3, CHUNK, engine=engine))


def assert_identical(floats: list[Chunk], arrays: list[Chunk]) -> None:
    """Every point, loss and lr equal bit for bit: NaN where NaN, the same sign of every zero.

    A NaN's own sign bit may differ (x86 makes a NaN negative or positive depending on the operation
    that made it); a NaN never leaves the server, which ends a path before its first non-finite step."""
    assert [c.first for c in floats] == [c.first for c in arrays]
    for a, b in zip(floats, arrays, strict=True):
        for mine, theirs in ((a.points, b.points), (a.loss, b.loss), (a.lr, b.lr)):
            assert mine.shape == theirs.shape and mine.dtype == theirs.dtype == np.float64
            np.testing.assert_array_equal(mine, theirs)
            numbers = ~np.isnan(mine)
            np.testing.assert_array_equal(np.signbit(mine[numbers]), np.signbit(theirs[numbers]))


@pytest.mark.parametrize("landscape", sorted(LANDSCAPES))
@pytest.mark.parametrize(
    ("l1", "l2", "noise"), [(0.0, 0.0, 0.0), (0.1, 0.0, 0.5), (0.0, 0.2, 0.0), (0.05, 0.05, 2.0)], ids=str
)
@pytest.mark.parametrize("racers", [FUSABLE, OTHERS, LOW_BETA1], ids=["fused", "others", "low-beta1"])
def test_floats_race_equals_the_arrays_race_bit_for_bit(
    landscape: str, l1: float, l2: float, noise: float, racers: list
) -> None:
    for schedule in SCHEDULES:
        entrants = [entrant(name, params, schedule) for name, params in racers]
        assert_identical(
            chunks(landscape, entrants, "floats", l1, l2, noise), chunks(landscape, entrants, "arrays", l1, l2, noise)
        )


def test_diverging_racers_stay_identical_after_they_blow_up() -> None:
    entrants = [entrant("sgd", {"lr": 0.05}, ("constant", {})), entrant("adam", {"lr": 0.01}, ("constant", {}))]
    floats = chunks("rosenbrock", entrants, "floats")
    assert not np.isfinite(np.concatenate([c.points for c in floats])[:, 0]).all()
    assert_identical(floats, chunks("rosenbrock", entrants, "arrays"))


def test_a_division_by_zero_falls_back_to_arrays_with_the_same_race() -> None:
    """AdaGrad with eps = 0 at the minimum divides 0 by 0: NaN on arrays, ZeroDivisionError on floats."""
    entrants = [entrant("adagrad", {"lr": 0.1, "eps": 0.0}, ("constant", {}))]
    surface = get_landscape("bowl").surface()
    racers = core.race._float_racers(entrants)
    with pytest.raises(FloatsFailed):
        list(core.scalar.float_chunks(surface, (0.0, 0.0), racers, STEPS, None, CHUNK))
    floats = list(simulate(surface, (0.0, 0.0), entrants, STEPS, chunk_steps=CHUNK, engine="floats"))
    arrays = list(simulate(surface, (0.0, 0.0), entrants, STEPS, chunk_steps=CHUNK, engine="arrays"))
    assert np.isnan(floats[0].points[1]).all()
    assert_identical(floats, arrays)


def test_a_failure_after_some_chunks_resumes_on_arrays_where_floats_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    entrants = [entrant(name, params, ("cosine", {"T_max": 100})) for name, params in FUSABLE[:4]]
    real = core.race.float_chunks

    def two_then_fail(*args: object, **kwargs: object) -> Iterator[tuple]:
        for index, chunk in enumerate(real(*args, **kwargs)):
            if index == 2:
                raise FloatsFailed("as if Python had raised")
            yield chunk

    expected = chunks("beale", entrants, "arrays")
    monkeypatch.setattr(core.race, "float_chunks", two_then_fail)
    assert_identical(chunks("beale", entrants, "floats"), expected)


def test_auto_takes_floats_for_a_few_racers_a_group_and_arrays_for_more(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[int] = []
    real = core.race.float_chunks

    def counting(*args: object, **kwargs: object) -> Iterator[tuple]:
        used.append(1)
        yield from real(*args, **kwargs)

    monkeypatch.setattr(core.race, "float_chunks", counting)
    adam, lion, radam = (entrant(name, {"lr": 0.01}, ("constant", {})) for name in ("adam", "lion", "radam"))
    chunks("beale", [adam] * (2 * FLOATS_PER_GROUP), "auto")  # one group on arrays
    assert len(used) == 1
    chunks("beale", [adam] * (2 * FLOATS_PER_GROUP + 1), "auto")
    assert len(used) == 1
    chunks("beale", [adam, lion, radam] * 5 + [adam], "auto")  # 16 racers, three groups on arrays
    assert len(used) == 2


def test_every_optimizer_has_a_float_form() -> None:
    for name in OPTIMIZERS:
        spec = get_optimizer(name)
        kwargs = spec.factory_kwargs(spec.resolve({}))
        assert moment_form(spec.factory, kwargs) is not None or stepper(spec.factory, kwargs, [kwargs]) is not None


def test_a_rule_without_a_float_form_puts_the_race_on_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(core.float_rules._RULES, get_optimizer("lion").factory)
    racers = [entrant("adam", {"lr": 0.01}, ("constant", {})), entrant("lion", {"lr": 0.01}, ("constant", {}))]
    assert core.race._float_racers(racers) is None
    with pytest.raises(ValueError, match="no float form"):
        chunks("beale", racers, "floats")
    assert_identical(chunks("beale", racers, "auto"), chunks("beale", racers, "arrays"))


def test_the_default_scene_gives_the_same_result_on_either_engine() -> None:
    floats, arrays = run(Scene()), run(Scene(), "arrays")
    assert floats == arrays
    assert [r["status"] for r in floats["racers"]] == ["arrived"] * 4


def test_a_negative_zero_hyperparameter_is_zero_so_groups_cannot_mix_the_two() -> None:
    """0.0 == -0.0, so a NumPy group would step both racers with the first one's; the spec makes both 0.0."""
    scene = Scene.model_validate(
        {
            "landscape": {"name": "rosenbrock"},
            "start": [-0.0, 0.0],
            "steps": 3,
            "racers": [{"optimizer": "lion", "params": {"lr": 0.0}}, {"optimizer": "lion", "params": {"lr": -0.0}}],
        }
    )
    assert math.copysign(1, scene.filled().racers[1].params["lr"]) == 1
    floats, arrays = run(scene, "floats"), run(scene, "arrays")
    assert floats == arrays
    assert [math.copysign(1, v) for v in floats["racers"][1]["path"][1]] == [
        math.copysign(1, v) for v in arrays["racers"][1]["path"][1]
    ]
