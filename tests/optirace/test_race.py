"""optirace.race, sweep and the catalogues: every form of a scene, the API's errors, arrays, links, frames, files."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import optirace
from core.scene import Scene
from server.render import FORMATS

SCENE = {
    "landscape": {"name": "bowl", "params": {"condition": 30}},
    "start": [-4.0, 1.5],
    "steps": 120,
    "racers": [
        {"optimizer": "sgd", "params": {"lr": 0.05}},
        {"optimizer": "adam", "params": {"lr": 0.1}, "schedule": {"name": "cosine", "params": {"T_max": 120}}},
    ],
}
QUERY = (
    "landscape=bowl&landscape.condition=30&start=-4,1.5&steps=120"
    "&racer=sgd;lr=0.05&racer=adam;lr=0.1;schedule=cosine;schedule.T_max=120"
)


def test_the_race_is_what_post_api_race_answers(client: TestClient) -> None:
    assert optirace.race(SCENE).json == client.post("/api/race", json=SCENE).json()


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda: optirace.race(SCENE), id="dict"),
        pytest.param(lambda: optirace.race(QUERY), id="query string"),
        pytest.param(lambda: optirace.race("?" + QUERY), id="query string with ?"),
        pytest.param(lambda: optirace.race(f"http://127.0.0.1:8000/?{QUERY}"), id="page link"),
        pytest.param(
            lambda: optirace.race(f"https://example.org/embed?{QUERY}&autoplay=1&theme=dark"), id="embed link"
        ),
        pytest.param(
            lambda: optirace.race(
                landscape=("bowl", {"condition": 30}),
                start=(-4, 1.5),
                steps=120,
                racers=[("sgd", {"lr": 0.05}), ("adam", {"lr": 0.1}, ("cosine", {"T_max": 120}))],
            ),
            id="keywords",
        ),
        pytest.param(lambda: optirace.race(Scene.model_validate(SCENE)), id="Scene"),
        pytest.param(lambda: optirace.race({**SCENE, "steps": 7}, steps=120), id="keywords override a dict"),
        pytest.param(
            lambda: optirace.race(QUERY.replace("steps=120", "steps=9"), steps=120), id="keywords override a query"
        ),
    ],
)
def test_every_form_of_a_scene_gives_the_same_race(client: TestClient, form: Any) -> None:
    assert form().json == client.post("/api/race", json=SCENE).json()


def test_internals_are_what_post_api_race_answers_with_internals(client: TestClient) -> None:
    scene = {**SCENE, "steps": 20}
    race = optirace.race(scene, internals=True)
    assert race.json == client.post("/api/race", json={**scene, "internals": True}).json()
    assert race.internals is not None and len(race.internals) == 2
    assert optirace.race(scene).internals is None
    with pytest.raises(optirace.SceneError, match="internals are limited to racers × steps"):
        optirace.race(steps=20_000, racers=["sgd", "adam"], internals=True)


def test_racers_by_name_take_their_torch_defaults() -> None:
    race = optirace.race(landscape="beale", racers=["sgd", ("adam", {"lr": 0.1})], steps=50)
    assert race.optimizers == ["sgd", "adam"]
    assert race.scene.racers[0].params["lr"] == 1e-3  # torch.optim.SGD's default
    assert race.scene.racers[1].params == {**race.scene.racers[1].params, "lr": 0.1, "beta1": 0.9, "beta2": 0.999}
    assert race.scene.racers[1].schedule.name == "constant"


def test_no_scene_is_the_default_scene(client: TestClient) -> None:
    assert optirace.race().json == client.post("/api/race", json={}).json()


def test_the_arrays_hold_the_race_and_nan_after_a_divergence() -> None:
    race = optirace.race(landscape="rosenbrock", steps=60, racers=[("sgd", {"lr": 0.1}), ("adam", {"lr": 0.05})])
    assert race.paths.shape == (2, 61, 2) and race.loss.shape == (2, 61) and race.lr.shape == (2, 60)
    assert list(race.status) == [r["status"] for r in race.json["racers"]]
    assert race.status[0] == "diverged"
    end = race.diverged_at[0]
    assert not np.ma.is_masked(end) and np.isnan(race.paths[0, end:]).all() and np.isfinite(race.paths[0, :end]).all()
    assert np.isnan(race.loss[0, end:]).all()
    assert np.array_equal(race.paths[1], np.array(race.json["racers"][1]["path"]))
    assert np.ma.is_masked(race.diverged_at[1]) and np.ma.is_masked(race.arrived_at[0])
    assert race.final_loss[1] == race.json["racers"][1]["final_loss"]
    np.testing.assert_array_equal(race.lr[1], 0.05)


def test_the_link_opens_the_same_scene(monkeypatch: pytest.MonkeyPatch) -> None:
    race = optirace.race(SCENE)
    assert race.url.startswith("http://127.0.0.1:8000/?landscape=bowl&landscape.condition=30")
    assert optirace.race(race.url).json == race.json
    monkeypatch.setenv("OPTIRACE_BASE_URL", "https://optirace.example.org/")
    assert race.url == f"https://optirace.example.org/?{race.query}"
    assert race.link("http://lecture:9000", page="/embed").startswith("http://lecture:9000/embed?landscape=bowl")


# --- errors: the API's status and words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scene", "words"),
    [
        ({"racers": [{"optimizer": "adan"}]}, ["racers.0", "unknown optimizer 'adan'", "adam"]),
        ({"racers": [{"optimizer": "adam", "params": {"beta1": 1.0}}]}, ["adam.beta1", "[0, 1)"]),
        ({"racers": [{"optimizer": "adam", "params": {"lr": "0.1"}}]}, ["racers.0.params.lr", "adam.lr", "'0.1'"]),
        ({"landscape": {"name": "bowl", "params": {"kappa": 3}}}, ["'kappa'", "condition", "angle"]),
        ({"steps": 0}, ["steps", "greater than or equal to 1"]),
        ({"start": [9, 9]}, ["start must lie in the domain of beale"]),
        (
            {
                "steps": 10,
                "racers": [{"optimizer": "sgd", "schedule": {"name": "onecycle", "params": {"total_steps": 5}}}],
            },
            ["onecycle.total_steps must be >= steps (10)"],
        ),
        ({"colour": "red"}, ["colour", "Extra inputs are not permitted"]),
    ],
)
def test_a_bad_scene_raises_what_the_api_answers(client: TestClient, scene: dict[str, Any], words: list[str]) -> None:
    reply = client.post("/api/race", json=scene)
    assert reply.status_code == 422
    with pytest.raises(optirace.SceneError) as raised:
        optirace.race(scene)
    for word in words:
        assert word in str(raised.value)
    api = reply.json()["detail"]
    assert [d["msg"] for d in raised.value.detail] == [d["msg"] for d in api]
    assert [["body", *d["loc"]] for d in raised.value.detail] == [d["loc"] for d in api]  # the API's place first


def test_a_bad_query_raises_what_get_api_race_answers(client: TestClient) -> None:
    query = "landscape=bowl&racer=adam;lr=-1"
    reply = client.get(f"/api/race?{query}").json()
    with pytest.raises(optirace.SceneError) as raised:
        optirace.race(query)
    assert [d["msg"] for d in raised.value.detail] == [d["msg"] for d in reply["detail"]]
    with pytest.raises(optirace.SceneError, match="unknown query key 'colour'"):
        optirace.race("landscape=bowl&colour=red")


def test_keyword_mistakes_are_type_errors() -> None:
    with pytest.raises(TypeError, match="unknown scene argument 'racer'; expected one of: landscape, start"):
        optirace.race(racer="adam")
    with pytest.raises(TypeError, match="racers is a list"):
        optirace.race(racers="adam")
    with pytest.raises(TypeError, match="got int"):
        optirace.race(42)


def test_numpy_numbers_are_numbers_and_nan_is_refused() -> None:
    race = optirace.race(steps=np.int64(20), racers=[("sgd", {"lr": np.float64(0.01)})], start=np.array([1.0, 1.5]))
    assert race.scene.steps == 20 and race.scene.start == (1.0, 1.5)
    with pytest.raises(optirace.SceneError, match="finite"):
        optirace.race(noise=float("nan"))


# --- tables and files ---------------------------------------------------------------------------------------------


def test_to_frame_has_a_row_per_racer_and_recorded_step() -> None:
    race = optirace.race(SCENE)
    frame = race.to_frame()
    assert list(frame.columns) == ["racer", "optimizer", "step", "x", "y", "loss", "lr"]
    assert len(frame) == sum(len(r["path"]) for r in race.json["racers"])
    adam = frame[frame.racer == "Adam"]
    np.testing.assert_array_equal(adam[["x", "y"]].to_numpy(), race.paths[1])
    assert np.isnan(adam.lr.iloc[-1]) and adam.lr.iloc[0] == 0.1


def test_to_frame_without_pandas_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        optirace.race(steps=5).to_frame()


@pytest.mark.parametrize(
    ("name", "magic", "url"),
    [
        ("race.gif", b"GIF89a", "/export/race.gif"),
        ("race.png", b"\x89PNG", "/export/race.png"),
        ("race.svg", b"<?xml", "/export/race.svg"),
        ("race.html", b"<!doctype html>", "/export/race.html"),
    ],
)
def test_save_writes_what_the_export_route_renders(
    client: TestClient, tmp_path: Path, name: str, magic: bytes, url: str
) -> None:
    race = optirace.race(SCENE)
    options = {"width": 320, "height": 240, "frames": 6} if name.endswith(".gif") else {}
    if name.endswith((".png", ".svg")):
        options = {"width": 320, "height": 240}
    written = race.save(tmp_path / name, **options)
    body = written.read_bytes()
    assert body.lstrip().startswith(magic)
    reply = client.get(url, params=[*_pairs(race.query), *((k, str(v)) for k, v in options.items())])
    assert reply.status_code == 200
    assert body == reply.content


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query)


def test_save_refuses_an_unknown_format_and_a_bad_option(tmp_path: Path) -> None:
    race = optirace.race(steps=5)
    with pytest.raises(ValueError, match="suffix must be one of: gif, png, svg, html"):
        race.save(tmp_path / "race.jpg")
    width = next(spec for spec in FORMATS["png"].options if spec.name == "width")
    with pytest.raises(ValueError, match=re.escape(f"width must be {width.allowed()}, got 50000")):
        race.save(tmp_path / "race.png", width=50000)
    assert not (tmp_path / "race.png").exists()


# --- sweeps and catalogues ------------------------------------------------------------------------------------------


def test_sweep_is_what_post_api_sweep_answers(client: TestClient) -> None:
    body = {"scene": SCENE, "lr_min": 1e-3, "lr_max": 1.0, "count": 5, "steps": 60}
    sweep = optirace.sweep(SCENE, lr_min=1e-3, lr_max=1.0, count=5, sweep_steps=60)
    assert sweep.json == client.post("/api/sweep", json=body).json()
    assert sweep.final_gap.shape == (2, 5) and sweep.lrs[0] == pytest.approx(1e-3)
    diverged = np.array([[d is not None for d in r["diverged_at"]] for r in sweep.json["racers"]])
    assert np.array_equal(np.isnan(sweep.final_gap), diverged)
    assert set(sweep.best_lr()) == {"SGD", "Adam"}
    frame = sweep.to_frame()
    assert len(frame) == 10 and str(frame.arrived_at.dtype) == "Int64"


def test_a_bad_sweep_raises_what_the_api_answers(client: TestClient) -> None:
    reply = client.post("/api/sweep", json={"scene": SCENE, "lr_min": 1.0, "lr_max": 0.1}).json()
    with pytest.raises(optirace.SceneError) as raised:
        optirace.sweep(SCENE, lr_min=1.0, lr_max=0.1)
    assert reply["detail"][0]["msg"] in str(raised.value)


@pytest.mark.parametrize("kind", ["landscapes", "optimizers", "schedules"])
def test_the_catalogues_are_the_apis(client: TestClient, kind: str) -> None:
    assert json.loads(json.dumps(getattr(optirace, kind)())) == client.get(f"/api/{kind}").json()[kind]
