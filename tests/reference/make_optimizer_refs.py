"""Generate torch.optim reference trajectories for optirace's optimizers.

Run with a torch venv (torch is NOT a project dependency):

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchvenv/bin/python tests/reference/make_optimizer_refs.py

Writes tests/reference/optimizers.json next to this file, then re-loads it and
self-checks it (lengths, finiteness, every optimizer present, paths moving).
Then writes tests/reference/optimizer_internals.json: shorter runs of every
torch optimizer optirace has (also lbfgs, rprop, asgd, adafactor) that record,
after every step, the update applied and every entry of ``optimizer.state[p]``
under torch's own names (see INTERNALS_NOTES below and the "notes" field).

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

(lbfgs instead calls ``step(closure)``; its closure computes the loss and the
gradient on plain Python floats with optirace's formulas, see CLOSURE_LANDSCAPES.)

torch's default dtype is set to float64 while generating. It matters for
NAdam's ``mu_product`` and ASGD's ``eta`` and ``mu`` states, created with
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

import numpy as np
import torch

# torch's CPU sqrt (Tensor.sqrt, Tensor.sqrt_, torch.sqrt, and pow(x, 0.5), which
# no optimizer uses and which is not replaced) calls MKL's vmdSqrt (statically
# linked, HA mode) whatever ATEN_CPU_CAPABILITY says.
# Its result depends on the CPU MKL dispatches for: on an AMD EPYC it is 1 ulp
# off for ~1.2% of inputs, elsewhere it is correctly rounded. So "torch's
# numbers" would depend on the machine that generates them. We replace it by
# the IEEE (correctly rounded) square root, which is what torch computes where
# MKL's sqrt is exact, and what every other engine computes: with it, this
# script regenerates the optimizers.json committed before byte for byte. No
# other operation the optimizers use goes through MKL (rsqrt, norm, dot,
# add/mul/div/addcmul/lerp are ATen kernels; check_kernels() checks the first three).
_MKL_SQRT = torch.Tensor.sqrt


def _ieee_sqrt(x: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.asarray(np.sqrt(x.detach().numpy())))


def _ieee_sqrt_(x: torch.Tensor) -> torch.Tensor:
    return x.copy_(_ieee_sqrt(x))


torch.Tensor.sqrt = _ieee_sqrt
torch.Tensor.sqrt_ = _ieee_sqrt_
torch.sqrt = _ieee_sqrt

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


# ==========================================================================
# Internals: optimizer_internals.json
# ==========================================================================
# Shorter runs that also record, after every step, every entry of
# ``optimizer.state[p]`` under torch's own names and the update applied
# (theta_after - theta_before), for every torch optimizer optirace has
# (the twelve above plus lbfgs, rprop, asgd, adafactor).
INTERNALS_OUT = Path(__file__).with_name("optimizer_internals.json")
INTERNAL_STEPS = 24
INTERNALS_NOTES = (
    "Before step t: param_groups[0]['lr'] = lr_per_step[t]; then, except for lbfgs, p.grad = grads[t] "
    "and optimizer.step(); for lbfgs optimizer.step(closure), where the closure sets p.grad to the "
    "landscape's gradient at p and returns its loss; evals[t] lists every closure evaluation of step t "
    "in order as [x, y, loss, gx, gy], func_evals_per_step[t] = len(evals[t]), grads[t] = the "
    "gradient of the first evaluation. points[t] = parameter after step t; updates[t] = points[t] - "
    "(points[t-1] or start), float64 subtraction. state[name][t] = optimizer.state[p][name] after "
    "step t under torch's names: 0-d tensors and Python numbers as floats (n_iter and func_evals as "
    "ints), vectors as [a, b], lbfgs's old_dirs/old_stps as lists of vectors, ro and al as lists of "
    "floats (al without its unused None slots); null where the entry is not in the state yet. "
    "foreach=False, maximize=False, torch.set_default_dtype(torch.float64) (so step, NAdam's "
    "mu_product and ASGD's eta/mu are float64 tensors), ATEN_CPU_CAPABILITY=default, sqrt = the "
    "correctly rounded IEEE square root (torch's calls MKL's vmdSqrt, 1 ulp off on some CPUs). Adafactor's "
    "eps1 = torch.finfo(float64).eps is what torch uses for eps=(None, eps2). lbfgs: max_iter=1, "
    "max_eval as given (torch's default for max_iter=1 is 1). Generated by make_optimizer_refs.py."
)

FLOAT64_EPS = torch.finfo(torch.float64).eps  # Adafactor's eps1=None means this, exactly

# Our names for the new optimizers' hyperparameters. As ``betas`` becomes
# beta1/beta2, torch's tuples are split: Rprop's etas -> etaminus/etaplus and
# step_sizes -> step_size_min/step_size_max (the names torch's
# _single_tensor_rprop uses), Adafactor's eps -> eps1/eps2 (the names
# _single_tensor_adafactor uses; eps1=None in torch means
# torch.finfo(float64).eps = 2**-52, which is what we pass).
NEW_OPTS = {
    "lbfgs": (
        torch.optim.LBFGS,
        dict(
            lr=1.0,
            history_size=100,
            line_search_fn=None,
            tolerance_grad=1e-7,
            tolerance_change=1e-9,
            max_eval=1,
        ),
        dict(max_iter=1),
    ),
    "rprop": (
        torch.optim.Rprop,
        dict(lr=1e-2, etaminus=0.5, etaplus=1.2, step_size_min=1e-6, step_size_max=50.0),
        {},
    ),
    "asgd": (torch.optim.ASGD, dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0), {}),
    "adafactor": (
        torch.optim.Adafactor,
        dict(lr=1e-2, beta2_decay=-0.8, eps1=FLOAT64_EPS, eps2=1e-3, d=1.0, weight_decay=0.0),
        {},
    ),
}
ALL_OPTS = {**OPTS, **NEW_OPTS}
# Our split names -> torch's tuple argument
TUPLES = {
    "betas": ("beta1", "beta2"),
    "etas": ("etaminus", "etaplus"),
    "step_sizes": ("step_size_min", "step_size_max"),
    "eps": ("eps1", "eps2"),
}


def torch_kwargs_any(opt: str, params: dict) -> dict:
    cls, _, fixed = ALL_OPTS[opt]
    split = {name for pair in TUPLES.values() for name in pair}
    kw = {k: v for k, v in params.items() if k not in split}
    for torch_name, (a, b) in TUPLES.items():
        if a in params:
            kw[torch_name] = (params[a], params[b])
    kw.update(fixed)
    if cls is not torch.optim.LBFGS:  # LBFGS has neither option
        kw["foreach"] = False
        kw["maximize"] = False
    return kw


def torch_call_any(opt: str, params: dict) -> str:
    cls = ALL_OPTS[opt][0]
    args = ", ".join(f"{k}={v!r}" for k, v in torch_kwargs_any(opt, params).items())
    return f"torch.optim.{cls.__name__}([p], {args})"


# Loss and gradient on plain Python floats, for LBFGS's closure (it needs the
# loss too, and evaluates at trial points). The same operations in the same
# order as optirace's core/landscapes.py (rosenbrock, beale) and its bowl
# formula (quadratic: g = A theta, f = 0.5 (x gx + y gy)).
def f_rosenbrock(x: float, y: float) -> tuple[float, float, float]:
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b


def f_quadratic(x: float, y: float) -> tuple[float, float, float]:
    gx = 10.0 * x + 4.0 * y
    gy = 4.0 * x + 2.0 * y
    return 0.5 * (x * gx + y * gy), gx, gy


def f_beale(x: float, y: float) -> tuple[float, float, float]:
    y2 = y * y
    y3 = y2 * y
    d1 = y - 1.0
    d2 = y2 - 1.0
    d3 = y3 - 1.0
    r1 = x * d1 + 1.5
    r2 = x * d2 + 2.25
    r3 = x * d3 + 2.625
    loss = r1 * r1 + r2 * r2 + r3 * r3
    gx = 2.0 * (r1 * d1 + r2 * d2 + r3 * d3)
    gy = 2.0 * x * (r1 + 2.0 * r2 * y + 3.0 * r3 * y2)
    return loss, gx, gy


CLOSURE_LANDSCAPES = {
    "rosenbrock": (f_rosenbrock, [-1.5, 2.0]),
    "quadratic": (f_quadratic, [3.0, -2.0]),
    "beale": (f_beale, [1.0, 1.5]),
}

IC: list[dict] = []


def icase(opt, suffix, land, sched=None, steps=INTERNAL_STEPS, **over):
    IC.append(dict(opt=opt, suffix=suffix, land=land, sched=sched, steps=steps, over=over))


# Every optimizer: one case at its defaults (constant lr) and at least one with
# non-default hyperparameters under a per-step lr that changes every step.
icase("sgd", "default", "rosenbrock", lr=9e-4)
icase("sgd", "wd-mom-damp", "quadratic", "warmup_cosine", lr=0.03, weight_decay=0.1, momentum=0.5, dampening=0.3)
icase("momentum", "default", "rosenbrock", lr=1e-4)
icase("momentum", "damp-wd", "quadratic", "inverse_sqrt", lr=0.02, momentum=0.8, dampening=0.5, weight_decay=0.05)
icase("nesterov", "default", "quadratic", lr=0.01)
icase("nesterov", "wd-mom", "rosenbrock", "cyclic", lr=1.5e-4, momentum=0.7, weight_decay=0.1)
icase("adagrad", "default", "rosenbrock", lr=0.3)
icase(
    "adagrad",
    "decay-init-wd-eps",
    "quadratic",
    "exponential",
    lr=1.0,
    lr_decay=0.02,
    initial_accumulator_value=0.5,
    weight_decay=0.1,
    eps=1e-3,
)
icase("rmsprop", "default", "rosenbrock", lr=0.01)
icase(
    "rmsprop",
    "centered-mom-wd",
    "rosenbrock",
    "warmup_cosine",
    lr=1e-3,
    centered=True,
    momentum=0.9,
    weight_decay=0.05,
    alpha=0.95,
)
icase("rmsprop", "centered-alpha-eps", "quadratic", "cyclic", lr=0.01, centered=True, alpha=0.9, eps=1e-4)
icase("adam", "default", "rosenbrock", lr=0.05)
icase(
    "adam",
    "wd-betas-eps-amsgrad",
    "quadratic",
    "cyclic",
    lr=0.08,
    beta1=0.8,
    beta2=0.95,
    eps=1e-3,
    amsgrad=True,
    weight_decay=0.1,
)
icase("amsgrad", "default", "rosenbrock", lr=0.05)
icase("amsgrad", "wd-betas", "quadratic", "inverse_sqrt", lr=0.06, beta1=0.7, beta2=0.9, weight_decay=0.2, eps=1e-6)
icase("adamw", "default", "rosenbrock", lr=0.05)
icase(
    "adamw",
    "wd-betas-amsgrad",
    "quadratic",
    "warmup_cosine",
    lr=0.1,
    weight_decay=0.5,
    beta1=0.8,
    beta2=0.99,
    amsgrad=True,
)
icase("nadam", "default", "rosenbrock", lr=0.05)
icase(
    "nadam",
    "decoupled-wd",
    "quadratic",
    "exponential",
    lr=0.08,
    weight_decay=0.3,
    decoupled_weight_decay=True,
    beta1=0.85,
    beta2=0.99,
    momentum_decay=0.01,
    eps=1e-4,
)
icase("nadam", "wd", "rosenbrock", "cyclic", lr=0.02, weight_decay=0.1, momentum_decay=2e-3)
icase("radam", "default", "rosenbrock", lr=2e-3)
icase(
    "radam",
    "decoupled-wd",
    "rosenbrock",
    "cyclic",
    lr=3e-3,
    weight_decay=0.2,
    decoupled_weight_decay=True,
    eps=1e-6,
    beta1=0.8,
    beta2=0.99,
)
icase("radam", "wd", "quadratic", "warmup_cosine", lr=0.05, weight_decay=0.1, beta2=0.95)
icase("adamax", "default", "rosenbrock", lr=0.06)
icase(
    "adamax", "wd-betas-eps", "quadratic", "warmup_cosine", lr=0.05, weight_decay=0.1, beta1=0.8, beta2=0.95, eps=1e-2
)
icase("adadelta", "default", "rosenbrock", lr=1.0)
icase("adadelta", "lr-rho-eps-wd", "quadratic", "inverse_sqrt", lr=5.0, rho=0.95, eps=1e-4, weight_decay=0.1)
# rprop: lr only seeds step_size (a schedule changes nothing after step 1)
icase("rprop", "default", "rosenbrock", steps=40)
icase("rprop", "default", "quadratic", steps=40)
icase(
    "rprop",
    "etas-sizes",
    "quadratic",
    "exponential",
    steps=40,
    lr=0.05,
    etaminus=0.3,
    etaplus=1.5,
    step_size_min=0.02,
    step_size_max=0.5,
)
icase("rprop", "max-clamp", "rosenbrock", "cyclic", steps=40, lr=2e-3, etaplus=1.3, step_size_max=1e-2)
# asgd: with t0 = 1e6 the average ax is a copy of the parameter; small t0 averages
icase("asgd", "default", "rosenbrock", steps=40, lr=1e-3)
icase("asgd", "default", "quadratic", steps=40, lr=0.02)
icase(
    "asgd",
    "t0-lambd-alpha-wd",
    "quadratic",
    "cyclic",
    steps=40,
    lr=0.05,
    lambd=1e-2,
    alpha=0.6,
    t0=20.0,
    weight_decay=0.1,
)
icase("asgd", "t0-zero", "rosenbrock", "warmup_cosine", steps=40, lr=1.5e-3, lambd=0.05, alpha=1.0, t0=0.0)
# adafactor (a (2,) parameter: the vector, non-factored path)
icase("adafactor", "default", "rosenbrock", steps=40)
icase("adafactor", "default", "quadratic", steps=40, lr=0.05)
icase(
    "adafactor",
    "decay-eps-d-wd",
    "quadratic",
    "warmup_cosine",
    steps=40,
    lr=0.5,
    beta2_decay=-0.5,
    eps1=1e-10,
    eps2=1e-2,
    d=2.0,
    weight_decay=0.1,
)
icase("adafactor", "rho-sqrt-clip", "rosenbrock", "exponential", steps=40, lr=1.0, weight_decay=0.01, eps2=0.1)
# lbfgs (max_iter=1; closure = the landscape's loss and gradient at p)
icase("lbfgs", "default", "quadratic", steps=12)
icase("lbfgs", "default", "rosenbrock", steps=20, lr=0.2)
icase("lbfgs", "history3", "rosenbrock", "cyclic", steps=40, lr=0.3, history_size=3)
icase("lbfgs", "history3", "beale", steps=34, lr=0.5, history_size=3)
icase("lbfgs", "wolfe", "beale", steps=18, line_search_fn="strong_wolfe")
# max_eval defaults to max_iter * 5 // 4 = 1: the line search may then only try t and keeps
# t = 0 when the loss rose; here that happens on every step (the racer never moves)
icase("lbfgs", "wolfe-stuck", "rosenbrock", steps=6, line_search_fn="strong_wolfe", history_size=3)
icase("lbfgs", "wolfe-maxeval25", "rosenbrock", steps=30, line_search_fn="strong_wolfe", max_eval=25, history_size=3)
icase("lbfgs", "wolfe-maxeval25", "quadratic", steps=10, line_search_fn="strong_wolfe", max_eval=25)
icase(
    "lbfgs",
    "wolfe-maxeval10",
    "beale",
    "inverse_sqrt",
    steps=30,
    line_search_fn="strong_wolfe",
    max_eval=10,
    history_size=5,
)
# a first trial step far too long: bracketing, then the zoom phase (cubic interpolation with
# d2^2 < 0 on rosenbrock; trial points pushed 0.1 of the bracket away from its ends on beale)
icase(
    "lbfgs", "wolfe-zoom", "rosenbrock", steps=15, lr=30.0, line_search_fn="strong_wolfe", max_eval=25, history_size=3
)
icase("lbfgs", "wolfe-zoom", "beale", steps=12, lr=300.0, line_search_fn="strong_wolfe", max_eval=25, history_size=3)
icase("lbfgs", "tolerances", "quadratic", steps=13, lr=0.8, tolerance_grad=1e-3, tolerance_change=1e-4)


def _state_value(key: str, value):
    """One entry of optimizer.state[p] as JSON: floats, lists of floats, lists of lists."""
    if isinstance(value, torch.Tensor):
        return float(value.item()) if value.dim() == 0 else [float(v) for v in value.tolist()]
    if isinstance(value, list):
        # LBFGS's old_dirs / old_stps (vectors), ro (0-d), al (0-d, None where unused)
        return [_state_value(key, v) for v in value if v is not None]
    if key in ("n_iter", "func_evals"):
        return int(value)
    return float(value)


def run_internal_case(c: dict) -> dict:
    opt, steps = c["opt"], c["steps"]
    cls, defaults, _ = ALL_OPTS[opt]
    params = dict(defaults)
    for k, v in c["over"].items():
        if k not in params:
            raise KeyError(f"{opt} has no hyperparameter {k}")
        params[k] = v
    if opt == "lbfgs":
        value_fn, start = CLOSURE_LANDSCAPES[c["land"]]
    else:
        grad_fn, start = LANDSCAPES[c["land"]]
    if c["sched"] is None:
        lrs = [float(params["lr"])] * steps
    else:
        lrs = [float(v) for v in SCHEDS[c["sched"]](params["lr"], steps)]

    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    o = cls([p], **torch_kwargs_any(opt, params))
    grads, points, updates, evals = [], [], [], []
    states: dict[str, list] = {}
    for t in range(steps):
        o.param_groups[0]["lr"] = lrs[t]
        before = [float(v) for v in p.detach().tolist()]
        if opt == "lbfgs":
            step_evals: list[list[float]] = []

            def closure(step_evals=step_evals):
                x, y = (float(v) for v in p.detach().tolist())
                f, gx, gy = value_fn(x, y)
                p.grad = torch.tensor([gx, gy], dtype=torch.float64)
                step_evals.append([x, y, f, gx, gy])
                return torch.tensor(f, dtype=torch.float64)

            o.step(closure)
            evals.append(step_evals)
            grads.append(step_evals[0][3:5])
        else:
            with torch.no_grad():
                g = grad_fn(p.detach().clone())
            p.grad = g.clone()
            grads.append([float(v) for v in g.tolist()])
            o.step()
        after = [float(v) for v in p.detach().tolist()]
        points.append(after)
        updates.append([a - b for a, b in zip(after, before, strict=True)])
        st = o.state[p]
        for key in st:
            if st[key] is None:  # SGD keeps momentum_buffer = None without momentum
                continue
            if key not in states:
                states[key] = [None] * t  # not in the state before this step
            states[key].append(_state_value(key, st[key]))
        for seq in states.values():
            if len(seq) == t:  # gone from the state (never happens in torch 2.13; keep lengths honest)
                seq.append(None)

    cid = f"{opt}-{c['land']}-{c['suffix']}"
    if c["sched"] is not None:
        cid += f"-sched-{c['sched']}"
    out = {
        "id": cid,
        "optimizer": opt,
        "landscape": c["land"],
        "params": params,
        "torch_call": torch_call_any(opt, params),
        "schedule": c["sched"] or "constant",
        "steps": steps,
        "lr_per_step": lrs,
        "start": [float(v) for v in start],
        "grads": grads,
        "points": points,
        "updates": updates,
        "state": states,
    }
    if opt == "lbfgs":
        out["evals"] = evals
        out["func_evals_per_step"] = [len(e) for e in evals]
    return out


def self_check_internals(path: Path) -> None:
    data = json.loads(path.read_text())
    assert data["torch_version"] == torch.__version__
    assert data["aten_cpu_capability"] == "DEFAULT"
    cases = data["cases"]
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    per_opt: dict[str, int] = {}
    for c in cases:
        per_opt[c["optimizer"]] = per_opt.get(c["optimizer"], 0) + 1
        n = c["steps"]
        assert len(c["points"]) == len(c["grads"]) == len(c["updates"]) == len(c["lr_per_step"]) == n, c["id"]
        prev = c["start"]
        for q, u in zip(c["points"], c["updates"], strict=True):
            assert u == [q[0] - prev[0], q[1] - prev[1]], c["id"]
            prev = q
        assert all(math.isfinite(v) for r in c["points"] + c["grads"] + c["updates"] for v in r), c["id"]
        assert max(abs(v) for r in c["points"] for v in r) < 100.0, c["id"]
        assert "step" in c["state"] or c["optimizer"] in ("sgd", "momentum", "nesterov", "lbfgs"), c["id"]
        for key, seq in c["state"].items():
            assert len(seq) == n, (c["id"], key)
        moved = sum(1 for u in c["updates"] if u != [0.0, 0.0])
        assert moved >= n // 3 or c["id"].endswith("-stuck"), f"{c['id']}: hardly moves"
        if c["schedule"] != "constant":
            assert all(a != b for a, b in itertools.pairwise(c["lr_per_step"])), c["id"]
        if c["optimizer"] == "lbfgs":
            assert c["func_evals_per_step"] == [len(e) for e in c["evals"]]
            assert c["state"]["func_evals"][-1] == sum(c["func_evals_per_step"]), c["id"]
    missing = set(ALL_OPTS) - set(per_opt)
    assert not missing, f"missing optimizers: {missing}"
    for opt in ALL_OPTS:
        assert any(c["optimizer"] == opt and c["schedule"] != "constant" for c in cases), opt
    size = path.stat().st_size
    print(f"internals self-check ok: {len(cases)} cases, {size} bytes, per optimizer: {per_opt}")


def write_internals() -> None:
    cases = [run_internal_case(c) for c in IC]
    data = {
        "torch_version": torch.__version__,
        "aten_cpu_capability": CPU_CAPABILITY,
        "torch_default_dtype": "float64",
        "landscapes": {
            "rosenbrock": "a = 1-x; b = y-x*x; f = a*a + 100*b*b; grad = [-2*a - 400*x*b, 200*b]",
            "quadratic": "gx = 10*x + 4*y; gy = 4*x + 2*y; f = 0.5*(x*gx + y*gy)",
            "beale": "optirace's beale (core/landscapes.py), same operations; used by lbfgs only",
        },
        "notes": INTERNALS_NOTES,
        "cases": cases,
    }
    INTERNALS_OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    for c in cases:
        pts = c["points"]
        extra = f" evals={sum(c['func_evals_per_step'])}" if "evals" in c else ""
        print(f"{c['id']:55s} end=({pts[-1][0]: .4f},{pts[-1][1]: .4f}) state={sorted(c['state'])}{extra}")
    self_check_internals(INTERNALS_OUT)


def check_kernels() -> None:
    """The float64 kernels the rules rely on compute what plain IEEE code computes (on 20 000 inputs)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(20_000, 2, generator=gen, dtype=torch.float64) * 10.0 ** torch.randint(
        -5, 6, (20_000, 2), generator=gen
    )
    b = torch.randn(20_000, 2, generator=gen, dtype=torch.float64)
    rows_a, rows_b = a.tolist(), b.tolist()
    assert a.sqrt().tolist() == [[math.sqrt(x), math.sqrt(y)] for x, y in rows_a], "sqrt is not IEEE"
    assert a.rsqrt().tolist() == [[1.0 / math.sqrt(x), 1.0 / math.sqrt(y)] for x, y in rows_a], "rsqrt"
    for (x, y), (u, v), ta, tb in itertools.islice(zip(rows_a, rows_b, a, b, strict=True), 2000):
        assert ta.norm(2).item() == math.sqrt(x * x + y * y), "norm"
        assert ta.dot(tb).item() == x * u + y * v, "dot"
    mkl = _MKL_SQRT(a).tolist()
    off = sum(m != math.sqrt(x) for row, mrow in zip(rows_a, mkl, strict=True) for x, m in zip(row, mrow, strict=True))
    print(f"kernels ok; torch's own (MKL) sqrt differs from IEEE on {off} of {2 * len(rows_a)} inputs here")


def main() -> None:
    # the IEEE sqrt is in place (MKL's vmdSqrt gives 97.05499678053863 here on an AMD EPYC)
    assert torch.tensor([9419.672400070365]).sqrt().item() == math.sqrt(9419.672400070365) == 97.05499678053864
    check_kernels()
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
            "add/addcmul/lerp). sqrt is the correctly rounded IEEE square root: torch's "
            "own CPU sqrt calls MKL's vmdSqrt, which is 1 ulp off for ~1.2% of inputs on "
            "some CPUs (AMD EPYC) and exact on others, so the script replaces it. "
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
    write_internals()


if __name__ == "__main__":
    main()
