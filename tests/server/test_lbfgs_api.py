"""L-BFGS through the API: its spec, races with either line search, its evaluations, its PyTorch script."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import assert_error


def lbfgs_race(client: TestClient, *params: dict) -> dict:
    body = {
        "landscape": {"name": "rosenbrock"},
        "steps": 100,
        "racers": [{"optimizer": "lbfgs", "params": p} for p in params],
    }
    response = client.post("/api/race", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_spec_names_torchs_hyperparameters_and_the_line_search_choice(client: TestClient) -> None:
    optimizers = {o["name"]: o for o in client.get("/api/optimizers").json()["optimizers"]}
    spec = optimizers["lbfgs"]
    params = {p["name"]: p for p in spec["params"]}
    assert list(params) == ["lr", "history_size", "line_search_fn", "tolerance_grad", "tolerance_change", "max_eval"]
    assert [params[n]["default"] for n in params] == [1.0, 100, "none", 1e-7, 1e-9, 1]
    assert params["line_search_fn"]["choices"] == ["none", "strong_wolfe"]
    assert "strong_wolfe with max_eval 1 makes one trial" in spec["rule"]


def test_a_race_takes_lbfgs_with_both_line_searches_and_reports_evaluations(client: TestClient) -> None:
    result = lbfgs_race(
        client,
        {"lr": 0.2},
        {"line_search_fn": "strong_wolfe", "max_eval": 25},
        {"line_search_fn": "none", "lr": 0.2},
    )
    plain, wolfe, none = result["racers"]
    assert result["scene"]["racers"][0]["params"]["line_search_fn"] == "none"
    assert plain["path"] == none["path"] and plain["evaluations"] == 100
    assert wolfe["status"] == "arrived" and wolfe["evaluations"] > 100
    query = client.get("/api/race?landscape=rosenbrock&steps=100&racer=lbfgs;line_search_fn=strong_wolfe;max_eval=25")
    assert query.json()["racers"][0]["path"] == wolfe["path"]


def test_a_bad_line_search_is_a_422_naming_the_choices(client: TestClient) -> None:
    racer = {"optimizer": "lbfgs", "params": {"line_search_fn": "armijo"}}
    response = client.post("/api/race", json={"racers": [racer]})
    assert_error(response, 422, "lbfgs.line_search_fn", "none, strong_wolfe", "armijo")


def test_the_pytorch_script_steps_lbfgs_with_a_closure(client: TestClient) -> None:
    source = client.get("/api/pytorch?racer=lbfgs;line_search_fn=strong_wolfe;max_eval=20&racer=lbfgs&racer=adam").text
    assert "line_search_fn='strong_wolfe'" in source and "line_search_fn=None" in source
    assert "max_iter=1, max_eval=20" in source
    assert "optimizer.step(closure(step))" in source
    compile(source, "race.py", "exec")
    plain = client.get("/api/pytorch?racer=adam").text
    assert "closure" not in plain
