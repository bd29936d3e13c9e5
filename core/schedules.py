"""Learning-rate schedules: the learning rate of every update of a run, computed at once over t.

``lr_per_step(name, params, lr, steps)[t]`` is the learning rate used by update t, for
t = 0, 1, …, steps − 1, exactly as ``torch.optim.lr_scheduler`` gives it when
``scheduler.step()`` follows every ``optimizer.step()``: the value of
``optimizer.param_groups[0]["lr"]`` at the moment of the t-th ``optimizer.step()``. ``lr`` is the
racer's learning rate (torch: the optimizer's lr, or ``max_lr`` for ``onecycle`` and ``cyclic``).

torch updates most schedules recursively (multiply the current lr by a factor each step); here
each one is the equivalent closed form, vectorized over t, which agrees with torch to rounding
(tests/reference/schedules.json holds torch's own values, also past T_max and total_iters).

Each schedule function's docstring is the one place its formula is written; the API serves it as
the schedule's ``formula``. Its example table lists lr_t for lr = 1.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from core.params import OfSteps, ParamSpec, ranged, resolve_params

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# A schedule's lengths in updates (T_max, step_size, milestones, …) stay below this: a race has at most 20 000
# updates, and much larger numbers only overflow float powers and int64 products.
MAX_UPDATES = 10**9


# --- the schedules: lr_t for t = np.arange(steps) --------------------------------------------


def constant(t: IntArray, lr: float) -> FloatArray:
    """The same learning rate for every update.

    lr_t = lr

    Example (lr=1, steps=4):
        t   0  1  2  3
        lr  1  1  1  1
    """
    return np.full(t.shape, lr, dtype=np.float64)


def step(t: IntArray, lr: float, step_size: int, gamma: float) -> FloatArray:
    """Step decay: multiply the learning rate by gamma every step_size updates; as torch StepLR.

    lr_t = lr · gamma^⌊t / step_size⌋

    Example (lr=1, steps=8, step_size=3, gamma=0.5):
        t   0  1  2  3    4    5    6     7
        lr  1  1  1  0.5  0.5  0.5  0.25  0.25
    """
    return lr * gamma ** (t // step_size)


def multistep(t: IntArray, lr: float, milestones: list[int], gamma: float) -> FloatArray:
    """Multiply the learning rate by gamma at each milestone; as torch MultiStepLR.

    lr_t = lr · gamma^k,   k = number of milestones m with m ≤ t

    Example (lr=1, steps=8, milestones=[2, 5], gamma=0.1):
        t   0  1  2    3    4    5     6     7
        lr  1  1  0.1  0.1  0.1  0.01  0.01  0.01
    """
    return lr * gamma ** np.searchsorted(milestones, t, side="right")


def exponential(t: IntArray, lr: float, gamma: float) -> FloatArray:
    """Exponential decay: multiply the learning rate by gamma after every update; as torch ExponentialLR.

    lr_t = lr · gamma^t

    Example (lr=1, steps=5, gamma=0.5):
        t   0  1    2     3      4
        lr  1  0.5  0.25  0.125  0.0625
    """
    return lr * gamma**t


def cosine(t: IntArray, lr: float, T_max: int, eta_min: float) -> FloatArray:
    """Cosine annealing from lr down to eta_min over T_max updates; as torch CosineAnnealingLR.

    lr_t = eta_min + (lr − eta_min) · (1 + cos(π·t / T_max)) / 2

    torch computes this recursively, lr_t from lr_(t−1); the recursion equals the closed form
    above for every t, so past T_max the learning rate does not stay at eta_min: it rises back
    to lr at t = 2·T_max and repeats with period 2·T_max.

    Example (lr=1, steps=9, T_max=4, eta_min=0):
        t   0  1      2    3      4  5      6    7      8
        lr  1  0.854  0.5  0.146  0  0.146  0.5  0.854  1
    """
    return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2


def linear(t: IntArray, lr: float, start_factor: float, end_factor: float, total_iters: int) -> FloatArray:
    """Scale lr by a factor that moves linearly from start_factor to end_factor; as torch LinearLR.

    lr_t = lr · (start_factor + (end_factor − start_factor) · min(t, total_iters) / total_iters)

    From t = total_iters on, the learning rate stays at lr · end_factor.

    Example (lr=1, steps=6, start_factor=0.25, end_factor=1, total_iters=3):
        t   0     1    2     3  4  5
        lr  0.25  0.5  0.75  1  1  1
    """
    progress = np.minimum(t, total_iters) / total_iters
    return lr * (start_factor + (end_factor - start_factor) * progress)


def cosine_restarts(t: IntArray, lr: float, T_0: int, T_mult: int, eta_min: float) -> FloatArray:
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017); as torch CosineAnnealingWarmRestarts.

    lr_t = eta_min + (lr − eta_min) · (1 + cos(π·T_cur / T_i)) / 2

    where cycle i lasts T_i = T_0 · T_mult^i updates and T_cur counts the updates since the
    last restart. At each restart the learning rate jumps back to lr.

    Example (lr=1, steps=10, T_0=2, T_mult=2, eta_min=0):
        t   0  1    2  3      4    5      6  7      8      9
        lr  1  0.5  1  0.854  0.5  0.146  1  0.962  0.854  0.691
    """
    if T_mult == 1:
        since_restart, cycle_length = t % T_0, T_0
    else:
        starts, lengths = [0], [T_0]
        while starts[-1] + lengths[-1] <= t[-1]:
            starts.append(starts[-1] + lengths[-1])
            lengths.append(lengths[-1] * T_mult)
        cycle = np.searchsorted(starts, t, side="right") - 1
        since_restart = t - np.asarray(starts)[cycle]
        cycle_length = np.asarray(lengths)[cycle]
    return eta_min + (lr - eta_min) * (1 + np.cos(np.pi * since_restart / cycle_length)) / 2


