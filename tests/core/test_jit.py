"""The compiled engine: the same bits as its source run as plain Python, and where its cache lives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import core.jit
from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.race import run
from core.scene import Scene

ROOT = Path(__file__).parents[2]

SCENES = [
    {"landscape": {"name": "rosenbrock"}, "steps": 60, "racers": [{"optimizer": n} for n in sorted(OPTIMIZERS)[:8]]},
    {
        "landscape": {"name": "rastrigin"},
        "steps": 60,
        "noise": 0.5,
        "seed": 3,
        "l1": 0.1,
        "l2": 0.05,
        "racers": [{"optimizer": n, "params": {"lr": 0.01}} for n in sorted(OPTIMIZERS)[8:]],
    },
    {"landscape": {"name": "plateau", "params": {"width": 2.0}}, "steps": 40, "racers": [{"optimizer": "adam"}]},
    {"landscape": {"name": "saddle"}, "steps": 30, "racers": [{"optimizer": "newton"}, {"optimizer": "sgd"}]},
]

PROBE = """
import json, sys
import numpy as np
from core.landscapes import LANDSCAPES
from core.race import run
from core.scene import Scene
scenes = json.loads(sys.argv[1])
points = np.array(json.loads(sys.argv[2]))
out = {"races": [run(Scene.model_validate(s)) for s in scenes], "surfaces": {}}
for name, landscape in LANDSCAPES.items():
    surface = landscape.surface(l1=0.2, l2=0.1)
    loss, grads = surface.value_and_grad(points)
    out["surfaces"][name] = [loss.tolist(), grads.tolist(), surface.hessian(points).tolist()]
print(json.dumps(out))
"""


def test_without_the_compiler_the_same_source_gives_the_same_bits() -> None:
    """NUMBA_DISABLE_JIT=1 runs core's compiled functions as plain Python: every race and landscape value is equal."""
    rng = np.random.default_rng(5)
    points = np.column_stack([rng.uniform(-2, 2, 20), rng.uniform(-2, 2, 20)])
    points[0] = (0.0, -0.0)  # the l1 kink
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    python = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(SCENES), json.dumps(points.tolist())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    plain = json.loads(python.stdout)
    for scene, race in zip(SCENES, plain["races"], strict=True):
        assert run(Scene.model_validate(scene)) == race
    for name, landscape in LANDSCAPES.items():
        surface = landscape.surface(l1=0.2, l2=0.1)
        loss, grads = surface.value_and_grad(points)
        assert [loss.tolist(), grads.tolist(), surface.hessian(points).tolist()] == plain["surfaces"][name], name


def test_the_cache_lives_in_a_folder_named_by_cores_sources(tmp_path: Path) -> None:
    env = {**os.environ, "OPTIRACE_CACHE_DIR": str(tmp_path)}
    probe = "import core.jit, numba; print(core.jit.CACHE_DIR); print(numba.config.CACHE_DIR)"
    lines = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert lines[0] == lines[1] == str(tmp_path / core.jit.CACHE_DIR.name)
    assert core.jit.CACHE_DIR.name.startswith("core-")
