"""A scene as one self-contained PyTorch script ("Copy as PyTorch", GET /api/pytorch?<scene>).

The script needs torch and numpy and nothing of optirace. It defines the landscape as a torch function
of a (2,) float64 tensor (its parameters and the scene's l1/l2 included), the start, the gradient noise
drawn exactly as core.race draws it (NumPy's default_rng(seed), one (steps, 2) standard-normal draw,
times σ, shared by every racer), and each racer's torch.optim optimizer and lr_scheduler, filled from
the catalogues' templates (core.optimizers, core.schedules). Lion and Newton are not in torch.optim:
they are written out as small loops. After running, the module-level ``paths`` maps each racer's label
to its list of [x, y] (start included, stopping before a divergence, as the race does), and one
summary line per racer is printed, judged as optirace judges arrival and divergence.
"""

from __future__ import annotations

import textwrap
from typing import Any

from core.formula import torch_code
from core.landscapes import get_landscape
from core.optimizers import get_optimizer
from core.race import BOUND_FACTOR, surface_of
from core.scene import Scene
from core.scene_url import scene_to_query
from core.schedules import get_schedule

# Each landscape's f(x, y) in torch, the same arithmetic as core.landscapes (the gradient comes from
# autograd). Names in capitals are the landscape's parameters, defined above the function.
LANDSCAPE_CODE: dict[str, str] = {
    "beale": """
        y2 = y * y
        y3 = y2 * y
        r1 = x * (y - 1.0) + 1.5
        r2 = x * (y2 - 1.0) + 2.25
        r3 = x * (y3 - 1.0) + 2.625
        return r1 * r1 + r2 * r2 + r3 * r3""",
    "rosenbrock": """
        a = 1.0 - x
        b = y - x * x
        return a * a + 100.0 * b * b""",
    "saddle": """
        a = x * x - 1.0
        return 0.25 * a * a + 0.5 * y * y""",
    "bowl": """
        grad_x = A11 * x + A12 * y
        grad_y = A12 * x + A22 * y
        return 0.5 * (x * grad_x + y * grad_y)""",
    "himmelblau": """
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return a * a + b * b""",
    "rastrigin": """
        return 20.0 + x * x + y * y - 10.0 * (torch.cos(2.0 * math.pi * x) + torch.cos(2.0 * math.pi * y))""",
    "six_hump_camel": """
        x2 = x * x
        y2 = y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2""",
    "booth": """
        a = x + 2.0 * y - 7.0
        b = 2.0 * x + y - 5.0
        return a * a + b * b""",
    "goldstein_price": """
        u = x + y
        t = 2.0 * x - 3.0 * y
        a = (((3.0 * u - 8.0) * u - 6.0) * u + 24.0) * u + 20.0
        b = ((3.0 * t - 16.0) * t + 18.0) * t * t + 30.0
        return a * b""",
    "plateau": """
        inv_w2 = 1.0 / (WIDTH * WIDTH)
        return 1.0 - torch.exp(-0.5 * inv_w2 * (x * x + y * y))""",
    # a typed formula, written in torch by core.formula.torch_code; its f, x and y are no numbers to define
    "custom": """
        return {torch}""",
}

# Extra definitions a landscape's function needs, from its parameters.
_BOWL_MATRIX = """\
# A = R·diag(1/κ, 1)·Rᵀ, R the rotation by ANGLE degrees (as core.landscapes._bowl_matrix)
_c = math.cos(math.radians(ANGLE))
_s = math.sin(math.radians(ANGLE))
A11 = _c * _c / CONDITION + _s * _s
A12 = _c * _s * (1.0 / CONDITION - 1.0)
A22 = _s * _s / CONDITION + _c * _c
"""

# Optimizers outside torch.optim, written out as small torch.optim.Optimizer subclasses.
_LION = '''
class Lion(torch.optim.Optimizer):
    """Lion (Chen et al. 2023), as optax.lion; not in torch.optim.

        u ← sign(beta1·m + (1 − beta1)·g);  m ← beta2·m + (1 − beta2)·g;  θ ← θ − lr·(u + weight_decay·θ)
    """

    def __init__(self, params, lr, beta1, beta2, weight_decay):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                m = self.state[p].setdefault("exp_avg", torch.zeros_like(p))
                g = p.grad
                u = torch.sign(group["beta1"] * m + (1 - group["beta1"]) * g)
                self.state[p]["exp_avg"] = group["beta2"] * m + (1 - group["beta2"]) * g
                p.sub_(group["lr"] * (u + group["weight_decay"] * p))
'''

