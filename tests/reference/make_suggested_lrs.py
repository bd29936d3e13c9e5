"""Print core.landscape_notes.SUGGESTED_LR: per landscape and optimizer, a learning rate that descends well.

Run from the repository root:  .venv/bin/python tests/reference/make_suggested_lrs.py
For each landscape (default start, 500 steps) a 61-rate sweep from 1e-5 to 10 (core.sweep); of the rates
whose final gap is below the start's and within 10x of the best, the middle one, rounded down to 1, 2 or
5 x 10^k, lowered along the sweep's grid until a race at it descends without diverging.
"""

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.race import run
from core.scene import Scene
from core.sweep import sweep


def nice_down(lr):
    e = math.floor(math.log10(lr))
    m = lr / 10**e
    for step in (5, 2, 1):
        if m >= step - 1e-9:
            return float(f"{step}e{e}")


def works(land, o, lr):
    r = run(
        Scene.model_validate(
            {"landscape": {"name": land}, "steps": 500, "racers": [{"optimizer": o, "params": {"lr": lr}}]}
        )
    )["racers"][0]
    return r["status"] != "diverged" and r["loss"][-1] < r["loss"][0] - 1e-9 * abs(r["loss"][0])


out = {}
names = list(OPTIMIZERS)
for land in LANDSCAPES:
    row = {}
    for chunk in (names[:8], names[8:]):
        sc = Scene.model_validate(
            {"landscape": {"name": land}, "steps": 500, "racers": [{"optimizer": o} for o in chunk]}
        )
        res = sweep(sc, 1e-5, 10.0, 61)
        lrs = res["lrs"]
        start = run(
            Scene.model_validate(
                {"landscape": {"name": land}, "steps": 1, "racers": [{"optimizer": "sgd", "params": {"lr": 0}}]}
            )
        )["racers"][0]["loss"][0]
        best_min = min(m.value for m in LANDSCAPES[land].surface().minima)
        g0 = start - best_min
        for r in res["racers"]:
            ok = [(g, k) for k, g in enumerate(r["final_gap"]) if g is not None and g < g0 * 0.999]
            if not ok:
                continue
            best = min(g for g, _ in ok)
            good = [k for g, k in ok if g <= max(best * 10, best + 1e-6)]
            k = good[len(good) // 2]
            for kk in range(k, -1, -1):
                lr = nice_down(lrs[kk])
                if works(land, r["optimizer"], lr):
                    row[r["optimizer"]] = lr
                    break
    out[land] = row
print(json.dumps(out, indent=1))
