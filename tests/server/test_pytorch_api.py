"""GET /api/pytorch?<scene> and POST /api/pytorch: one self-contained torch script per scene.

These tests check the script without torch: it compiles, ruff's pyflakes rules find no undefined or
unused name, and it names every racer. That running it reproduces the race's paths is checked with torch
installed by tests/reference/verify_pytorch.py (torch is never a dependency of the project).
"""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient
from ruff.__main__ import find_ruff_bin

from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.presets import PRESETS
from core.scene import MAX_RACERS
from core.scene_url import scene_from_query, scene_to_query
from core.schedules import SCHEDULES

NAMES = list(OPTIMIZERS)
EVERY_OPTIMIZER = [
    "&".join(f"racer={name}" for name in NAMES[i : i + MAX_RACERS]) for i in range(0, len(NAMES), MAX_RACERS)
]
SCENES = {
    **{f"preset-{preset.id}": preset.query for preset in PRESETS},
    **{
        f"every-optimizer-noise-l1-l2-{i}": f"landscape=rosenbrock&steps=50&noise=0.3&seed=5&l1=0.01&l2=0.02&{racers}"
        for i, racers in enumerate(EVERY_OPTIMIZER)
    },
    "every-schedule": "landscape=himmelblau&steps=80&"
    + "&".join(f"racer=adam;lr=0.05;schedule={name};label={name}" for name in SCHEDULES),
    **{f"landscape-{name}": f"landscape={name}&steps=20&racer=adam&racer=newton&racer=lion" for name in LANDSCAPES},
    "odd-labels": "steps=10&racer=sgd;label=it's %22quoted%22&racer=adam;label=a %2B b \\ c",
}


def pyflakes(source: str) -> str:
    """ruff's pyflakes rules (F: undefined names, unused imports and variables, …) on a script."""
    done = subprocess.run(
        [
            find_ruff_bin(),
            "check",
            "--isolated",
            "--select",
            "F",
            "--output-format",
            "concise",
            "--stdin-filename",
            "race.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout + done.stderr if done.returncode else ""


@pytest.mark.parametrize("query", SCENES.values(), ids=SCENES.keys())
def test_the_script_compiles_has_no_undefined_names_and_names_every_racer(client: TestClient, query: str) -> None:
    reply = client.get(f"/api/pytorch?{query}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/x-python")
    source = reply.text
    compile(source, "race.py", "exec")
    assert pyflakes(source) == ""
    scene = scene_from_query(query).filled()
    for racer in scene.racers:
        assert f"    {racer.label!r}: (" in source
    assert scene_to_query(scene) in source  # the scene it reproduces, for the reader
    assert "paths = {}" in source and "print(" in source


def test_optimizers_outside_torch_are_written_out(client: TestClient) -> None:
    source = client.get("/api/pytorch?racer=lion&racer=newton&racer=adam").text
    assert "class Lion(torch.optim.Optimizer):" in source
    assert "class Newton(torch.optim.Optimizer):" in source
    assert "torch.optim.Adam(params, lr=" in source
    assert "class Lion" not in client.get("/api/pytorch?racer=adam").text


def test_the_noise_is_drawn_as_the_race_draws_it(client: TestClient) -> None:
    source = client.get("/api/pytorch?noise=0.25&seed=7&steps=30&racer=sgd").text
    assert "NOISE_SIGMA = 0.25" in source and "SEED = 7" in source and "STEPS = 30" in source
    assert "np.random.default_rng(SEED).standard_normal((STEPS, 2))" in source


def test_landscape_parameters_and_penalties_are_in_the_script(client: TestClient) -> None:
    source = client.get("/api/pytorch?landscape=bowl&landscape.condition=50&landscape.angle=30&l1=0.1&l2=0.2").text
    assert "CONDITION = 50.0" in source and "ANGLE = 30.0" in source
    assert "L1 = 0.1" in source and "L2 = 0.2" in source


def test_a_bad_scene_is_a_422_naming_the_field(client: TestClient) -> None:
    reply = client.get("/api/pytorch?racer=adam;lr=-1")
    assert reply.status_code == 422
    assert "adam.lr" in reply.json()["error"]


def test_post_gives_the_script_of_a_json_scene(client: TestClient) -> None:
    reply = client.post("/api/pytorch", json={"landscape": {"name": "saddle"}, "steps": 40})
    assert reply.status_code == 200
    body = reply.json()
    assert body["filename"] == "optirace_saddle.py"
    assert body["script"] == client.get(f"/api/pytorch?{body['query']}").text


def test_every_landscape_has_torch_code() -> None:
    from server.pytorch import LANDSCAPE_CODE

    assert set(LANDSCAPE_CODE) == set(LANDSCAPES)
