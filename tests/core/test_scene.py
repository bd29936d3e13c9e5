"""The Scene schema: defaults, limits and messages that name the field and the allowed values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.palette import LECTURE_COLORS
from core.scene import MAX_RACERS, MAX_STEPS, Racer, Scene


def scene(**fields) -> Scene:
    return Scene.model_validate(fields)


def test_an_empty_scene_takes_every_default() -> None:
    filled = Scene().filled()
    assert filled.landscape.name == "beale" and filled.start == (1.0, 1.5)
    assert [r.optimizer for r in filled.racers] == ["sgd", "momentum", "rmsprop", "adam"]
    assert [r.color for r in filled.racers] == list(LECTURE_COLORS)
    assert filled.steps == 500 and filled.noise == 0.0 and filled.seed == 0


def test_omitted_hyperparameters_take_torch_defaults() -> None:
    racer = scene(racers=[{"optimizer": "adamw"}]).filled().racers[0]
    assert racer.params == {
        "lr": 1e-3,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.01,
        "amsgrad": False,
    }
    assert racer.schedule.name == "constant"


def test_race_dependent_schedule_defaults_are_written_out() -> None:
    racer = scene(steps=400, racers=[{"optimizer": "sgd", "schedule": {"name": "cosine"}}]).filled().racers[0]
    assert racer.schedule.params == {"T_max": 400, "eta_min": 0.0}


def test_repeated_labels_are_numbered_and_colours_stay_distinct() -> None:
    filled = scene(
        racers=[{"optimizer": "adam"}, {"optimizer": "adam"}, {"optimizer": "adam", "color": "#123456"}]
    ).filled()
    assert [r.label for r in filled.racers] == ["Adam", "Adam 2", "Adam 3"]
    assert len({r.color for r in filled.racers}) == 3


def test_filling_twice_changes_nothing() -> None:
    once = scene(landscape={"name": "bowl", "params": {"angle": 30}}, racers=[{"optimizer": "nadam"}]).filled()
    assert once.filled() == once


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"landscape": {"name": "everest"}}, r"unknown landscape 'everest'; expected one of: beale, rosenbrock"),
        ({"landscape": {"name": "bowl", "params": {"condition": 0.5}}}, r"condition must be"),
        ({"landscape": {"name": "bowl", "params": {"tilt": 1}}}, r"has no parameter 'tilt'"),
        ({"racers": [{"optimizer": "adamm"}]}, r"unknown optimizer 'adamm'; expected one of: sgd"),
        ({"racers": [{"optimizer": "adam", "params": {"beta2": 1.0}}]}, r"adam\.beta2 must be a number in \[0, 1\)"),
        ({"racers": [{"optimizer": "sgd", "schedule": {"name": "warm"}}]}, r"unknown schedule 'warm'"),
        (
            {
                "steps": 100,
                "racers": [{"optimizer": "sgd", "schedule": {"name": "onecycle", "params": {"total_steps": 50}}}],
            },
            r"racers\[0\]\.schedule: .*total_steps",
        ),
        ({"racers": [{"optimizer": "sgd", "color": "red"}]}, r"color must be a hex colour like #e69f00, got 'red'"),
        ({"start": [100.0, 0.0]}, r"start must lie in the domain of beale: x in \[-4\.5, 4\.5\]"),
        ({"steps": 0}, r"steps\n  Input should be greater than or equal to 1"),
        ({"steps": MAX_STEPS + 1}, r"steps\n  Input should be less than or equal to 20000"),
        ({"racers": []}, r"racers\n  List should have at least 1 item"),
        ({"racers": [{"optimizer": "sgd"}] * (MAX_RACERS + 1)}, r"racers\n  List should have at most 16 items"),
        ({"noise": float("nan")}, r"noise\n  Input should be a finite number"),
        ({"l2": -1.0}, r"l2\n  Input should be greater than or equal to 0"),
        ({"speed": 2}, r"speed\n  Extra inputs are not permitted"),
        ({"racers": [{"optimizer": "sgd", "lr": 0.1}]}, r"racers\.0\.lr\n  Extra inputs are not permitted"),
    ],
)
def test_bad_scenes_name_the_field_and_what_is_allowed(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        scene(**fields)


def test_a_racer_validates_on_its_own() -> None:
    with pytest.raises(ValidationError, match=r"rmsprop\.alpha must be"):
        Racer(optimizer="rmsprop", params={"alpha": -0.1})
