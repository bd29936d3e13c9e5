"""Generate torch.optim reference trajectories for optirace's optimizers.

Run with a torch venv (torch is NOT a project dependency):

    /work/torchenv/bin/python tests/reference/make_optimizer_refs.py

Writes tests/reference/optimizers.json next to this file, then re-loads it and
self-checks it (lengths, finiteness, every optimizer present, paths moving).

Every case is a single float64 parameter tensor of shape (2,) driven by a
deterministic float64 gradient (closed form, computed with torch float64 ops):

* ``rosenbrock``: f = (1-x)^2 + 100 (y-x^2)^2
* ``quadratic``:  f = 1/2 theta^T A theta with A = [[10, 4], [4, 2]]
  (rotated, condition number ~34)

Before every step t we set ``param_groups[0]["lr"] = lr_per_step[t]`` (as an
LR scheduler would), put the gradient into ``p.grad`` and call ``step()``.
For each step t we record the gradient fed at step t (``grads[t]``) and the
parameter after step t (``points[t]``). All optimizers are built with
``foreach=False`` and ``maximize=False`` so that torch's single-tensor
reference path (``_single_tensor_<name>``) is what is recorded.

torch's default dtype is set to float64 while generating. The only place where
this matters is NAdam: its ``mu_product`` state is created with
``_get_scalar_dtype()``, i.e. float32 under torch's usual float32 default dtype
and float64 under a float64 default. With float64 everything in the recorded
trajectories is plain IEEE double arithmetic.

ATEN_CPU_CAPABILITY is forced to ``default`` (see below) so that torch does not
fuse multiply-adds; the recorded numbers are then what NumPy float64 computes
step by step in torch's operation order.

JSON floats are written with Python's repr (json.dumps), which round-trips
exactly.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

# Pin ATen's CPU kernels to the portable (non-SIMD) build. On AVX2/AVX512 CPUs
# torch's float64 add(alpha=), addcmul and lerp are compiled with fused
# multiply-add (one rounding), on the DEFAULT capability they are plain
# `x + alpha*y` etc. (two roundings), which is what NumPy computes. Must be set
# before torch is imported.
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import itertools

import torch

OUT = Path(__file__).with_name("optimizers.json")
STEPS = 150

torch.set_default_dtype(torch.float64)
CPU_CAPABILITY = torch.backends.cpu.get_cpu_capability()
assert CPU_CAPABILITY == "DEFAULT", CPU_CAPABILITY

# --------------------------------------------------------------------------
# Landscapes (float64, closed-form gradients)
# --------------------------------------------------------------------------
A = torch.tensor([[10.0, 4.0], [4.0, 2.0]], dtype=torch.float64)


def grad_rosenbrock(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    gx = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x)
    gy = 200.0 * (y - x * x)
    return torch.stack([gx, gy])


def grad_quadratic(p: torch.Tensor) -> torch.Tensor:
    return A @ p


LANDSCAPES = {
    "rosenbrock": (grad_rosenbrock, [-1.5, 2.0]),
    "quadratic": (grad_quadratic, [3.0, -2.0]),
}

# --------------------------------------------------------------------------
# Optimizers: our name -> (torch class, our hyperparameters with torch defaults,
# fixed torch kwargs)
# --------------------------------------------------------------------------
OPTS = {
    "sgd": (torch.optim.SGD, dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0), {}),
    "momentum": (torch.optim.SGD, dict(lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0), {}),
    "nesterov": (torch.optim.SGD, dict(lr=1e-3, momentum=0.9, weight_decay=0.0), dict(nesterov=True, dampening=0.0)),
    "adagrad": (
        torch.optim.Adagrad,
        dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10),
        {},
    ),
    "rmsprop": (
        torch.optim.RMSprop,
        dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
        {},
    ),
    "adam": (torch.optim.Adam, dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False), {}),
    "amsgrad": (
        torch.optim.Adam,
        dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0),
        dict(amsgrad=True),
    ),
    "adamw": (torch.optim.AdamW, dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False), {}),
    "nadam": (
        torch.optim.NAdam,
        dict(
            lr=2e-3,
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
            weight_decay=0.0,
            momentum_decay=4e-3,
            decoupled_weight_decay=False,
        ),
        {},
    ),
    "radam": (
        torch.optim.RAdam,
        dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False),
        {},
    ),
    "adamax": (torch.optim.Adamax, dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0), {}),
    "adadelta": (torch.optim.Adadelta, dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0), {}),
}


def torch_kwargs(opt: str, params: dict) -> dict:
    _, _, fixed = OPTS[opt]
    kw = {k: v for k, v in params.items() if k not in ("beta1", "beta2")}
    if "beta1" in params:
        kw["betas"] = (params["beta1"], params["beta2"])
    kw.update(fixed)
    kw["foreach"] = False
    kw["maximize"] = False
    return kw


def torch_call(opt: str, params: dict) -> str:
    cls = OPTS[opt][0]
    kw = torch_kwargs(opt, params)
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    return f"torch.optim.{cls.__name__}([p], {args})"


# --------------------------------------------------------------------------
# Per-step learning-rate lists (explicit; a schedule feeds lr per step)
# --------------------------------------------------------------------------
def sched_warmup_cosine(base: float, n: int, warmup: int = 10, floor: float = 0.1):
    out = []
    for t in range(n):
        if t < warmup:
            out.append(base * (t + 1) / (warmup + 1))
        else:
            u = (t - warmup) / (n - warmup)
            out.append(base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * u))))
    return out


def sched_inverse_sqrt(base: float, n: int, warmup: int = 8):
    return [base * min((t + 1) / warmup, math.sqrt(warmup / (t + 1))) for t in range(n)]


def sched_cyclic(base: float, n: int, period: int = 30, low: float = 0.2):
    out = []
    for t in range(n):
        ph = (t % period) / period
        tri = 1 - abs(2 * ph - 1)  # 0 -> 1 -> 0
        out.append(base * (low + (1 - low) * tri))
    return out


def sched_exp(base: float, n: int, gamma: float = 0.985):
    return [base * gamma**t for t in range(n)]


SCHEDS = {
    "warmup_cosine": sched_warmup_cosine,
    "inverse_sqrt": sched_inverse_sqrt,
    "cyclic": sched_cyclic,
    "exponential": sched_exp,
}

# --------------------------------------------------------------------------
# Cases: (id suffix, landscape, overrides of our hyperparameters, schedule)
# --------------------------------------------------------------------------
C = []


def case(opt, suffix, land, sched=None, **over):
    C.append(dict(opt=opt, suffix=suffix, land=land, sched=sched, over=over))


# sgd
case("sgd", "default", "rosenbrock", lr=9e-4)
case("sgd", "default", "quadratic", lr=0.05)
case("sgd", "wd-mom-damp", "quadratic", lr=0.03, weight_decay=0.1, momentum=0.5, dampening=0.3)
case("sgd", "wd", "rosenbrock", lr=8e-4, weight_decay=0.2)
case("sgd", "sched", "quadratic", sched="warmup_cosine", lr=0.12)
# momentum
case("momentum", "default", "rosenbrock", lr=1e-4)
case("momentum", "default", "quadratic", lr=0.01)
case("momentum", "damp-wd", "quadratic", lr=0.02, momentum=0.8, dampening=0.5, weight_decay=0.05)
case("momentum", "damp", "rosenbrock", lr=2e-4, momentum=0.95, dampening=0.1)
case("momentum", "sched", "rosenbrock", sched="inverse_sqrt", lr=1.5e-4)
# nesterov
case("nesterov", "default", "rosenbrock", lr=1.5e-4)
case("nesterov", "default", "quadratic", lr=0.01)
case("nesterov", "wd-mom", "quadratic", lr=0.02, momentum=0.7, weight_decay=0.1)
case("nesterov", "sched", "quadratic", sched="cyclic", lr=0.015)
# adagrad
case("adagrad", "default", "rosenbrock", lr=0.3)
case("adagrad", "default", "quadratic", lr=0.5)
case("adagrad", "decay-init-wd", "quadratic", lr=1.0, lr_decay=0.02, initial_accumulator_value=0.5, weight_decay=0.1)
case("adagrad", "eps-init", "rosenbrock", lr=0.5, eps=1e-3, initial_accumulator_value=2.0, lr_decay=0.005)
case("adagrad", "sched", "rosenbrock", sched="exponential", lr=0.6)
# rmsprop
case("rmsprop", "default", "rosenbrock", lr=0.01)
case("rmsprop", "default", "quadratic", lr=0.02)
case("rmsprop", "centered-mom", "rosenbrock", lr=1e-3, centered=True, momentum=0.9)
case("rmsprop", "centered-wd-alpha", "quadratic", lr=0.01, centered=True, alpha=0.9, weight_decay=0.1, eps=1e-4)
case("rmsprop", "mom-wd", "quadratic", lr=0.003, momentum=0.8, weight_decay=0.05, alpha=0.95)
case("rmsprop", "sched", "quadratic", sched="warmup_cosine", lr=0.05, centered=True)
# adam
case("adam", "default", "rosenbrock", lr=0.05)
case("adam", "default", "quadratic", lr=0.05)
case("adam", "wd", "rosenbrock", lr=0.02, weight_decay=0.1)
case("adam", "betas-eps-amsgrad", "quadratic", lr=0.08, beta1=0.8, beta2=0.95, eps=1e-3, amsgrad=True)
case("adam", "sched", "rosenbrock", sched="cyclic", lr=0.06, beta1=0.85)
# amsgrad
case("amsgrad", "default", "rosenbrock", lr=0.05)
case("amsgrad", "default", "quadratic", lr=0.05)
case("amsgrad", "wd-betas", "quadratic", lr=0.06, beta1=0.7, beta2=0.9, weight_decay=0.2, eps=1e-6)
case("amsgrad", "sched", "rosenbrock", sched="inverse_sqrt", lr=0.05)
# adamw
case("adamw", "default", "rosenbrock", lr=0.05)
case("adamw", "default", "quadratic", lr=0.05)
case("adamw", "wd-betas", "quadratic", lr=0.05, weight_decay=0.5, beta1=0.8, beta2=0.99)
case("adamw", "amsgrad-wd", "rosenbrock", lr=0.02, weight_decay=0.1, amsgrad=True, eps=1e-4)
case("adamw", "sched", "quadratic", sched="warmup_cosine", lr=0.1, weight_decay=0.2)
# nadam
case("nadam", "default", "rosenbrock", lr=0.05)
case("nadam", "default", "quadratic", lr=0.05)
case("nadam", "wd", "rosenbrock", lr=0.02, weight_decay=0.1)
case(
    "nadam",
    "decoupled-wd",
    "quadratic",
    lr=0.05,
    weight_decay=0.3,
    decoupled_weight_decay=True,
    beta1=0.85,
    beta2=0.99,
    momentum_decay=0.01,
)
case("nadam", "sched", "quadratic", sched="exponential", lr=0.08, eps=1e-4)
# radam
case("radam", "default", "rosenbrock", lr=2e-3)
case("radam", "default", "quadratic", lr=0.05)
case("radam", "wd-betas", "quadratic", lr=0.05, weight_decay=0.1, beta1=0.8, beta2=0.99)
case("radam", "decoupled-wd", "rosenbrock", lr=3e-3, weight_decay=0.2, decoupled_weight_decay=True, eps=1e-6)
case("radam", "sched", "quadratic", sched="cyclic", lr=0.06)
# adamax
case("adamax", "default", "rosenbrock", lr=0.06)
case("adamax", "default", "quadratic", lr=0.05)
case("adamax", "wd-betas-eps", "quadratic", lr=0.05, weight_decay=0.1, beta1=0.8, beta2=0.95, eps=1e-2)
case("adamax", "sched", "rosenbrock", sched="warmup_cosine", lr=0.08)
# adadelta
case("adadelta", "default", "rosenbrock", lr=1.0)
case("adadelta", "default", "quadratic", lr=1.0)
case("adadelta", "lr-rho-eps", "quadratic", lr=5.0, rho=0.95, eps=1e-4)
case("adadelta", "wd", "rosenbrock", lr=4.0, weight_decay=0.1, rho=0.8)
case("adadelta", "sched", "quadratic", sched="inverse_sqrt", lr=20.0)


# --------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------
def run_case(c: dict) -> dict:
    opt = c["opt"]
    cls, defaults, _ = OPTS[opt]
    params = dict(defaults)
    for k, v in c["over"].items():
        if k not in params:
            raise KeyError(f"{opt} has no hyperparameter {k}")
        params[k] = v
    grad_fn, start = LANDSCAPES[c["land"]]
    if c["sched"] is None:
        lrs = [float(params["lr"])] * STEPS
    else:
        lrs = [float(v) for v in SCHEDS[c["sched"]](params["lr"], STEPS)]

    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    o = cls([p], **torch_kwargs(opt, params))
    grads, points = [], []
    for t in range(STEPS):
        o.param_groups[0]["lr"] = lrs[t]
        with torch.no_grad():
            g = grad_fn(p.detach().clone())
        p.grad = g.clone()
        grads.append([float(v) for v in g.tolist()])
        o.step()
        points.append([float(v) for v in p.detach().tolist()])

    cid = f"{opt}-{c['land']}-{c['suffix']}"
    if c["sched"] is not None:
        cid = f"{opt}-{c['land']}-sched-{c['sched']}"
    return {
        "id": cid,
        "optimizer": opt,
        "landscape": c["land"],
        "params": params,
        "torch_call": torch_call(opt, params),
        "schedule": c["sched"] or "constant",
        "torch_default_dtype": "float64",
        "lr_per_step": lrs,
        "start": [float(v) for v in start],
        "grads": grads,
        "points": points,
    }


def self_check(path: Path) -> None:
    data = json.loads(path.read_text())
    assert data["torch_version"] == torch.__version__
    assert data["aten_cpu_capability"] == "DEFAULT"
    cases = data["cases"]
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    per_opt: dict[str, int] = {}
    for c in cases:
        per_opt[c["optimizer"]] = per_opt.get(c["optimizer"], 0) + 1
        n = len(c["points"])
        assert n >= 120, c["id"]
        assert len(c["grads"]) == n and len(c["lr_per_step"]) == n, c["id"]
        assert len(c["start"]) == 2
        assert all(len(r) == 2 for r in c["grads"] + c["points"]), c["id"]
        flat = [v for r in c["grads"] + c["points"] for v in r] + c["lr_per_step"] + c["start"]
        assert all(isinstance(v, float) and math.isfinite(v) for v in flat), c["id"]
        # bounded and moving
        assert max(abs(v) for r in c["points"] for v in r) < 10.0, c["id"]
        prev = c["start"]
        moves = []
        for q in c["points"]:
            moves.append(math.hypot(q[0] - prev[0], q[1] - prev[1]))
            prev = q
        assert all(m > 0.0 for m in moves), f"{c['id']}: a step did not move"
        assert sum(moves) > 0.25, f"{c['id']}: path too short ({sum(moves)})"
        assert max(moves) < 2.0, f"{c['id']}: jump too large"
        # constant-lr cases really are constant; sched cases really change every step
        if c["schedule"] == "constant":
            assert len(set(c["lr_per_step"])) == 1, c["id"]
        else:
            lrs = c["lr_per_step"]
            assert all(a != b for a, b in itertools.pairwise(lrs)), c["id"]
    missing = set(OPTS) - set(per_opt)
    assert not missing, f"missing optimizers: {missing}"
    assert all(v >= 3 for v in per_opt.values()), per_opt
    assert any(c["schedule"] != "constant" for c in cases)
    for opt in OPTS:
        assert any(c["optimizer"] == opt and c["schedule"] != "constant" for c in cases), opt
    # replaying the first case through torch again gives bit-identical points
    c0 = next(x for x in C if x["opt"] == "nadam")
    again = run_case(c0)
    ref = next(c for c in cases if c["id"] == again["id"])
    assert again["points"] == ref["points"] and again["grads"] == ref["grads"]
    size = path.stat().st_size
    assert size < 1_500_000, size
    print(f"self-check ok: {len(cases)} cases, {size} bytes, per optimizer: {per_opt}")


def main() -> None:
    cases = [run_case(c) for c in C]
    data = {
        "torch_version": torch.__version__,
        "steps": STEPS,
        "aten_cpu_capability": CPU_CAPABILITY,
        "landscapes": {
            "rosenbrock": "f = (1-x)^2 + 100*(y-x^2)^2; grad = [-2(1-x) - 400x(y-x^2), 200(y-x^2)]",
            "quadratic": "f = 0.5 * theta^T A theta, A = [[10, 4], [4, 2]]; grad = A @ theta",
        },
        "notes": (
            "Before step t: param_groups[0]['lr'] = lr_per_step[t]; p.grad = grads[t]; "
            "optimizer.step(). points[t] = parameter after step t. foreach=False, "
            "maximize=False, torch.set_default_dtype(torch.float64) (matters only for "
            "NAdam's mu_product state dtype), ATEN_CPU_CAPABILITY=default (no FMA in "
            "add/addcmul/lerp). torch's float64 sqrt on this build is 1 ulp low for ~0.75% "
            "of inputs; a plain float64 replay with a correctly rounded sqrt still "
            "reproduced every case here bit for bit (the ulp is absorbed when the step is "
            "added to the parameter), but that is not guaranteed for new cases. "
            "Generated by make_optimizer_refs.py."
        ),
        "cases": cases,
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    for c in cases:
        pts = c["points"]
        last = math.hypot(pts[-1][0] - pts[-2][0], pts[-1][1] - pts[-2][1])
        path = sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip([c["start"], *pts], pts, strict=False))
        jump = max(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip([c["start"], *pts], pts, strict=False))
        print(
            f"{c['id']:45s} end=({pts[-1][0]: .4f},{pts[-1][1]: .4f}) "
            f"last_step={last:.2e} path={path:.3f} jump={jump:.3f}"
        )
    self_check(OUT)


if __name__ == "__main__":
    main()