def onecycle(
    t: IntArray, lr: float, total_steps: int, pct_start: float, div_factor: float, final_div_factor: float
) -> FloatArray:
    """The 1cycle policy (Smith & Topin 2017): warm up to lr, then anneal far below the start; as torch OneCycleLR.

    torch.optim.lr_scheduler.OneCycleLR with max_lr = lr, anneal_strategy="cos",
    three_phase=False and cycle_momentum=False (only the learning rate cycles here). With
    lr_0 = lr / div_factor, lr_min = lr_0 / final_div_factor, p = pct_start · total_steps − 1,
    N = total_steps and anneal(a, b, x) = b + (a − b) · (1 + cos(π·x)) / 2:

    lr_t = anneal(lr_0, lr, t / p)                   for t ≤ p
    lr_t = anneal(lr, lr_min, (t − p) / (N − 1 − p))  for t > p

    lr_min is reached at t = N − 1; torch raises past total_steps, so N ≥ steps. torch divides
    by zero when pct_start · N = 1, or when pct_start = 1 and N = steps: both are rejected.

    Example (lr=1, steps=10, total_steps=10, pct_start=0.3, div_factor=10, final_div_factor=10):
        t   0    1     2  3      4      5      6      7      8      9
        lr  0.1  0.55  1  0.951  0.814  0.615  0.395  0.196  0.059  0.01
    """
    initial_lr = lr / div_factor
    min_lr = initial_lr / final_div_factor
    warmup_end = float(pct_start * total_steps) - 1
    warming = t <= warmup_end
    out = np.empty(t.shape, dtype=np.float64)
    out[warming] = _anneal_cos(initial_lr, lr, t[warming] / warmup_end)
    annealing = t[~warming]
    out[~warming] = _anneal_cos(lr, min_lr, (annealing - warmup_end) / (total_steps - 1 - warmup_end))
    return out


def _anneal_cos(start: float, end: float, pct: FloatArray) -> FloatArray:
    """Cosine from ``start`` (pct = 0) to ``end`` (pct = 1), in torch OneCycleLR's order of operations."""
    return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)


def polynomial(t: IntArray, lr: float, total_iters: int, power: float) -> FloatArray:
    """Polynomial decay to zero over total_iters updates; as torch PolynomialLR.

    lr_t = lr · (1 − min(t, total_iters) / total_iters)^power

    From t = total_iters on, the learning rate stays at 0.

    Example (lr=1, steps=6, total_iters=4, power=2):
        t   0  1       2     3       4  5
        lr  1  0.5625  0.25  0.0625  0  0
    """
    return lr * (1.0 - np.minimum(t, total_iters) / total_iters) ** power


def cyclic(t: IntArray, lr: float, base_lr: float, step_size_up: int) -> FloatArray:
    """Triangular cyclical learning rate (Smith 2017); as torch CyclicLR(mode="triangular").

    torch.optim.lr_scheduler.CyclicLR with max_lr = lr, step_size_down = step_size_up and
    cycle_momentum=False (only the learning rate cycles here):

    lr_t = base_lr + (lr − base_lr) · (1 − |(t / step_size_up mod 2) − 1|)

    a triangle wave: up from base_lr to lr in step_size_up updates, down again in as many.

    Example (lr=1, steps=9, base_lr=0.2, step_size_up=2):
        t   0    1    2  3    4    5    6  7    8
        lr  0.2  0.6  1  0.6  0.2  0.6  1  0.6  0.2
    """
    cycle_size = 2.0 * step_size_up
    position = 1.0 + t / cycle_size - np.floor(1 + t / cycle_size)  # in [0, 1)
    height = np.where(position <= 0.5, position / 0.5, (position - 1) / (0.5 - 1))
    return base_lr + (lr - base_lr) * height


