"""GET /api/landscapes, /api/landscapes/{name}, POST …/evaluate, GET …/contours."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.landscape_notes import SUGGESTED_LR
from core.landscapes import LANDSCAPES
from tests.server.conftest import assert_error, strict_json

NAMES = list(LANDSCAPES)
UNKNOWN_NAME_REQUESTS = [
    ("GET", "/api/landscapes/rosenbrok", None),
    ("POST", "/api/landscapes/rosenbrok/evaluate", {"points": [[0.0, 0.0]]}),
    ("GET", "/api/landscapes/rosenbrok/contours", None),
]


def test_list_holds_every_landscape(client: TestClient) -> None:
    response = client.get("/api/landscapes")
    assert response.status_code == 200
    assert [entry["name"] for entry in strict_json(response.content)["landscapes"]] == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_one_landscape_has_its_domain_minima_and_params(client: TestClient, name: str) -> None:
    landscape = LANDSCAPES[name]
    reply = strict_json(client.get(f"/api/landscapes/{name}").content)
    domain = landscape.domain
    assert reply["name"] == name
    assert reply["domain"] == {"x": [domain.xmin, domain.xmax], "y": [domain.ymin, domain.ymax]}
    assert [m["point"] for m in reply["minima"]] == [list(m.point) for m in landscape.minima]
    assert [p["name"] for p in reply["params"]] == [p.name for p in landscape.params]


@pytest.mark.parametrize(("method", "path", "body"), UNKNOWN_NAME_REQUESTS)
def test_unknown_landscape_in_the_path_is_a_404_listing_the_known_ones(
    client: TestClient, method: str, path: str, body: dict | None
) -> None:
    response = client.request(method, path, json=body)
    assert_error(response, 404, "'rosenbrok'", *NAMES, loc=["path", "name"])


def test_evaluate_gives_loss_and_gradient_with_the_penalty(client: TestClient) -> None:
    # beale: f(3, 0.5) = 0 with ∇f = 0; f(0, 0) = 1.5² + 2.25² + 2.625², ∂f/∂x(0, 0) = −2·(1.5 + 2.25 + 2.625)
    response = client.post("/api/landscapes/beale/evaluate", json={"points": [[3.0, 0.5], [0.0, 0.0]], "l2": 0.1})
    assert response.status_code == 200
    reply = strict_json(response.content)
    assert reply["loss"] == pytest.approx([0.1 * (9 + 0.25), 14.203125])
    assert reply["grad"] == [pytest.approx([0.6, 0.1]), pytest.approx([-12.75, 0.0])]


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_far_away_stays_valid_json(client: TestClient, name: str) -> None:
    corners = [[1e6, 1e6], [-1e6, 1e6], [1e6, -1e6], [-1e6, -1e6], [0.0, 0.0]]
    response = client.post(f"/api/landscapes/{name}/evaluate", json={"points": corners, "l1": 1e3, "l2": 1e3})
    assert response.status_code == 200
    reply = strict_json(response.content)  # null where float64 overflows, never NaN or Infinity
    assert len(reply["loss"]) == len(reply["grad"]) == len(corners)


def test_evaluate_names_an_unknown_landscape_parameter(client: TestClient) -> None:
    response = client.post("/api/landscapes/bowl/evaluate", json={"points": [[0, 0]], "params": {"kappa": 3}})
    assert_error(response, 422, "'kappa'", "condition", "angle")


def test_evaluate_names_a_parameter_out_of_range(client: TestClient) -> None:
    response = client.post("/api/landscapes/bowl/evaluate", json={"points": [[0, 0]], "params": {"condition": 0.5}})
    assert_error(response, 422, "condition", "[1, 10000]", "0.5")


def test_evaluate_refuses_a_point_out_of_range(client: TestClient) -> None:
    response = client.post("/api/landscapes/bowl/evaluate", json={"points": [[0, 2e6]]})
    assert_error(response, 422, "1000000", loc=["body", "points", 0, 1])


@pytest.mark.parametrize("points", [[], [[1.0]], [[1.0, 2.0, 3.0]], "0,0", [["1", "2"]]])
def test_evaluate_refuses_malformed_points(client: TestClient, points: object) -> None:
    response = client.post("/api/landscapes/bowl/evaluate", json={"points": points})
    assert_error(response, 422, "points")


def test_evaluate_refuses_more_points_than_the_limit(client: TestClient) -> None:
    response = client.post("/api/landscapes/bowl/evaluate", json={"points": [[0.0, 0.0]] * 10_001})
    assert_error(response, 422, "10000", loc=["body", "points"])


def test_evaluate_follows_the_point_limit_setting(client: TestClient, settings_override) -> None:
    settings_override(max_evaluate_points=3)
    response = client.post("/api/landscapes/bowl/evaluate", json={"points": [[0.0, 0.0]] * 4})
    assert_error(response, 422, "at most 3 points", "got 4")


def test_contours_hold_the_asked_levels_and_grid(client: TestClient) -> None:
    response = client.get("/api/landscapes/rosenbrock/contours?levels=5&resolution=20")
    assert response.status_code == 200
    reply = strict_json(response.content)
    assert len(reply["levels"]) == len(reply["lines"]) == 5
    assert (reply["grid"]["nx"], reply["grid"]["ny"], len(reply["grid"]["z"])) == (20, 20, 400)
    assert reply["z_min"] <= min(reply["levels"]) <= max(reply["levels"]) <= reply["z_max"]


def test_contours_take_landscape_parameters_from_the_query(client: TestClient) -> None:
    default = strict_json(client.get("/api/landscapes/bowl/contours?resolution=16&levels=3").content)
    steep = strict_json(client.get("/api/landscapes/bowl/contours?resolution=16&levels=3&condition=500").content)
    assert steep["levels"] != default["levels"]


def test_contours_name_an_unknown_query_parameter(client: TestClient) -> None:
    response = client.get("/api/landscapes/bowl/contours?kappa=3")
    assert_error(response, 422, "'kappa'", "condition", "angle", loc=["query"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("levels=1", "levels"),
        ("levels=201", "levels"),
        ("resolution=4096", "resolution"),
        ("l2=-1", "l2"),
        ("l1=nan", "l1"),
        ("l2=inf", "l2"),
        ("levels=ten", "levels"),
    ],
)
def test_contours_refuse_out_of_range_settings(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/api/landscapes/bowl/contours?{query}")
    assert_error(response, 422, field, loc=["query", field])


def test_landscapes_suggest_an_lr_per_optimizer_and_mark_their_saddles(client: TestClient) -> None:
    landscapes = {entry["name"]: entry for entry in client.get("/api/landscapes").json()["landscapes"]}
    assert landscapes["saddle"]["saddles"] == [[0.0, 0.0]]
    assert landscapes["rosenbrock"]["saddles"] == []
    for name, entry in landscapes.items():
        assert entry["suggested_lr"] == SUGGESTED_LR.get(name, {})  # a typed formula (custom) has none
