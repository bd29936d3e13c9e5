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