def warmup_cosine(t: IntArray, lr: float, warmup: int, eta_min: float) -> FloatArray:
    """Linear warm-up from 0 to lr, then cosine annealing to eta_min over the remaining updates.

    lr_t = lr · t / warmup                                                        for t < warmup
    lr_t = eta_min + (lr − eta_min) · (1 + cos(π·(t − warmup) / (steps − warmup))) / 2   for t ≥ warmup

    steps is the length of the run (warmup < steps). No torch class; in torch it is a LambdaLR.

    Example (lr=1, steps=6, warmup=2, eta_min=0):
        t   0  1    2  3      4    5
        lr  0  0.5  1  0.854  0.5  0.146
    """
    steps = t.size
    ramp = lr * t / max(warmup, 1)  # only used where t < warmup, so warmup ≥ 1 there
    anneal = eta_min + (lr - eta_min) * (1 + np.cos(np.pi * (t - warmup) / (steps - warmup))) / 2
    return np.where(t < warmup, ramp, anneal)


def inverse_sqrt(t: IntArray, lr: float, warmup: int) -> FloatArray:
    """Linear warm-up to lr, then decay as 1/√t (Vaswani et al. 2017, "Noam").

    lr_t = lr · min((t + 1) / warmup, √(warmup / (t + 1)))

    The peak lr is reached at t = warmup − 1; with warmup = 1 it is lr / √(t + 1).
    No torch class; in torch it is a LambdaLR.

    Example (lr=1, steps=8, warmup=2):
        t   0    1  2      3      4      5      6      7
        lr  0.5  1  0.816  0.707  0.632  0.577  0.535  0.5
    """
    return lr * np.minimum((t + 1) / warmup, np.sqrt(warmup / (t + 1)))


# --- the registry -------------------------------------------------------------------------------


def _no_check(params: dict[str, Any], steps: int) -> None:
    return None


