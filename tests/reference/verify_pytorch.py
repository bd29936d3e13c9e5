"""Check that the "Copy as PyTorch" scripts reproduce their races, with torch (never a project dependency).

Run from the repository root with the project's Python, naming a Python that has torch and numpy:

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    .venv/bin/python tests/reference/verify_pytorch.py --torch-python /tmp/torchvenv/bin/python

For every preset, and for scenes covering every optimizer (with noise and l1/l2), every schedule and every
landscape, it writes the script (server.pytorch), runs it with torch in a subprocess, and compares its
``paths`` with core.race.run's: same length (the same divergence step), and the largest coordinate
difference, printed per scene. It fails when a path differs in length or by more than --tolerance (1e-9).
Differences of a few ulps come from autograd's gradients against core's analytic ones, and from torch's
recursive schedulers against core's closed forms.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.presets import PRESETS
from core.race import run
from core.scene import MAX_RACERS
from core.scene_url import scene_from_query
from core.schedules import SCHEDULES
from server.pytorch import script

LRS = {"adagrad": 0.3, "rmsprop": 0.01, "adadelta": 1.0, "lion": 0.01, "newton": 0.5}
RACERS = [f"racer={name};lr={LRS.get(name, 0.001 if 'sgd' in name else 0.05)}" for name in OPTIMIZERS]
EVERY_OPTIMIZER = ["&".join(RACERS[i : i + MAX_RACERS]) for i in range(0, len(RACERS), MAX_RACERS)]
SCENES = {
    **{f"preset {preset.id}": preset.query for preset in PRESETS},
    **{
        f"every optimizer ({i + 1}), noise, l1, l2": "landscape=rosenbrock&steps=300&noise=0.3&seed=5&l1=0.01&l2=0.02&"
        + racers
        for i, racers in enumerate(EVERY_OPTIMIZER)
    },
    "rmsprop/adam variants": "landscape=beale&steps=300&racer=rmsprop;lr=0.01;momentum=0.5;centered=true"
    "&racer=adam;lr=0.05;amsgrad=true;weight_decay=0.1&racer=nadam;lr=0.05;decoupled_weight_decay=true;weight_decay=0.1"
    "&racer=radam;lr=0.05;decoupled_weight_decay=true;weight_decay=0.1"
    "&racer=adagrad;lr=0.3;lr_decay=0.01;initial_accumulator_value=0.1",
    # L-BFGS amplifies the last-bit differences of autograd's gradients on long curved paths and near a
    # divergence (its bit-exactness is tests/core/test_torch_reference.py's): these stay within 1e-9.
    "lbfgs, strong_wolfe, noise": "landscape=rosenbrock&steps=200&noise=0.3&seed=5&l2=0.01"
    "&racer=lbfgs;line_search_fn=strong_wolfe;max_eval=25;label=wolfe"
    "&racer=lbfgs;line_search_fn=strong_wolfe;label=one trial",
    "lbfgs on beale": "landscape=beale&steps=150&racer=lbfgs;lr=0.5;history_size=3"
    "&racer=lbfgs;line_search_fn=strong_wolfe;max_eval=10;history_size=5;schedule=cosine",
    "every schedule": "landscape=himmelblau&steps=400&"
    + "&".join(f"racer=adam;lr=0.05;schedule={name};label={name}" for name in SCHEDULES),
    **{
        f"landscape {name}": f"landscape={name}&steps=200&racer=adam;lr=0.02&racer=sgd;lr=0.0005"
        "&racer=newton;lr=0.5;damping=0.1&racer=lion;lr=0.01"
        for name in LANDSCAPES
    },
    "typed formula (ring)": "landscape=custom"
    "&landscape.f=(x%5E2%20%2B%20y%5E2%20-%204)%5E2%20%2B%200.5*(x%5E3%20-%203*x*y%5E2)&steps=200&racer=adam;lr=0.02&racer=newton;lr=0.5;damping=0.1&racer=lion;lr=0.01",
    "lbfgs on a typed formula (ring)": "landscape=custom"
    "&landscape.f=(x%5E2%20%2B%20y%5E2%20-%204)%5E2%20%2B%200.5*(x%5E3%20-%203*x*y%5E2)&steps=100"
    "&racer=lbfgs;line_search_fn=strong_wolfe;max_eval=25;label=wolfe&racer=lbfgs;lr=0.02;history_size=4",
    "typed formula (hill, domain)": "landscape=custom&landscape.f=0.1*(x%5E2%2By%5E2)%2B3*exp(-((x-1)%5E2%2By%5E2)%5E4)"
    "&landscape.x=-2,3&landscape.y=-2,2&start=2.5,1.5&steps=200&racer=sgd;lr=0.05&racer=momentum;lr=0.01",
}
HARNESS = "import json, runpy, sys\nprint(json.dumps(runpy.run_path(sys.argv[1])['paths']))\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-python", required=True, help="a Python with torch and numpy installed")
    parser.add_argument("--tolerance", type=float, default=1e-9)
    parser.add_argument("--only", default="", help="run only the scenes whose name contains this")
    args = parser.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, query in SCENES.items():
            if args.only not in name:
                continue
            scene = scene_from_query(query)
            path = Path(tmp) / "race.py"
            path.write_text(script(scene))
            done = subprocess.run(
                [args.torch_python, "-c", HARNESS, str(path)], capture_output=True, text=True, check=True
            )
            got = json.loads(done.stdout.splitlines()[-1])
            worst, same_length = 0.0, True
            for racer in run(scene)["racers"]:
                mine = got[racer["label"]]
                same_length &= len(mine) == len(racer["path"])
                for a, b in zip(mine, racer["path"], strict=False):
                    worst = max(worst, abs(a[0] - b[0]), abs(a[1] - b[1]))
            ok = same_length and worst <= args.tolerance
            failed += not ok
            print(
                f"{'ok  ' if ok else 'FAIL'} {name}: max |Δ| = {worst:.3g}{'' if same_length else ', lengths differ'}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
