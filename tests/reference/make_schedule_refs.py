"""Generate torch.optim.lr_scheduler reference values for optirace's schedules.

Run from the repository root with a torch venv (torch is NOT a project dependency):

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchvenv/bin/python tests/reference/make_schedule_refs.py

Writes tests/reference/schedules.json: {"torch_version", "cases": [{"schedule", "params",
"lr", "steps", "torch", "expected"}]}. For every case it builds torch.optim.SGD on a dummy
float64 parameter with lr = the case's lr, builds the scheduler by evaluating the schedule's
"Copy as PyTorch" template (``core.schedules.SCHEDULES[name].torch``, filled with the case's
resolved parameters; stored as "torch"), and then, for t = 0 … steps − 1, records
``optimizer.param_groups[0]["lr"]`` before the t-th ``optimizer.step()`` and calls
``scheduler.step()`` after it. So the expected values are torch's own, recursion included, and
the template is checked to reproduce them. ``core.schedules`` is used only for its templates and
defaults, never for its formulas.

``warmup_cosine`` and ``inverse_sqrt`` are no torch classes; their templates are LambdaLRs, and
this script also computes them from the DESIGN.md formula with a plain Python loop and checks
both agree (to 1e-12 relative) before writing torch's values.

"params" are the case's parameters as a user gives them (missing ones take their defaults, which
may depend on steps). Floats are written with repr (json.dumps), which round-trips exactly.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.schedules import SCHEDULES, resolve_schedule_params  # noqa: E402

OUT = Path(__file__).with_name("schedules.json")

# (schedule, params, lr, steps); every schedule at its defaults and beyond them: past T_max and
# total_iters, across several restarts, at phase boundaries; and each one for a single update.
CASES: list[tuple[str, dict, float, int]] = [
    ("constant", {}, 0.1, 100),
    ("step", {}, 0.1, 100),
    ("step", {"step_size": 7, "gamma": 0.5}, 0.05, 120),
    ("step", {"step_size": 1, "gamma": 0.9}, 1.0, 150),
    ("multistep", {}, 0.1, 100),
    ("multistep", {"milestones": [0, 10, 40, 41], "gamma": 0.3}, 0.05, 120),
    ("multistep", {"milestones": [50, 500], "gamma": 0.5}, 1.0, 100),
    ("multistep", {"milestones": []}, 0.1, 100),
    ("exponential", {}, 0.1, 200),
    ("exponential", {"gamma": 0.95}, 1.0, 150),
    ("exponential", {"gamma": 1.0}, 0.05, 100),
    ("cosine", {}, 0.1, 100),
    ("cosine", {"T_max": 30, "eta_min": 0.001}, 0.1, 200),
    ("cosine", {"T_max": 7}, 1.0, 300),
    ("cosine", {"T_max": 1, "eta_min": 0.01}, 0.1, 100),
    ("cosine", {"T_max": 250, "eta_min": 0.01}, 0.05, 100),
    ("cosine", {"T_max": 400}, 0.1, 1000),
    ("linear", {}, 0.1, 100),
    ("linear", {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 40}, 0.05, 120),
    ("linear", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 100}, 1.0, 150),
    ("linear", {"start_factor": 0.5, "end_factor": 0.2, "total_iters": 300}, 0.1, 100),
    ("cosine_restarts", {}, 0.1, 100),
    ("cosine_restarts", {"T_0": 10, "T_mult": 2, "eta_min": 0.001}, 0.1, 200),
    ("cosine_restarts", {"T_0": 3, "T_mult": 3}, 1.0, 300),
    ("cosine_restarts", {"T_0": 1, "T_mult": 1}, 0.05, 100),
    ("cosine_restarts", {"T_0": 7, "T_mult": 1, "eta_min": 0.01}, 0.1, 150),
    ("onecycle", {}, 0.1, 100),
    ("onecycle", {"total_steps": 150, "pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0}, 1.0, 150),
    ("onecycle", {"total_steps": 200}, 0.1, 100),
    ("onecycle", {"pct_start": 0.0}, 0.1, 100),
    ("onecycle", {"pct_start": 1.0, "total_steps": 120}, 0.1, 100),
    ("onecycle", {"pct_start": 0.333}, 0.05, 101),
    ("onecycle", {"pct_start": 0.005}, 0.1, 100),
    ("polynomial", {}, 0.1, 100),
    ("polynomial", {"total_iters": 50, "power": 2.0}, 0.1, 120),
    ("polynomial", {"total_iters": 80, "power": 0.5}, 1.0, 150),
    ("polynomial", {"total_iters": 300, "power": 3.0}, 0.05, 100),
    ("cyclic", {}, 0.1, 100),
    ("cyclic", {"base_lr": 0.01, "step_size_up": 7}, 0.1, 150),
    ("cyclic", {"base_lr": 0.5, "step_size_up": 20}, 0.1, 100),
    ("cyclic", {"base_lr": 0.0, "step_size_up": 1}, 1.0, 100),
    ("warmup_cosine", {}, 0.1, 100),
    ("warmup_cosine", {"warmup": 0}, 0.1, 100),
    ("warmup_cosine", {"warmup": 25, "eta_min": 0.001}, 0.05, 200),
    ("warmup_cosine", {"warmup": 99}, 1.0, 100),
    ("inverse_sqrt", {}, 0.1, 100),
    ("inverse_sqrt", {"warmup": 1}, 1.0, 150),
    ("inverse_sqrt", {"warmup": 30}, 0.05, 200),
    *((name, {}, 0.1, 1) for name in SCHEDULES),  # a run of a single update
]


def warmup_cosine(lr: float, steps: int, warmup: int, eta_min: float) -> list[float]:
    """DESIGN.md: lr·t/warmup for t < warmup, then cosine from lr to eta_min over the rest."""
    values = []
    for t in range(steps):
        if t < warmup:
            values.append(lr * t / warmup)
        else:
            progress = (t - warmup) / (steps - warmup)
            values.append(eta_min + 0.5 * (lr - eta_min) * (1 + math.cos(math.pi * progress)))
    return values


def inverse_sqrt(lr: float, steps: int, warmup: int) -> list[float]:
    """DESIGN.md: lr·min((t+1)/warmup, sqrt(warmup/(t+1)))."""
    return [lr * min((t + 1) / warmup, math.sqrt(warmup / (t + 1))) for t in range(steps)]


INDEPENDENT = {"warmup_cosine": warmup_cosine, "inverse_sqrt": inverse_sqrt}


def torch_lrs(code: str, lr: float, steps: int) -> list[float]:
    """param_groups[0]["lr"] before each of ``steps`` optimizer steps, scheduler.step() after each."""
    weight = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    weight.grad = torch.zeros_like(weight)
    optimizer = torch.optim.SGD([weight], lr=lr)
    scheduler = eval(code, {"torch": torch, "math": math, "optimizer": optimizer})
    values = []
    for _ in range(steps):
        values.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        scheduler.step()
    return values


def make_case(name: str, params: dict, lr: float, steps: int) -> dict:
    resolved = resolve_schedule_params(name, params, steps)
    code = SCHEDULES[name].torch.format(lr=lr, steps=steps, **resolved)
    expected = torch_lrs(code, lr, steps)
    if name in INDEPENDENT:
        plain = INDEPENDENT[name](lr, steps, **resolved)
        for t, (a, b) in enumerate(zip(expected, plain, strict=True)):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300), (name, params, t, a, b)
    return {"schedule": name, "params": params, "lr": lr, "steps": steps, "torch": code, "expected": expected}


def main() -> None:
    missing = set(SCHEDULES) - {name for name, *_ in CASES}
    assert not missing, f"no reference case for {sorted(missing)}"
    cases = [make_case(*case) for case in CASES]
    OUT.write_text(json.dumps({"torch_version": torch.__version__, "cases": cases}, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
