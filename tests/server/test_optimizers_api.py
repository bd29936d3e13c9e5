"""GET /api/optimizers, GET /api/schedules, POST /api/schedules/curve."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.optimizers import OPTIMIZERS
from core.palette import SHAPES, STYLES
from core.schedules import SCHEDULES, lr_per_step, resolve_schedule_params
from tests.server.conftest import assert_error, strict_json


def test_optimizers_list_every_optimizer_with_its_rule_and_specs(client: TestClient) -> None:
    reply = strict_json(client.get("/api/optimizers").content)
    assert [o["name"] for o in reply["optimizers"]] == list(OPTIMIZERS)
    for entry in reply["optimizers"]:
        spec = OPTIMIZERS[entry["name"]]
        assert entry["rule"] == spec.rule and entry["rule"]
        assert {p["name"]: p["default"] for p in entry["params"]} == {p.name: p.default for p in spec.params}
        assert all(p["allowed"] for p in entry["params"])


def test_schedules_list_every_schedule(client: TestClient) -> None:
    reply = strict_json(client.get("/api/schedules").content)
    assert [s["name"] for s in reply["schedules"]] == list(SCHEDULES)
    assert all(s["formula"] and s["torch"] for s in reply["schedules"])


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_curve_is_the_schedule_of_core(client: TestClient, name: str) -> None:
    steps = 40
    params = resolve_schedule_params(name, {}, steps)
    response = client.post("/api/schedules/curve", json={"schedule": {"name": name}, "lr": 0.1, "steps": steps})
    assert response.status_code == 200
    assert strict_json(response.content)["lr"] == lr_per_step(name, params, 0.1, steps).tolist()


def test_curve_of_cosine_ends_near_eta_min(client: TestClient) -> None:
    body = {"schedule": {"name": "cosine", "params": {"T_max": 8, "eta_min": 0.01}}, "lr": 0.1, "steps": 9}
    curve = strict_json(client.post("/api/schedules/curve", json=body).content)["lr"]
    assert curve[0] == 0.1 and curve[8] == pytest.approx(0.01)


def test_curve_names_an_unknown_schedule_and_lists_the_known_ones(client: TestClient) -> None:
    response = client.post("/api/schedules/curve", json={"schedule": {"name": "cosin"}, "lr": 0.1, "steps": 10})
    assert_error(response, 422, "'cosin'", *SCHEDULES, loc=["body", "schedule", "name"])


def test_curve_names_a_bad_schedule_parameter(client: TestClient) -> None:
    body = {"schedule": {"name": "step", "params": {"gamma": 2}}, "lr": 0.1, "steps": 10}
    assert_error(client.post("/api/schedules/curve", json=body), 422, "step.gamma", "(0, 1]", "2")


def test_curve_names_a_combination_torch_refuses(client: TestClient) -> None:
    body = {"schedule": {"name": "onecycle", "params": {"total_steps": 5}}, "lr": 0.1, "steps": 10}
    assert_error(client.post("/api/schedules/curve", json=body), 422, "onecycle.total_steps", "5")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"schedule": {"name": "constant"}, "lr": -1, "steps": 10}, "lr"),
        ({"schedule": {"name": "constant"}, "lr": 0.1, "steps": 20_001}, "steps"),
        ({"schedule": {"name": "constant"}, "lr": 0.1, "steps": 0}, "steps"),
        ({"schedule": {"name": "constant"}, "lr": 0.1, "steps": "10"}, "steps"),  # strict: a string is no integer
        ({"schedule": {"name": "constant"}, "lr": True, "steps": 10}, "lr"),
        ({"schedule": {"name": "constant"}, "lr": 0.1}, "steps"),
        ({"schedule": {"name": "constant"}, "lr": 0.1, "steps": 10, "warmup": 3}, "warmup"),
    ],
)
def test_curve_refuses_a_bad_field_and_names_it(client: TestClient, body: dict, field: str) -> None:
    reply = assert_error(client.post("/api/schedules/curve", json=body), 422)
    assert ["body", field] in [d["loc"] for d in reply["detail"]]


def test_each_optimizer_comes_with_its_colour_and_marker(client: TestClient) -> None:
    optimizers = {o["name"]: o for o in client.get("/api/optimizers").json()["optimizers"]}
    for name, style in STYLES.items():
        assert (optimizers[name]["color"], optimizers[name]["marker"]) == (style.color, style.marker)
    assert {o["marker"] for o in optimizers.values()} <= set(SHAPES)


def test_beta_like_hyperparameters_slide_on_a_one_minus_beta_log_scale(client: TestClient) -> None:
    optimizers = {o["name"]: o for o in client.get("/api/optimizers").json()["optimizers"]}
    names = ("adam", "rmsprop", "momentum", "adadelta")
    scales = {p["name"]: p["scale"] for name in names for p in optimizers[name]["params"]}
    assert all(scales[name] == "one_minus_log" for name in ("beta1", "beta2", "alpha", "momentum", "rho"))
    assert scales["lr"] == "log"
