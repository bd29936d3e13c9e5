"""POST /api/map, GET /api/map, POST /api/map/stream and POST /api/tune."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from core.hypermap import MAX_RACER_STEPS
from server import admission
from server.admission import Slots
from server.app import app
from server.routes import maps
from tests.server.conftest import assert_error, ndjson_lines, strict_json

ADAM_ON_ROSENBROCK = {
    "scene": {
        "landscape": {"name": "rosenbrock"},
        "steps": 300,
        "racers": [{"optimizer": "sgd"}, {"optimizer": "adam", "params": {"lr": 0.05}}],
    },
    "racer": 1,
    "x": {"name": "lr", "min": 1e-3, "max": 10.0, "count": 10},
    "y": {"name": "beta1", "min": 0.0, "max": 0.99, "count": 7},
}


# A typed formula (landscape custom): a tilted, wavy valley on its own domain.
CUSTOM_VALLEY = {
    "name": "custom",
    "params": {"f": "(x - 1)^2 + 8*(y - 0.5*x)^2 + 0.3*sin(3*x)", "x": [-3, 3], "y": [-2, 2]},
}


def post_json(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    return strict_json(response.content)


def post_map(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/map", json=body)
    assert response.status_code == 200, response.text
    return strict_json(response.content)


def single_race(client: TestClient, body: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """POST /api/race of the map's racer alone, with ``values`` set."""
    racer = dict(body["scene"]["racers"][body["racer"]])
    racer["params"] = {**racer.get("params", {}), **values}
    response = client.post("/api/race", json={**body["scene"], "racers": [racer]})
    assert response.status_code == 200, response.text
    return strict_json(response.content)["racers"][0]


@pytest.mark.parametrize(
    "body",
    [
        ADAM_ON_ROSENBROCK,
        {
            "scene": {
                "landscape": {"name": "bowl", "params": {"condition": 100}},
                "steps": 300,
                "racers": [{"optimizer": "momentum"}],
            },
            "racer": 0,
            "x": {"name": "lr", "min": 1e-3, "max": 10.0, "count": 9},
            "y": {"name": "momentum", "min": 0.0, "max": 0.99, "count": 8},
        },
        {
            "scene": {"landscape": CUSTOM_VALLEY, "steps": 300, "racers": [{"optimizer": "rmsprop"}]},
            "racer": 0,
            "x": {"name": "lr", "min": 1e-3, "max": 3.0, "count": 9},
            "y": {"name": "alpha", "min": 0.5, "max": 0.999, "count": 7, "scale": "one_minus_log"},
        },
    ],
    ids=["adam-rosenbrock", "momentum-bowl", "rmsprop-custom-formula"],
)
def test_random_cells_equal_the_single_race_exactly(client: TestClient, body: dict[str, Any]) -> None:
    result = post_map(client, body)
    rng = random.Random(13)
    x, y = result["x"], result["y"]
    for _ in range(6):
        j, i = rng.randrange(y["count"]), rng.randrange(x["count"])
        single = single_race(client, body, {x["name"]: x["values"][i], y["name"]: y["values"][j]})
        assert result["status"][j][i] == single["status"]
        assert result["arrived_at"][j][i] == single["arrived_at"]
        assert result["diverged_at"][j][i] == single["diverged_at"]
        gap = None if single["status"] == "diverged" else max(0.0, single["loss"][-1] - result["minimum_value"])
        assert result["final_gap"][j][i] == gap


def test_the_query_form_means_the_same_map(client: TestClient) -> None:
    query = urlencode(
        [
            ("landscape", "rosenbrock"),
            ("steps", "300"),
            ("racer", "sgd"),
            ("racer", "adam;lr=0.05"),
            ("map.racer", "1"),
            ("map.x", "lr"),
            ("map.x.min", "0.001"),
            ("map.x.max", "10"),
            ("map.x.count", "10"),
            ("map.y", "beta1"),
            ("map.y.min", "0"),
            ("map.y.max", "0.99"),
            ("map.y.count", "7"),
        ],
        safe=",;=",
    )
    response = client.get(f"/api/map?{query}")
    assert response.status_code == 200, response.text
    assert "ETag" in response.headers
    assert strict_json(response.content) == post_map(client, ADAM_ON_ROSENBROCK)