_NEWTON = '''
class Newton(torch.optim.Optimizer):
    """Damped Newton's method; not in torch.optim.

        θ ← θ − lr·(H + damping·I)⁻¹·g,  H the Hessian of loss_fn at θ (autograd)
    """

    def __init__(self, params, lr, damping):
        super().__init__(params, dict(lr=lr, damping=damping))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                with torch.enable_grad():
                    h = torch.autograd.functional.hessian(loss_fn, p.detach())
                a, b = h[0, 0] + group["damping"], h[0, 1]
                c, d = h[1, 0], h[1, 1] + group["damping"]
                g = p.grad
                det = a * d - b * c  # 2×2 solve written out, as optirace does
                step = torch.stack(((d * g[0] - b * g[1]) / det, (a * g[1] - c * g[0]) / det))
                p.sub_(group["lr"] * step)
'''

_CUSTOM = {
    "lion": ("Lion", _LION, "Lion(params, lr={lr}, beta1={beta1}, beta2={beta2}, weight_decay={weight_decay})"),
    "newton": ("Newton", _NEWTON, "Newton(params, lr={lr}, damping={damping})"),
}


_STEP = [
    "        loss.backward()",
    "        if NOISE is not None:",
    "            theta.grad.add_(torch.from_numpy(NOISE[step]))",
    "        optimizer.step()",
]
# L-BFGS evaluates the loss itself, more than once with a line search: it steps with a closure, and every
# evaluation of one step sees that step's noise draw (a closure over one mini-batch).
_LBFGS_STEP = [
    "        if isinstance(optimizer, torch.optim.LBFGS):",
    "            optimizer.step(closure(step))",
    "        else:",
    *("    " + line for line in _STEP),
]
_CLOSURE = [
    "",
    "    def closure(step):",
    '        """L-BFGS\'s closure of one step: the loss at theta; theta.grad, its gradient + the step\'s noise."""',
    "",
    "        def evaluate():",
    "            optimizer.zero_grad()",
    "            loss = loss_fn(theta)",
    "            loss.backward()",
    "            if NOISE is not None:",
    "                theta.grad.add_(torch.from_numpy(NOISE[step]))",
    "            return loss",
    "",
    "        return evaluate",
    "",
]


