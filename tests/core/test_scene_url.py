"""The scene as a query string: the DESIGN example parses, and parsing and writing round-trip."""

from __future__ import annotations

import pytest

from core.palette import GOLD
from core.scene import Scene
from core.scene_url import parse_query, scene_from_query, scene_json_from_query, scene_to_query

DESIGN_EXAMPLE = (
    "?landscape=bowl&landscape.condition=50&start=-4,1.5&steps=400&noise=0.1&seed=3"
    "&racer=sgd;lr=0.01&racer=adam;lr=0.1;beta1=0.8;schedule=cosine;schedule.T_max=400"
)


def test_the_design_example_parses() -> None:
    scene = scene_from_query(DESIGN_EXAMPLE)
    assert scene.landscape.name == "bowl" and scene.landscape.params == {"condition": "50"}
    assert scene.start == (-4.0, 1.5) and scene.steps == 400 and scene.noise == 0.1 and scene.seed == 3
    sgd, adam = scene.filled().racers
    assert sgd.optimizer == "sgd" and sgd.params["lr"] == 0.01
    assert adam.params["beta1"] == 0.8 and adam.schedule.name == "cosine" and adam.schedule.params["T_max"] == 400
    assert scene.filled().landscape.params == {"condition": 50.0, "angle": 0.0}


def test_writing_puts_every_value_out() -> None:
    query = scene_to_query(scene_from_query("racer=adam"))
    assert "beta2=0.999" in query and "eps=1e-08" in query and "schedule=constant" in query
    assert "label=Adam" in query and f"color={GOLD[1:]}" in query and "start=1,1.5" in query


@pytest.mark.parametrize(
    "query",
    [
        DESIGN_EXAMPLE,
        "",
        "landscape=rosenbrock&racer=nadam;decoupled_weight_decay=true;weight_decay=0.1&l1=0.25&l2=0.5",
        "racer=sgd;schedule=multistep;schedule.milestones=10,20,30;schedule.gamma=0.5",
        "racer=adam;label=Adam%2520%253B%253D%252C%2525%2523;color=%2523abcdef",
        "racer=rmsprop;centered=true;momentum=0.5&racer=lion&racer=newton;damping=0.1&landscape=saddle",
    ],
)
def test_parse_write_parse_gives_the_same_scene(query: str) -> None:
    scene = scene_from_query(query).filled()
    written = scene_to_query(scene)
    again = scene_from_query(written).filled()
    assert again == scene
    assert scene_to_query(again) == written


def test_labels_keep_their_special_characters() -> None:
    scene = Scene.model_validate({"racers": [{"optimizer": "sgd", "label": "SGD; lr=0.1, 50% #1"}]})
    assert scene_from_query(scene_to_query(scene)).racers[0].label == "SGD; lr=0.1, 50% #1"


def test_page_options_can_be_ignored() -> None:
    scene = scene_json_from_query(parse_query("autoplay=1&landscape=saddle&theme=dark"), ignore={"autoplay", "theme"})
    assert scene == {"landscape": {"name": "saddle"}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("speed=2", r"unknown query key 'speed'; expected one of: landscape, start"),
        ("steps=many", r"steps must be an integer, got 'many'"),
        ("start=1,x", r"start must be a number, got 'x'"),
        ("racer=sgd;lr", r"racer 1 \(sgd\): expected key=value, got 'lr'"),
    ],
)
def test_malformed_queries_name_the_key(query: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scene_from_query(query)
