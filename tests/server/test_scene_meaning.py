"""The scene's meaning is the server's data: static/scene-url.js reads the specs' run-dependent defaults and
cross-parameter rules instead of restating them, and computes from that data what core computes.

Runs scene-url.js in Node.js (the machine's; without it the test skips, except under CI=true).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.optimizers import OPTIMIZERS
from core.scene_url import scene_from_query, scene_to_query
from core.schedules import SCHEDULES
from server.routes.catalog import optimizer_json, schedule_json
from server.routes.pages import page_data

STATIC = Path(__file__).parents[2] / "static"
STEPS = [*range(1, 64), 99, 100, 101, 333, 500, 999, 1000, 4097, 19_999, 20_000]

PROBE = """
const { raceDefault, createCodec } = await import(process.argv[1]);
const schedules = JSON.parse(process.argv[2]);
const steps = JSON.parse(process.argv[3]);
const out = {};
for (const schedule of schedules) {
  for (const spec of schedule.params) {
    if (spec.race_default) out[`${schedule.name}.${spec.name}`] = steps.map((s) => raceDefault(spec, s));
  }
}
const warnings = [];
const codec = createCodec(JSON.parse(process.argv[4]));
const filled = codec.fill({ racers: [{ optimizer: "nesterov", params: { momentum: 0 } }] }, (w) => warnings.push(w));
console.log(JSON.stringify({ defaults: out, nesterov: filled.racers[0].params, warnings }));
"""


def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js is needed to run static/scene-url.js")
        pytest.skip("no Node.js on this machine: static/scene-url.js is not run")
    return found


def run_scene_url() -> dict:
    schedules = [schedule_json(schedule) for schedule in SCHEDULES.values()]
    result = subprocess.run(
        [node(), "--input-type=module", "-e", PROBE, (STATIC / "scene-url.js").as_uri(), json.dumps(schedules),
         json.dumps(STEPS), page_data()],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_run_dependent_defaults_are_data_and_the_page_computes_what_core_does() -> None:
    ours = run_scene_url()["defaults"]
    theirs = {
        f"{name}.{spec.name}": [spec.race_value(steps) for steps in STEPS]
        for name, schedule in SCHEDULES.items()
        for spec in schedule.params
        if spec.default is None
    }
    assert ours == theirs


def test_the_page_applies_the_specs_cross_parameter_rules() -> None:
    result = run_scene_url()
    assert result["nesterov"]["momentum"] == OPTIMIZERS["nesterov"].resolve({})["momentum"] > 0
    assert any("momentum must be > 0" in warning for warning in result["warnings"])
    assert optimizer_json(OPTIMIZERS["nesterov"])["requires"] == [
        {"param": "momentum", "greater_than": 0.0, "reason": "Nesterov momentum needs momentum"}
    ]


def test_scene_url_restates_no_table_of_defaults_or_rules() -> None:
    source = (STATIC / "scene-url.js").read_text()
    assert "RACE_DEFAULTS" not in source and '"nesterov"' not in source


ROUND_TRIP = """
const { createCodec } = await import(process.argv[1]);
const codec = createCodec(JSON.parse(process.argv[2]));
const out = JSON.parse(process.argv[3]).map((query) => {
  const { scene, warnings } = codec.parse(query);
  return { query: codec.toQuery(scene), params: scene.racers.map((r) => r.params), warnings };
});
console.log(JSON.stringify(out));
"""


def page_round_trip(queries: list[str]) -> list[dict]:
    result = subprocess.run(
        [node(), "--input-type=module", "-e", ROUND_TRIP, (STATIC / "scene-url.js").as_uri(), page_data(),
         json.dumps(queries)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_a_choice_parameter_round_trips_through_the_pages_url_as_through_cores() -> None:
    queries = [
        "landscape=rosenbrock&racer=lbfgs;line_search_fn=strong_wolfe;max_eval=25&racer=lbfgs;history_size=5",
        "racer=lbfgs;line_search_fn=none&racer=adam",
    ]
    written = [scene_to_query(scene_from_query(query).filled()) for query in queries]
    page = page_round_trip(queries + written)
    for i, query in enumerate(queries):
        assert page[i]["query"] == written[i], query  # the page writes a query out as core does
        assert page[len(queries) + i]["query"] == written[i]  # and reads core's back unchanged
        assert not page[i]["warnings"], query
    assert [p["line_search_fn"] for p in page[0]["params"]] == ["strong_wolfe", "none"]
    assert "line_search_fn=strong_wolfe" in written[0] and "line_search_fn=none" in written[1]


def test_the_page_refuses_a_choice_it_does_not_know_naming_the_choices() -> None:
    (page,) = page_round_trip(["racer=lbfgs;line_search_fn=armijo"])
    assert page["params"][0]["line_search_fn"] == OPTIMIZERS["lbfgs"].resolve({})["line_search_fn"] == "none"
    assert any("line_search_fn" in w and "one of: none, strong_wolfe" in w for w in page["warnings"])
    with pytest.raises(ValueError, match="one of: none, strong_wolfe"):
        scene_from_query("racer=lbfgs;line_search_fn=armijo")