@dataclass(frozen=True)
class Schedule:
    """A registry entry: a schedule function, its title, its torch equivalent and its parameters.

    The function's name is the name a user picks; its docstring is the schedule's ``formula``.
    ``torch`` is the torch call that reproduces it, a template with ``{name}`` placeholders for
    every parameter plus ``{lr}`` and ``{steps}`` (it may use ``math``). A parameter whose default
    is ``None`` depends on the race, as data in its spec (``ParamSpec.race_default``, which the page
    reads too): ``race_defaults(steps)`` gives them. ``check(params, steps)`` raises ``ValueError``
    for combinations torch rejects or that make no sense for a run of ``steps`` updates.
    """

    function: Callable[..., FloatArray] = field(repr=False, compare=False)
    title: str
    torch: str
    params: tuple[ParamSpec, ...] = ()
    check: Callable[[dict[str, Any], int], None] = field(default=_no_check, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def formula(self) -> str:
        return inspect.cleandoc(self.function.__doc__ or "")

    def race_defaults(self, steps: int) -> dict[str, Any]:
        """The run-dependent defaults for a run of ``steps`` updates, from the specs' ``race_default``."""
        return {spec.name: spec.race_value(steps) for spec in self.params if spec.race_default}


def _decay_gamma(default: float, help_text: str, slider_min: float, scale: Any) -> ParamSpec:
    return ranged("gamma", default, help_text, (slider_min, 1.0), scale, maximum=1.0, open_min=True)


def _eta_min() -> ParamSpec:
    return ranged("eta_min", 0.0, "the lowest learning rate", (0.0, 0.1))


_WHOLE_RUN = OfSteps()


def _race_length(name: str, help_text: str, of_steps: OfSteps = _WHOLE_RUN, minimum: int = 1) -> ParamSpec:
    """An integer number of updates ≥ ``minimum`` whose default depends on the race (default: the whole run)."""
    return ParamSpec(name, None, help_text, "int", minimum, MAX_UPDATES, slider_min=minimum, race_default=(of_steps,))


def _warmup(minimum: int, help_text: str) -> ParamSpec:
    """Warm-up updates, at least ``minimum``; default: a tenth of the run."""
    return _race_length("warmup", help_text, OfSteps(1, 10, at_least=minimum), minimum)


def _check_milestones(params: dict[str, Any], steps: int) -> None:
    milestones = params["milestones"]
    if any(a >= b for a, b in itertools.pairwise(milestones)):
        raise ValueError(f"multistep.milestones must be increasing, got {milestones}")


def _check_onecycle(params: dict[str, Any], steps: int) -> None:
    if params["total_steps"] < steps:
        raise ValueError(
            f"onecycle.total_steps must be >= steps ({steps}), since torch raises past "
            f"total_steps, got {params['total_steps']}"
        )
    # torch divides by zero where a phase has length 0 and is reached (scheduler.step() after
    # the last update included): warm-up ending at 0, or annealing ending where it starts.
    warmup_end = float(params["pct_start"] * params["total_steps"]) - 1
    if warmup_end == 0:
        raise ValueError(
            "onecycle.pct_start · total_steps must not be 1 (torch divides by zero), got "
            f"pct_start={params['pct_start']}, total_steps={params['total_steps']}"
        )
    if warmup_end == params["total_steps"] - 1 and params["total_steps"] == steps:
        raise ValueError(
            f"onecycle.pct_start must be < 1 when total_steps = steps ({steps}), since torch "
            f"divides by zero after the last update, got pct_start={params['pct_start']}"
        )


def _check_warmup_below_steps(params: dict[str, Any], steps: int) -> None:
    if params["warmup"] >= steps:
        raise ValueError(f"warmup_cosine.warmup must be < steps ({steps}), got {params['warmup']}")


_LAMBDA_LR = "torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda t: {})"

SCHEDULES: dict[str, Schedule] = {
    schedule.name: schedule
    for schedule in (
        Schedule(constant, "Constant", _LAMBDA_LR.format("1.0")),
        Schedule(
            step,
            "Step decay",
            "torch.optim.lr_scheduler.StepLR(optimizer, step_size={step_size}, gamma={gamma})",
            (
                _race_length(
                    "step_size", "updates between two decays (default: a third of the run)", OfSteps(1, 3, "ceil", 1)
                ),
                _decay_gamma(0.1, "factor applied at every decay", 0.01, "log"),
            ),
        ),
        Schedule(
            multistep,
            "Multi-step decay",
            "torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones={milestones}, gamma={gamma})",
            (
                ParamSpec(
                    "milestones",
                    None,
                    "increasing updates at which lr is multiplied by gamma (default: at 1/2 and 3/4 of the run)",
                    kind="int_list",
                    minimum=0,
                    maximum=MAX_UPDATES,
                    race_default=(OfSteps(1, 2), OfSteps(3, 4)),
                ),
                _decay_gamma(0.1, "factor applied at every milestone", 0.01, "log"),
            ),
            check=_check_milestones,
        ),
        Schedule(
            exponential,
            "Exponential decay",
            "torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={gamma})",
            (_decay_gamma(0.99, "factor applied after every update", 0.9, "linear"),),
        ),
        Schedule(
            cosine,
            "Cosine annealing",
            "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={T_max}, eta_min={eta_min})",
            (
                _race_length("T_max", "updates from lr down to eta_min (default: the whole run)"),
                _eta_min(),
            ),
        ),
        Schedule(
            linear,
            "Linear",
            "torch.optim.lr_scheduler.LinearLR(optimizer, start_factor={start_factor}, "
            "end_factor={end_factor}, total_iters={total_iters})",
            (
                ranged(
                    "start_factor",
                    1 / 3,
                    "lr is multiplied by this at the first update",
                    (0.01, 1.0),
                    "log",
                    maximum=1.0,
                    open_min=True,
                ),
                ranged("end_factor", 1.0, "lr is multiplied by this from total_iters on", (0.0, 1.0), maximum=1.0),
                _race_length(
                    "total_iters",
                    "updates from start_factor to end_factor (default: a tenth of the run)",
                    OfSteps(1, 10, at_least=1),
                ),
            ),
        ),
        Schedule(
            cosine_restarts,
            "Cosine with warm restarts",
            "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0={T_0}, "
            "T_mult={T_mult}, eta_min={eta_min})",
            (
                _race_length(
                    "T_0", "updates until the first restart (default: a quarter of the run)", OfSteps(1, 4, at_least=1)
                ),
                ranged(
                    "T_mult",
                    1,
                    "each cycle is T_mult times longer than the one before",
                    (1, 4),
                    minimum=1,
                    maximum=MAX_UPDATES,
                    kind="int",
                ),
                _eta_min(),
            ),
        ),
        Schedule(
            onecycle,
            "One-cycle",
            "torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr={lr}, total_steps={total_steps}, "
            "pct_start={pct_start}, div_factor={div_factor}, final_div_factor={final_div_factor}, "
            "cycle_momentum=False)",
            (
                _race_length("total_steps", "length of the cycle, at least the run (default: the run)"),
                ranged("pct_start", 0.3, "fraction of the cycle spent warming up", (0.0, 1.0), maximum=1.0),
                ranged("div_factor", 25.0, "the cycle starts at lr / div_factor", (1.0, 1e3), "log", minimum=1.0),
                ranged(
                    "final_div_factor",
                    1e4,
                    "the cycle ends at lr / (div_factor · final_div_factor)",
                    (1.0, 1e6),
                    "log",
                    minimum=1.0,
                ),
            ),
            check=_check_onecycle,
        ),
        Schedule(
            polynomial,
            "Polynomial decay",
            "torch.optim.lr_scheduler.PolynomialLR(optimizer, total_iters={total_iters}, power={power})",
            (
                _race_length("total_iters", "updates until lr reaches 0 (default: the whole run)"),
                ranged("power", 1.0, "exponent of the decay: 1 is linear", (0.1, 10.0), "log", open_min=True),
            ),
        ),
        Schedule(
            cyclic,
            "Cyclic (triangular)",
            "torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr={base_lr}, max_lr={lr}, "
            "step_size_up={step_size_up}, mode='triangular', cycle_momentum=False)",
            (
                ranged("base_lr", 1e-3, "the bottom of the triangle; its top is the racer's lr", (1e-5, 1.0), "log"),
                _race_length(
                    "step_size_up",
                    "updates from base_lr up to lr (default: a quarter of the run)",
                    OfSteps(1, 4, at_least=1),
                ),
            ),
        ),
        Schedule(
            warmup_cosine,
            "Warm-up + cosine",
            _LAMBDA_LR.format(
                "t / {warmup} if t < {warmup} else ({eta_min} + ({lr} - {eta_min}) * "
                "(1 + math.cos(math.pi * (t - {warmup}) / ({steps} - {warmup}))) / 2) / {lr}"
            ),
            (
                _warmup(0, "updates of linear warm-up from 0, below steps (default: a tenth of the run)"),
                _eta_min(),
            ),
            check=_check_warmup_below_steps,
        ),
        Schedule(
            inverse_sqrt,
            "Inverse square root",
            _LAMBDA_LR.format("min((t + 1) / {warmup}, ({warmup} / (t + 1)) ** 0.5)"),
            (_warmup(1, "updates of linear warm-up up to lr (default: a tenth of the run)"),),
        ),
    )
}


def get_schedule(name: str) -> Schedule:
    """The registry entry for ``name``; raises ValueError listing the known names."""
    try:
        return SCHEDULES[name]
    except KeyError:
        raise ValueError(f"unknown schedule {name!r}; expected one of: {', '.join(SCHEDULES)}") from None


def resolve_schedule_params(name: str, params: Mapping[str, Any] | None, steps: int) -> dict[str, Any]:
    """Every parameter of schedule ``name`` for a run of ``steps`` updates, defaults filled in.

    Raises ValueError naming the field for an unknown or out-of-range parameter, or for a
    combination torch rejects (e.g. ``onecycle.total_steps < steps``).

    >>> resolve_schedule_params("cosine", {}, 100)
    {'T_max': 100, 'eta_min': 0.0}
    """
    schedule = get_schedule(name)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    resolved = resolve_params(schedule.params, params, owner=name)
    for key, value in schedule.race_defaults(steps).items():
        if resolved[key] is None:
            resolved[key] = value
    schedule.check(resolved, steps)
    return resolved


def lr_per_step(name: str, params: Mapping[str, Any] | None, lr: float, steps: int) -> FloatArray:
    """The learning rate of updates t = 0 … steps − 1 under schedule ``name``, float64 (steps,).

    >>> lr_per_step("step", {"step_size": 2, "gamma": 0.5}, 1.0, 5)
    array([1.  , 1.  , 0.5 , 0.5 , 0.25])
    """
    resolved = resolve_schedule_params(name, params, steps)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr < 0:
        raise ValueError(f"lr must be a finite number >= 0, got {lr!r}")
    t = np.arange(steps, dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        lrs = get_schedule(name).function(t, float(lr), **resolved)
    overflow = np.flatnonzero(~np.isfinite(lrs))
    if overflow.size:  # torch's arithmetic on an lr near float64's largest (cosine: (lr − eta_min)·(1 + cos)) overflows
        raise ValueError(
            f"the {name} schedule's learning rate is not a finite float64 at update {int(overflow[0])} "
            f"(lr {lr:g}); lower lr"
        )
    return lrs