def test_the_stream_sends_rows_as_they_finish_and_the_same_cells(client: TestClient) -> None:
    body = {
        **ADAM_ON_ROSENBROCK,
        "x": {**ADAM_ON_ROSENBROCK["x"], "count": 128},
        "y": {**ADAM_ON_ROSENBROCK["y"], "count": 20},
    }
    body["scene"] = {**body["scene"], "steps": 40}
    response = client.post("/api/map/stream", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    frames = ndjson_lines(response)
    assert frames[0]["type"] == "header" and frames[-1]["type"] == "summary"
    rows = frames[1:-1]
    assert len(rows) == 3 and [f["first"] for f in rows] == [0, 8, 16]  # 1024 cells a frame: 8 rows of 128
    whole = post_map(client, body)
    for key in ("status", "final_gap", "arrived_at", "diverged_at"):
        assert [row for f in rows for row in f[key]] == whole[key]
    assert frames[-1]["counts"] == whole["counts"]


def test_invalid_cells_are_marked_and_say_why(client: TestClient) -> None:
    body = {
        "scene": {"landscape": {"name": "bowl"}, "steps": 50, "racers": [{"optimizer": "nesterov"}]},
        "x": {"name": "lr", "min": 0.01, "max": 1.0, "count": 3},
        "y": {"name": "momentum", "min": 0.0, "max": 0.9, "count": 2},
    }
    result = post_map(client, body)
    assert result["status"][0] == ["invalid"] * 3
    assert result["final_gap"][0] == [None] * 3
    assert "nesterov.momentum must be > 0" in result["invalid_reason"]


def test_the_y_axis_defaults_to_the_racers_first_number_after_lr(client: TestClient) -> None:
    body = {"scene": {"steps": 5, "racers": [{"optimizer": "momentum"}]}, "x": {"name": "lr", "count": 2}}
    assert post_map(client, body)["y"]["name"] == "momentum"


@pytest.mark.parametrize(
    ("body", "words", "loc"),
    [
        ({"x": {"name": "lr", "count": 129}}, ["less than or equal to 128"], ["body", "x", "count"]),
        ({"x": {"name": "lr", "scale": "cubic"}}, ["log", "linear", "one_minus_log"], ["body", "x", "scale"]),
        ({"racer": 16}, ["less than or equal to 15"], ["body", "racer"]),
        ({"metric": "loss"}, ["final_gap", "arrived_at"], ["body", "metric"]),
        (
            {"scene": {"racers": [{"optimizer": "adam"}]}, "x": {"name": "momentum"}},
            ["map.x", "adam has no numeric hyperparameter 'momentum'", "lr, beta1, beta2, eps, weight_decay"],
            ["body"],
        ),
        (
            {"scene": {"racers": [{"optimizer": "adam"}]}, "y": {"name": "beta1", "max": 1.5}},
            ["map.y.max", "adam.beta1 must be a number in [0, 1)"],
            ["body"],
        ),
        (
            {"scene": {"racers": [{"optimizer": "adam"}]}, "racer": 2},
            ["map.racer must be an integer in [0, 0]"],
            ["body"],
        ),
        (
            {
                "scene": {"steps": 2000, "racers": [{"optimizer": "adam"}]},
                "x": {"name": "lr", "count": 128},
                "y": {"name": "beta1", "count": 128},
            },
            [f"≤ {MAX_RACER_STEPS:,} racer-steps", "128 × 128 × 2000"],
            ["body"],
        ),
    ],
)
def test_bad_maps_get_a_422_naming_the_field_and_the_limit(
    client: TestClient, body: dict[str, Any], words: list[str], loc: list[Any]
) -> None:
    assert_error(client.post("/api/map", json=body), 422, *words, loc=loc)


def test_a_bad_stream_is_refused_before_it_starts(client: TestClient) -> None:
    response = client.post("/api/map/stream", json={"x": {"name": "nesterov"}})
    assert_error(response, 422, "no numeric hyperparameter 'nesterov'")


def test_the_query_forms_errors_name_the_query_key(client: TestClient) -> None:
    assert_error(client.get("/api/map?map.x=lr&map.x.count=abc"), 422, "map.x.count: Input should be a valid integer")
    assert_error(client.get("/api/map?map.x=lr&map.x.count=500"), 422, "map.x.count", "less than or equal to 128")
    assert_error(client.get("/api/map?map.metric=loss"), 422, "map.metric", "'final_gap' or 'arrived_at'")
    assert_error(client.get("/api/map?map.zz=1"), 422, "unknown query key 'map.zz'", "map.x.min/max/count/scale")


def test_query_keys_of_an_axis_need_its_name(client: TestClient) -> None:
    assert_error(client.get("/api/map?map.y.count=4"), 422, "map.y.count needs map.y=<hyperparameter name>")


def test_tune_returns_the_tuned_values_and_the_race_with_them(client: TestClient) -> None:
    scene = {"landscape": {"name": "beale"}, "start": [1.0, 1.5], "steps": 500}  # the lecture's four
    response = client.post("/api/tune", json={"scene": scene, "count": 10, "refine": 4})
    assert response.status_code == 200, response.text
    result = strict_json(response.content)
    assert result["objective"]["name"] == "arrival" and "earliest arrival" in result["objective"]["description"]
    assert [r["optimizer"] for r in result["racers"]] == ["sgd", "momentum", "rmsprop", "adam"]
    for entry, racer in zip(result["racers"], result["scene"]["racers"], strict=True):
        assert racer["params"]["lr"] == entry["tuned"]["lr"]
    # the race returned is the race of the tuned scene
    alone = client.post("/api/race", json=result["scene"])
    assert strict_json(alone.content) == result["race"]
    assert all(r["status"] == "arrived" for r in result["race"]["racers"])


def test_the_query_form_means_the_same_tune(client: TestClient) -> None:
    body = {"scene": {"landscape": {"name": "beale"}, "steps": 200}, "count": 8, "refine": 3, "beta1": True}
    query = "landscape=beale&steps=200&tune.count=8&tune.refine=3&tune.beta1=1"
    reply = client.get(f"/api/tune?{query}")
    assert reply.status_code == 200, reply.text
    assert strict_json(reply.content) == post_json(client, "/api/tune", body)
    assert_error(client.get("/api/tune?tune.beta1=yes"), 422, "tune.beta1 must be 1, true, 0 or false")
    assert_error(client.get("/api/tune?tune.count=2"), 422, "tune.count", "greater than or equal to 3")


def test_tune_works_on_a_typed_formula(client: TestClient) -> None:
    scene = {"landscape": CUSTOM_VALLEY, "start": [-2.5, 1.5], "steps": 300}  # the lecture's four
    response = client.post("/api/tune", json={"scene": scene, "count": 8, "refine": 3, "beta1": True})
    assert response.status_code == 200, response.text
    result = strict_json(response.content)
    assert result["scene"]["landscape"]["params"]["f"] == CUSTOM_VALLEY["params"]["f"]
    adam = next(r for r in result["racers"] if r["optimizer"] == "adam")
    assert set(adam["tuned"]) == {"lr", "beta1"} and adam["tuned"]["beta1"] in result["search"]["beta1"]
    assert all(r["found"] and r["status"] != "diverged" for r in result["racers"])
    alone = client.post("/api/race", json=result["scene"])
    assert strict_json(alone.content) == result["race"]


def test_tune_refuses_an_unknown_objective(client: TestClient) -> None:
    assert_error(
        client.post("/api/tune", json={"objective": "fastest"}), 422, "arrival", "final_gap", loc=["body", "objective"]
    )


def test_maps_and_tunes_take_room_in_the_admission_control(
    monkeypatch: pytest.MonkeyPatch, settings_override: Callable[..., None]
) -> None:
    """A 32 × 32 map of 500 steps is 512 000 racer-steps of large work: with room for one, a second map and a
    tune (4 racers × 35 lrs × 500 steps) get 503 with Retry-After while it computes, and room after it."""
    settings_override(large_slots=1, work_wait_seconds=0)
    monkeypatch.setattr(admission, "LARGE", Slots())
    started, go = threading.Event(), threading.Event()
    real = maps.hypermap

    def held_map(*args: Any) -> dict[str, Any]:
        started.set()
        assert go.wait(60)
        return real(*args)

    monkeypatch.setattr(maps, "hypermap", held_map)
    body = {"scene": {"steps": 500, "racers": [{"optimizer": "adam"}]}, "x": {"name": "lr", "count": 32}}
    with TestClient(app) as client, ThreadPoolExecutor(max_workers=1) as pool:
        try:
            held = pool.submit(client.post, "/api/map", json=body)
            assert started.wait(60)
            for path, request in (("/api/map", body), ("/api/map/stream", body), ("/api/tune", {})):
                reply = assert_error(client.post(path, json=request), 503, "too busy")
                assert reply["detail"][0]["type"] == "work_busy"
            assert_error(client.get("/api/map?map.x=lr&map.x.count=32&racer=adam"), 503, "too busy")
        finally:
            go.set()
        assert held.result().status_code == 200
        assert client.post("/api/tune", json={"count": 3, "refine": 0}).status_code == 200