def py(value: Any) -> str:
    """A value as a Python literal (floats with repr, so every digit survives)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py(item) for item in value) + "]"
    return repr(value)


def fill(template: str, values: dict[str, Any]) -> str:
    """``{name}`` placeholders of a catalogue template replaced by Python literals."""
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", py(value))
    return out


def optimizer_code(racer: Any) -> str:
    """``lambda params: torch.optim.…(params, …)`` for one racer."""
    if racer.optimizer in _CUSTOM:
        return "lambda params: " + fill(_CUSTOM[racer.optimizer][2], dict(racer.params))
    spec = get_optimizer(racer.optimizer)
    choices = {p.name for p in spec.params if p.kind == "choice"}
    values = {name: None if name in choices and value == "none" else value for name, value in racer.params.items()}
    call = fill(spec.torch, values)
    return f"lambda params: {call}"


def scheduler_code(racer: Any, steps: int) -> str:
    """``lambda optimizer: torch.optim.lr_scheduler.…(optimizer, …)``, or None for a constant lr."""
    if racer.schedule.name == "constant":
        return "None"
    schedule = get_schedule(racer.schedule.name)
    values = {**racer.schedule.params, "lr": racer.params["lr"], "steps": steps}
    return f"lambda optimizer: {fill(schedule.torch, values)}"


def script(scene: Scene) -> str:
    """The whole script for ``scene`` (filled first)."""
    scene = scene.filled()
    landscape = get_landscape(scene.landscape.name).resolve(scene.landscape.params)
    surface = surface_of(scene)
    query = scene_to_query(scene)
    domain = landscape.domain
    width, height = domain.xmax - domain.xmin, domain.ymax - domain.ymin
    params = dict(scene.landscape.params)
    code = LANDSCAPE_CODE[scene.landscape.name]
    if scene.landscape.name == "custom":
        code = code.format(torch=torch_code(params["f"]))
        params = {}
    lines: list[str] = [
        f'"""An optimizer race on {landscape.title}, {scene.steps} steps: exported by optirace from the scene',
        "",
        f"    ?{query}",
        "",
        "Run it as is with torch and numpy installed. Afterwards `paths` maps each racer's label to its",
        "list of [x, y] (the start included), and one line per racer says how it did.",
        '"""',
        "",
        "import math",
        "",
        "import numpy as np",
        "import torch",
        "",
        "torch.set_default_dtype(torch.float64)",
        "",
        f"# --- the landscape: f(x, y) = {landscape.formula}",
    ]
    for name, value in params.items():
        lines.append(f"{name.upper()} = {py(float(value))}")
    if scene.landscape.name == "bowl":
        lines.append(_BOWL_MATRIX.rstrip())
    lines += [
        f"L1 = {py(scene.l1)}  # penalty L1·(|x| + |y|)",
        f"L2 = {py(scene.l2)}  # penalty L2·(x² + y²)",
        "",
        "",
        "def f(x, y):",
        *("    " + line for line in textwrap.dedent(code).strip("\n").splitlines()),
        "",
        "",
        "def loss_fn(theta):",
        '    """f(θ) + L1·(|x| + |y|) + L2·(x² + y²) for a (2,) float64 tensor θ."""',
        "    x, y = theta[0], theta[1]",
        "    return f(x, y) + L1 * (x.abs() + y.abs()) + L2 * (x * x + y * y)",
    ]
    minima = [(list(m.point), m.value) for m in surface.minima]
    lines += [
        "",
        "",
        f"START = {py(list(scene.start or landscape.start))}",
        f"STEPS = {scene.steps}",
        "# Gradient noise N(0, σ²I), one draw per step shared by every racer, drawn as optirace draws it:",
        "# NumPy's default_rng(seed), one (STEPS, 2) standard-normal array, times σ.",
        f"NOISE_SIGMA = {py(scene.noise)}",
        f"SEED = {scene.seed}",
        "NOISE = NOISE_SIGMA * np.random.default_rng(SEED).standard_normal((STEPS, 2)) if NOISE_SIGMA > 0 else None",
        "",
        "# How optirace judges a race: a racer arrives at the first step whose loss is within TOLERANCE of a",
        "# minimum's value while its point is within RADIUS of it; it diverges at the first step whose point or",
        "# loss is not finite or whose point leaves the domain widened 10 times its size on every side.",
        f"MINIMA = {py(minima)}  # [[x, y], f]",
        f"TOLERANCE = {py(landscape.tolerance)}",
        f"RADIUS = {py(landscape.radius)}",
        f"X_BOUNDS = {py([domain.xmin - BOUND_FACTOR * width, domain.xmax + BOUND_FACTOR * width])}",
        f"Y_BOUNDS = {py([domain.ymin - BOUND_FACTOR * height, domain.ymax + BOUND_FACTOR * height])}",
    ]
    for name in dict.fromkeys(r.optimizer for r in scene.racers):
        if name in _CUSTOM:
            lines += ["", *_CUSTOM[name][1].strip("\n").splitlines()]
    lines += [
        "",
        "",
        "def race(make_optimizer, make_scheduler=None):",
        '    """One racer: its path [[x, y], …] and losses, and the steps where it arrived and diverged."""',
        "    theta = torch.tensor(START, requires_grad=True)",
        "    optimizer = make_optimizer([theta])",
        "    scheduler = make_scheduler(optimizer) if make_scheduler else None",
        "    path, losses, arrived_at, diverged_at = [], [], None, None",
        *(_CLOSURE if any(r.optimizer == "lbfgs" for r in scene.racers) else []),
        "    for step in range(STEPS + 1):",
        "        optimizer.zero_grad()",
        "        loss = loss_fn(theta)",
        "        point, value = theta.detach().tolist(), loss.item()",
        "        inside = X_BOUNDS[0] <= point[0] <= X_BOUNDS[1] and Y_BOUNDS[0] <= point[1] <= Y_BOUNDS[1]",
        "        if not (math.isfinite(value) and inside):  # also catches NaN: comparisons with it are False",
        "            diverged_at = step",
        "            break",
        "        path.append(point)",
        "        losses.append(value)",
        "        if arrived_at is None and any(",
        "            math.dist(point, m) <= RADIUS and value - fm <= TOLERANCE for m, fm in MINIMA",
        "        ):",
        "            arrived_at = step",
        "        if step == STEPS:",
        "            break",
        *(_LBFGS_STEP if any(r.optimizer == "lbfgs" for r in scene.racers) else _STEP),
        "        if scheduler is not None:",
        "            scheduler.step()",
        "    return path, losses, arrived_at, diverged_at",
        "",
        "",
        "# label: (optimizer, lr scheduler), one per racer",
        "RACERS = {",
    ]
    for racer in scene.racers:
        lines += [
            f"    {py(racer.label)}: (",
            f"        {optimizer_code(racer)},",
            f"        {scheduler_code(racer, scene.steps)},",
            "    ),",
        ]
    lowest = min((m.value for m in surface.minima), default=0.0)
    lines += [
        "}",
        f"LOWEST = {py(lowest)}  # the lowest minimum's value f*",
        "",
        "paths = {}",
        "for label, (make_optimizer, make_scheduler) in RACERS.items():",
        "    path, losses, arrived_at, diverged_at = race(make_optimizer, make_scheduler)",
        "    paths[label] = path",
        "    if diverged_at is not None:",
        '        outcome = f"diverged at step {diverged_at}"',
        "    elif arrived_at is not None:",
        '        outcome = f"arrived at step {arrived_at}"',
        "    else:",
        '        outcome = f"still running after {STEPS} steps"',
        "    x, y = path[-1]",
        '    print(f"{label}: {outcome}; last point ({x:.6g}, {y:.6g}), f − f* = {losses[-1] - LOWEST:.3e}")',
        "",
    ]
    return "\n".join(lines)


def racer_labels(scene: Scene) -> list[str]:
    return [racer.label or "" for racer in scene.filled().racers]


def filename(scene: Scene) -> str:
    return f"optirace_{scene.landscape.name}.py"
