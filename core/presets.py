"""The lecture's demos as data: a scene, a caption, and the claims the caption makes, as checkable facts.

Each preset tells one of the lecture's stories (``story``). Its ``caption`` is made of claims: every
claim quotes the words of the caption it backs (``says``, a verbatim part of the caption) and states
a fact about the race that a test holds against ``core.race.run`` (tests/core/test_presets.py). Every
sentence of a caption quotes at least one claim, so no sentence goes unchecked.

A claim is a dict with ``says`` and ``check``, one of:

- ``setup``: what the scene is: racer ``racer``'s ``optimizer``, or its hyperparameter ``param``
  ``equals`` a value; or a scene ``field`` (``noise``, ``seed``, a landscape parameter) ``equals`` one;

- ``status``: racer ``racer`` ends with status ``is`` ("arrived", "diverged" or "running");
- ``arrives_first``: ``racer`` arrives, and strictly before every other racer that arrives;
- ``gap_order``: the final gaps f − f* of ``racers`` increase strictly in that order (a racer that
  diverged has an infinite gap, so it can only come last);
- ``left_minimum``: ``racer`` arrived but its last point no longer meets the arrival test (loss
  within the landscape's tolerance of a minimum, point within its radius);
- ``measure``: a measure of core.measures (``measure``, with its ``window``/``across``/``to`` etc.)
  of ``racer`` compared with a number (``above``, ``below``, ``at_least``, ``at_most``), or with the
  same measure of another racer (``than``) times ``times`` (default 1): ``more`` or ``less``.

A claim may hold for a variant of the scene rather than the scene itself: ``lr_scale`` multiplies
every racer's lr (the page's global lr multiplier), ``with`` replaces query keys (e.g.
``{"landscape.angle": "0"}``). The caption then says which variant it speaks of.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core import measures
from core.landscapes import get_landscape
from core.race import run
from core.scene import Scene
from core.scene_url import parse_query, scene_json_from_query, scene_to_query

STORIES = (
    "lr",
    "valley",
    "schedules",
    "race-beale",
    "race-rosenbrock",
    "race-saddle",
    "lr-too-large",
    "adamw",
    "noise",
    "rotated",
)
CHECKS = ("setup", "status", "arrives_first", "gap_order", "left_minimum", "measure")
ACROSS_Y = (0.0, 1.0)  # across a valley that lies along x (the bowl at angle 0)


@dataclass(frozen=True)
class Preset:
    id: str
    story: str
    title: str
    caption: str
    query: str  # a scene query; values left out take their defaults
    claims: tuple[dict[str, Any], ...] = field(default=())

    def scene(self) -> Scene:
        return scene_of(self.query)

    def to_json(self, with_claims: bool = True) -> dict[str, Any]:
        """As GET /api/presets gives it: ``query`` is the scene written out in full (scene_to_query)."""
        data: dict[str, Any] = {
            "id": self.id,
            "story": self.story,
            "title": self.title,
            "caption": self.caption,
            "query": scene_to_query(self.scene()),
        }
        if with_claims:
            data["claims"] = [dict(claim) for claim in self.claims]
        return data


def scene_of(query: str, replace: Mapping[str, str] | None = None, lr_scale: float = 1.0) -> Scene:
    """The scene of ``query``, with query keys replaced and every racer's lr scaled."""
    pairs = parse_query(query)
    if replace:
        pairs = [(key, value) for key, value in pairs if key not in replace] + list(replace.items())
    scene = Scene.model_validate(scene_json_from_query(pairs)).filled()
    if lr_scale != 1.0:
        racers = [
            racer.model_copy(update={"params": {**racer.params, "lr": racer.params["lr"] * lr_scale}})
            for racer in scene.racers
        ]
        scene = scene.model_copy(update={"racers": racers})
    return scene


def expand_preset(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Query pairs with ``preset=<id>`` expanded into that demo's scene; the scene keys beside it replace
    the demo's (``racer`` keys replace all of its racers). Raises ValueError for an unknown id."""
    preset_id = next((value for key, value in pairs if key == "preset"), None)
    if preset_id is None:
        return pairs
    own = [(key, value) for key, value in pairs if key != "preset"]
    keys = {key for key, _ in own}
    return [(key, value) for key, value in parse_query(get_preset(preset_id).query) if key not in keys] + own


# --- checking a claim against a race -------------------------------------------------------------


def _index(result: dict[str, Any], label: str) -> int:
    labels = [racer["label"] for racer in result["racers"]]
    if label not in labels:
        raise ValueError(f"no racer labelled {label!r}; the race has: {', '.join(labels)}")
    return labels.index(label)


def at_minimum(result: dict[str, Any], index: int, step: int) -> bool:
    """The race's arrival test (core.race.Tracker) at one step of one racer."""
    racer = result["racers"][index]
    landscape = get_landscape(result["scene"]["landscape"]["name"])
    point = np.asarray(racer["path"][step], dtype=float)
    loss = racer["loss"][step]
    return any(
        float(np.linalg.norm(point - np.asarray(m["point"]))) <= landscape.radius
        and loss - m["value"] <= landscape.tolerance
        for m in result["minima"]
    )


def measure(result: dict[str, Any], index: int, claim: Mapping[str, Any]) -> float:
    """The value of ``claim["measure"]`` for racer ``index`` of ``result``."""
    racer = result["racers"][index]
    path = racer["path"]
    window = _window(claim.get("window"), len(path) - 1)
    name = claim["measure"]
    across = claim.get("across", ACROSS_Y)
    measures_by_name: dict[str, Callable[[], float]] = {
        "reversals": lambda: measures.reversals(path, window),
        "cross_flips": lambda: measures.cross_flips(path, across, window),
        "cross_travel": lambda: measures.cross_travel(path, across, window),
        "path_ratio": lambda: measures.path_ratio(path, window),
        "path_length": lambda: measures.path_length(path, window),
        "final_gap": lambda: measures.final_gap(result, index),
        "mean_gap": lambda: _mean_gap(result, index, window),
        "end_distance": lambda: _end_distance(result, index, claim),
        "arrived_at": lambda: math.inf if racer["arrived_at"] is None else racer["arrived_at"],
        "distance_along": lambda: abs(measures.along(path[: (window[1] + 2) if window else None], claim["along"])),
    }
    if name not in measures_by_name:
        raise ValueError(f"unknown measure {name!r}; expected one of: {', '.join(measures_by_name)}")
    return float(measures_by_name[name]())


def _window(window: Any, steps: int) -> tuple[int, int] | None:
    """(first, last) steps; a negative first counts from the end: (-100, -1) is the last 100 steps."""
    if window is None:
        return None
    first, last = window
    if first < 0:
        first += steps
    if last < 0:
        last += steps
    return int(first), int(last)


def _mean_gap(result: dict[str, Any], index: int, window: tuple[int, int] | None) -> float:
    racer = result["racers"][index]
    if racer["status"] == "diverged":
        return math.inf
    loss = np.asarray(racer["loss"], dtype=float)
    if window is not None:
        loss = loss[window[0] + 1 : window[1] + 2]  # the points after steps first … last
    return float(loss.mean() - measures.lowest_minimum(result))


def _end_distance(result: dict[str, Any], index: int, claim: Mapping[str, Any]) -> float:
    end = np.asarray(result["racers"][index]["path"][-1], dtype=float)
    if "to_racer" in claim:
        other = np.asarray(result["racers"][_index(result, claim["to_racer"])]["path"][-1], dtype=float)
        return float(np.linalg.norm(end - other))
    return float(np.linalg.norm(end - np.asarray(claim["to"], dtype=float)))


def check(claim: Mapping[str, Any], result: dict[str, Any]) -> tuple[bool, str]:
    """Whether ``claim`` holds in ``result`` (the race of the claim's scene), and what was measured."""
    kind = claim["check"]
    racers = result["racers"]
    if kind == "setup":
        return _setup(claim, result)
    if kind == "status":
        racer = racers[_index(result, claim["racer"])]
        return racer["status"] == claim["is"], f"{claim['racer']}: {racer['status']}"
    if kind == "arrives_first":
        arrivals = {r["label"]: r["arrived_at"] for r in racers if r["arrived_at"] is not None}
        mine = arrivals.get(claim["racer"])
        ok = mine is not None and all(step > mine for label, step in arrivals.items() if label != claim["racer"])
        return ok, f"arrivals: {arrivals}"
    if kind == "gap_order":
        gaps = [measures.final_gap(result, _index(result, label)) for label in claim["racers"]]
        ok = all(a < b for a, b in itertools.pairwise(gaps))
        shown = ", ".join(f"{label} {gap:.3g}" for label, gap in zip(claim["racers"], gaps, strict=True))
        return ok, f"final gaps: {shown}"
    if kind == "left_minimum":
        index = _index(result, claim["racer"])
        racer = racers[index]
        left = racer["arrived_at"] is not None and not at_minimum(result, index, len(racer["path"]) - 1)
        gap = measures.final_gap(result, index)
        return left, f"{claim['racer']}: arrived at {racer['arrived_at']}, final gap {gap:.3g}"
    if kind == "measure":
        value = measure(result, _index(result, claim["racer"]), claim)
        detail = f"{claim['measure']}({claim['racer']}) = {value:.6g}"
        if "than" in claim:
            other = claim.get("times", 1) * measure(result, _index(result, claim["than"]), claim)
            detail += f", {claim.get('times', 1)} × {claim['measure']}({claim['than']}) = {other:.6g}"
            return (value > other if claim["compare"] == "more" else value < other), detail
        bounds = {
            "above": lambda bound: value > bound,
            "below": lambda bound: value < bound,
            "at_least": lambda bound: value >= bound,
            "at_most": lambda bound: value <= bound,
        }
        present = [key for key in bounds if key in claim]
        if not present:
            raise ValueError(f"measure claim {claim['says']!r} compares with nothing")
        return all(bounds[key](claim[key]) for key in present), detail
    raise ValueError(f"unknown check {kind!r}; expected one of: {', '.join(CHECKS)}")


def _setup(claim: Mapping[str, Any], result: dict[str, Any]) -> tuple[bool, str]:
    """A fact of the scene itself: a racer's optimizer or hyperparameter, or a scene field."""
    scene = result["scene"]
    if "racer" in claim:
        racer = scene["racers"][_index(result, claim["racer"])]
        if "optimizer" in claim:
            return racer["optimizer"] == claim["optimizer"], f"{claim['racer']}: {racer['optimizer']}"
        value = racer["params"][claim["param"]]
        return value == claim["equals"], f"{claim['racer']}.{claim['param']} = {value}"
    field_name = claim["field"]
    landscape_params = scene["landscape"]["params"]
    value = landscape_params[field_name] if field_name in landscape_params else scene[field_name]
    return value == claim["equals"], f"{field_name} = {value}"


def claim_scene(preset: Preset, claim: Mapping[str, Any]) -> Scene:
    """The scene a claim speaks of: the preset's own, or its variant (``with``, ``lr_scale``)."""
    return scene_of(preset.query, claim.get("with"), claim.get("lr_scale", 1.0))


def check_preset(preset: Preset) -> list[tuple[dict[str, Any], bool, str]]:
    """Every claim of a preset with whether it holds, each against the race of its scene (run once per scene)."""
    races: dict[str, dict[str, Any]] = {}
    outcomes = []
    for claim in preset.claims:
        scene = claim_scene(preset, claim)
        key = scene_to_query(scene)
        if key not in races:
            races[key] = run(scene)
        ok, detail = check(claim, races[key])
        outcomes.append((dict(claim), ok, detail))
    return outcomes


# --- the presets ---------------------------------------------------------------------------------


def _claim(says: str, check: str, **fields: Any) -> dict[str, Any]:
    return {"says": says, "check": check, **fields}


_BEALE_FOUR = (
    "landscape=beale&start=1,-1.5&steps=600"
    "&racer=sgd;lr=0.05&racer=momentum;lr=0.005&racer=rmsprop;lr=0.015&racer=adam;lr=0.1"
)

PRESETS: tuple[Preset, ...] = (
    Preset(
        "race-beale",
        "race-beale",
        "Four optimizers on Beale",
        "Beale from (1, −1.5): RMSProp navigates smoothly, never turning back, while SGD zigzags: "
        "its step turns back more than 300 times. SGD touches the minimum at step 185 but cannot stay, "
        "bouncing across the narrow valley to the end. Momentum arrives first; Adam and RMSProp arrive "
        "later and settle.",
        _BEALE_FOUR,
        (
            _claim(
                "RMSProp navigates smoothly, never turning back",
                "measure",
                measure="reversals",
                racer="RMSProp",
                at_most=0,
            ),
            _claim("RMSProp navigates smoothly", "measure", measure="path_ratio", racer="RMSProp", below=1.25),
            _claim("while SGD zigzags", "measure", measure="path_ratio", racer="SGD", above=10),
            _claim("its step turns back more than 300 times", "measure", measure="reversals", racer="SGD", above=300),
            _claim(
                "SGD touches the minimum at step 185",
                "measure",
                measure="arrived_at",
                racer="SGD",
                at_least=185,
                at_most=185,
            ),
            _claim("but cannot stay", "left_minimum", racer="SGD"),
            _claim(
                "bouncing across the narrow valley to the end",
                "measure",
                measure="reversals",
                racer="SGD",
                window=[-100, -1],
                at_least=90,
            ),
            _claim("Momentum arrives first", "arrives_first", racer="Momentum"),
            _claim("Adam and RMSProp arrive later", "status", racer="Adam", **{"is": "arrived"}),
            _claim("Adam and RMSProp arrive later", "status", racer="RMSProp", **{"is": "arrived"}),
            _claim("and settle", "gap_order", racers=["Adam", "SGD"]),
            _claim("and settle", "gap_order", racers=["RMSProp", "SGD"]),
            _claim("and settle", "measure", measure="path_length", racer="Adam", window=[-100, -1], below=1e-3),
            _claim("and settle", "measure", measure="path_length", racer="RMSProp", window=[-50, -1], below=0.05),
        ),
    ),
    Preset(
        "lr",
        "lr",
        "Gradient descent: the learning rate",
        "Three SGD racers on a bowl whose steepest curvature is 1, so the limit is lr = 2. "
        "Too small (lr 0.1): it crawls and is still far from the minimum after 100 steps. "
        "Near the limit (lr 1.9): it zig-zags across the valley, changing side at every step, and arrives. "
        "Too large (lr 2.1): every step overshoots further and it diverges.",
        "landscape=bowl&landscape.condition=10&steps=100"
        "&racer=sgd;lr=0.1;label=SGD lr 0.1&racer=sgd;lr=1.9;label=SGD lr 1.9&racer=sgd;lr=2.1;label=SGD lr 2.1",
        (
            _claim("so the limit is lr = 2", "status", racer="SGD lr 1.9", **{"is": "arrived"}),
            _claim("so the limit is lr = 2", "status", racer="SGD lr 2.1", **{"is": "diverged"}),
            _claim("it crawls", "measure", measure="reversals", racer="SGD lr 0.1", at_most=0),
            _claim("still far from the minimum after 100 steps", "status", racer="SGD lr 0.1", **{"is": "running"}),
            _claim(
                "still far from the minimum after 100 steps",
                "measure",
                measure="end_distance",
                racer="SGD lr 0.1",
                to=[0, 0],
                above=1,
            ),
            _claim(
                "it zig-zags across the valley, changing side at every step",
                "measure",
                measure="cross_flips",
                racer="SGD lr 1.9",
                window=[0, 49],
                at_least=49,
            ),
            _claim("and arrives", "status", racer="SGD lr 1.9", **{"is": "arrived"}),
            _claim(
                "every step overshoots further",
                "measure",
                measure="cross_flips",
                racer="SGD lr 2.1",
                window=[0, 39],
                at_least=39,
            ),
            _claim("and it diverges", "status", racer="SGD lr 2.1", **{"is": "diverged"}),
        ),
    ),
    Preset(
        "valley",
        "valley",
        "SGD vs Momentum in a narrow valley",
        "An elongated bowl (κ = 100, valley along x). SGD at lr 1.9, just under its limit, zig-zags across the "
        "steep walls: its step changes side at each of its first 40 steps. Momentum (lr 0.3, β = 0.9) damps the "
        "zig-zag: it changes side under a quarter as often and travels less than half as far across the "
        "valley. It also gets further along the floor: by step 60 it is less than half as far from the "
        "minimum along x, and it arrives while SGD is still on its way.",
        "landscape=bowl&landscape.condition=100&steps=150&racer=sgd;lr=1.9&racer=momentum;lr=0.3;momentum=0.9",
        (
            _claim("κ = 100, valley along x", "setup", field="condition", equals=100),
            _claim("κ = 100, valley along x", "setup", field="angle", equals=0),
            _claim(
                "SGD at lr 1.9, just under its limit, zig-zags across the steep walls",
                "measure",
                measure="cross_flips",
                racer="SGD",
                window=[0, 39],
                at_least=39,
            ),
            _claim(
                "its step changes side at each of its first 40 steps",
                "measure",
                measure="cross_flips",
                racer="SGD",
                window=[0, 39],
                at_least=39,
            ),
            _claim(
                "it changes side under a quarter as often",
                "measure",
                measure="cross_flips",
                racer="Momentum",
                window=[0, 39],
                than="SGD",
                times=0.25,
                compare="less",
            ),
            _claim(
                "travels less than half as far across the valley",
                "measure",
                measure="cross_travel",
                racer="Momentum",
                than="SGD",
                times=0.5,
                compare="less",
            ),
            _claim(
                "by step 60 it is less than half as far from the minimum along x",
                "measure",
                measure="distance_along",
                along=[1, 0],
                window=[0, 59],
                racer="Momentum",
                than="SGD",
                times=0.5,
                compare="less",
            ),
            _claim("it arrives", "status", racer="Momentum", **{"is": "arrived"}),
            _claim("while SGD is still on its way", "status", racer="SGD", **{"is": "running"}),
        ),
    ),
    Preset(
        "schedules",
        "schedules",
        "Schedules change the ending",
        "The same RMSProp (lr 0.1) four times on Beale. With a constant lr it reaches the minimum and then "
        "leaves it, chattering around it to the end. Step decay, cosine and warm-up + cosine shrink the steps "
        "at the end and settle: over the last 100 steps each moves less than 1/1000 as far, and each ends "
        "over 100 times lower. Cosine ends lowest.",
        "landscape=beale&steps=600&racer=rmsprop;lr=0.1;label=constant"
        "&racer=rmsprop;lr=0.1;schedule=step;label=step decay&racer=rmsprop;lr=0.1;schedule=cosine;label=cosine"
        "&racer=rmsprop;lr=0.1;schedule=warmup_cosine;label=warm-up %2B cosine",
        (
            *(
                _claim("The same RMSProp (lr 0.1) four times", "setup", racer=label, optimizer="rmsprop")
                for label in ("constant", "step decay", "cosine", "warm-up + cosine")
            ),
            *(
                _claim("The same RMSProp (lr 0.1) four times", "setup", racer=label, param="lr", equals=0.1)
                for label in ("constant", "step decay", "cosine", "warm-up + cosine")
            ),
            _claim("it reaches the minimum", "status", racer="constant", **{"is": "arrived"}),
            _claim("and then leaves it", "left_minimum", racer="constant"),
            _claim(
                "chattering around it to the end",
                "measure",
                measure="reversals",
                racer="constant",
                window=[-100, -1],
                above=50,
            ),
            *(
                _claim("shrink the steps at the end and settle", "status", racer=label, **{"is": "arrived"})
                for label in ("step decay", "cosine", "warm-up + cosine")
            ),
            *(
                _claim(
                    "over the last 100 steps each moves less than 1/1000 as far",
                    "measure",
                    measure="path_length",
                    window=[-100, -1],
                    racer=label,
                    than="constant",
                    times=1e-3,
                    compare="less",
                )
                for label in ("step decay", "cosine", "warm-up + cosine")
            ),
            *(
                _claim(
                    "each ends over 100 times lower",
                    "measure",
                    measure="final_gap",
                    racer=label,
                    than="constant",
                    times=1e-2,
                    compare="less",
                )
                for label in ("step decay", "cosine", "warm-up + cosine")
            ),
            _claim("Cosine ends lowest", "gap_order", racers=["cosine", "step decay", "warm-up + cosine", "constant"]),
        ),
    ),
    Preset(
        "race-rosenbrock",
        "race-rosenbrock",
        "Four optimizers on Rosenbrock",
        "In the banana valley SGD zig-zags across it at first, its step turning back at every one of its first 50 "
        "steps, while RMSProp never turns back. Then the flat curved floor is slow going: Momentum arrives first, "
        "only after 500 steps, Adam second, and after 1200 steps RMSProp and SGD are still on the way.",
        "landscape=rosenbrock&steps=1200&racer=sgd;lr=0.0015&racer=momentum;lr=0.0015&racer=rmsprop;lr=0.003"
        "&racer=adam;lr=0.05",
        (
            _claim(
                "SGD zig-zags across it at first, its step turning back at every one of its first 50 steps",
                "measure",
                measure="reversals",
                racer="SGD",
                window=[0, 50],
                at_least=49,
            ),
            _claim("while RMSProp never turns back", "measure", measure="reversals", racer="RMSProp", at_most=0),
            _claim("the flat curved floor is slow going", "measure", measure="arrived_at", racer="Momentum", above=500),
            _claim("only after 500 steps", "measure", measure="arrived_at", racer="Momentum", above=500),
            _claim("Momentum arrives first", "arrives_first", racer="Momentum"),
            _claim("Adam second", "status", racer="Adam", **{"is": "arrived"}),
            _claim("Adam second", "measure", measure="arrived_at", racer="Adam", than="Momentum", compare="more"),
            _claim("RMSProp and SGD are still on the way", "status", racer="RMSProp", **{"is": "running"}),
            _claim("RMSProp and SGD are still on the way", "status", racer="SGD", **{"is": "running"}),
        ),
    ),
    Preset(
        "race-saddle",
        "race-saddle",
        "The saddle point",
        "Start almost on the ridge. SGD slides down into the saddle at (0, 0) and stalls where the gradient "
        "vanishes: after 300 steps it is still within 0.1 of it. Momentum keeps rolling and escapes to a minimum, "
        "first; Adam and RMSProp rescale the tiny gradient and walk off to it too.",
        "landscape=saddle&steps=300&racer=sgd;lr=0.01&racer=momentum;lr=0.01&racer=rmsprop;lr=0.01&racer=adam;lr=0.02",
        (
            _claim("Start almost on the ridge", "setup", field="start", equals=[0.001, 1.8]),
            _claim(
                "SGD slides down into the saddle at (0, 0) and stalls where the gradient vanishes",
                "status",
                racer="SGD",
                **{"is": "running"},
            ),
            _claim(
                "after 300 steps it is still within 0.1 of it",
                "measure",
                measure="end_distance",
                racer="SGD",
                to=[0, 0],
                below=0.1,
            ),
            _claim("Momentum keeps rolling and escapes to a minimum", "status", racer="Momentum", **{"is": "arrived"}),
            _claim("first", "arrives_first", racer="Momentum"),
            _claim(
                "Adam and RMSProp rescale the tiny gradient and walk off to it too",
                "status",
                racer="Adam",
                **{"is": "arrived"},
            ),
            _claim(
                "Adam and RMSProp rescale the tiny gradient and walk off to it too",
                "status",
                racer="RMSProp",
                **{"is": "arrived"},
            ),
        ),
    ),
    Preset(
        "lr-too-large",
        "lr-too-large",
        "Learning rate too large",
        "The same lr = 2.1 for SGD and Adam on a bowl whose steepest curvature is 1 (SGD's limit: lr = 2). "
        "SGD overshoots further every step and diverges; Adam's normalized steps stay bounded and it arrives. "
        "Turn the lr down to ×1/2 (lr 1.05) and both arrive.",
        "landscape=bowl&landscape.condition=10&steps=150&racer=sgd;lr=2.1&racer=adam;lr=2.1",
        (
            _claim("SGD's limit: lr = 2", "status", racer="SGD", lr_scale=1.9 / 2.1, **{"is": "arrived"}),
            _claim(
                "SGD overshoots further every step",
                "measure",
                measure="cross_flips",
                racer="SGD",
                window=[0, 39],
                at_least=39,
            ),
            _claim("and diverges", "status", racer="SGD", **{"is": "diverged"}),
            _claim("Adam's normalized steps stay bounded and it arrives", "status", racer="Adam", **{"is": "arrived"}),
            _claim(
                "Turn the lr down to ×1/2 (lr 1.05) and both arrive",
                "status",
                racer="SGD",
                lr_scale=0.5,
                **{"is": "arrived"},
            ),
            _claim(
                "Turn the lr down to ×1/2 (lr 1.05) and both arrive",
                "status",
                racer="Adam",
                lr_scale=0.5,
                **{"is": "arrived"},
            ),
        ),
    ),
    Preset(
        "adamw",
        "adamw",
        "Adam + L2 vs AdamW",
        "Same weight_decay = 0.1, two ways, on Rosenbrock. Adam + L2 adds λθ to the gradient, so Adam's "
        "per-coordinate scaling rescales the decay too; AdamW shrinks θ by lr·λ directly. They end at different "
        "points, more than 0.2 apart, both pulled off the minimum (1, 1) that plain Adam reaches.",
        "landscape=rosenbrock&steps=1500&racer=adam;lr=0.05;label=Adam"
        "&racer=adam;lr=0.05;weight_decay=0.1;label=Adam %2B L2&racer=adamw;lr=0.05;weight_decay=0.1;label=AdamW",
        (
            _claim("Same weight_decay = 0.1, two ways", "setup", racer="Adam + L2", param="weight_decay", equals=0.1),
            _claim("Same weight_decay = 0.1, two ways", "setup", racer="AdamW", param="weight_decay", equals=0.1),
            _claim("Adam + L2 adds λθ to the gradient", "setup", racer="Adam + L2", optimizer="adam"),
            _claim("AdamW shrinks θ by lr·λ directly", "setup", racer="AdamW", optimizer="adamw"),
            _claim(
                "They end at different points, more than 0.2 apart",
                "measure",
                measure="end_distance",
                racer="Adam + L2",
                to_racer="AdamW",
                above=0.2,
            ),
            _claim("both pulled off the minimum (1, 1)", "status", racer="Adam + L2", **{"is": "running"}),
            _claim("both pulled off the minimum (1, 1)", "status", racer="AdamW", **{"is": "running"}),
            _claim("that plain Adam reaches", "status", racer="Adam", **{"is": "arrived"}),
        ),
    ),
    Preset(
        "noise",
        "noise",
        "Noisy gradients",
        "Mini-batch noise: σ = 0.5, with seed 0's batch order (another seed gives other numbers). SGD at lr 0.5 "
        "keeps bouncing in a wide noise ball: over the last 100 steps its mean loss gap is more than ten times "
        "SGD lr 0.05's. The smaller lr is slower but settles lower, and Adam at lr 0.05 ends low too.",
        "landscape=bowl&landscape.condition=5&noise=0.5&seed=0&steps=300"
        "&racer=sgd;lr=0.5;label=SGD lr 0.5&racer=sgd;lr=0.05;label=SGD lr 0.05&racer=adam;lr=0.05",
        (
            _claim("σ = 0.5", "setup", field="noise", equals=0.5),
            _claim("with seed 0's batch order", "setup", field="seed", equals=0),
            _claim(
                "SGD at lr 0.5 keeps bouncing in a wide noise ball",
                "measure",
                measure="reversals",
                racer="SGD lr 0.5",
                window=[-100, -1],
                above=40,
            ),
            _claim(
                "over the last 100 steps its mean loss gap is more than ten times SGD lr 0.05's",
                "measure",
                measure="mean_gap",
                window=[-100, -1],
                racer="SGD lr 0.5",
                than="SGD lr 0.05",
                times=10,
                compare="more",
            ),
            _claim(
                "The smaller lr is slower",
                "measure",
                measure="path_length",
                window=[0, 19],
                racer="SGD lr 0.05",
                than="SGD lr 0.5",
                times=0.5,
                compare="less",
            ),
            _claim(
                "but settles lower",
                "measure",
                measure="mean_gap",
                window=[-100, -1],
                racer="SGD lr 0.05",
                than="SGD lr 0.5",
                compare="less",
            ),
            _claim(
                "Adam at lr 0.05 ends low too",
                "measure",
                measure="mean_gap",
                window=[-100, -1],
                racer="Adam",
                than="SGD lr 0.5",
                times=0.2,
                compare="less",
            ),
        ),
    ),
    Preset(
        "rotated",
        "rotated",
        "Rotated valley vs AdaGrad, RMSProp, Adam",
        "The valley (κ = 50) turned 45°: per-coordinate step sizes no longer line up with it, so AdaGrad, "
        "RMSProp and Adam lose their edge and plain SGD wins: it alone arrives in 200 steps. Turn the angle "
        "back to 0 and they win again: all three arrive before step 100, and SGD does not arrive.",
        "landscape=bowl&landscape.condition=50&landscape.angle=45&steps=200"
        "&racer=sgd;lr=1&racer=adagrad;lr=0.5&racer=rmsprop;lr=0.05&racer=adam;lr=0.1",
        (
            _claim("plain SGD wins: it alone arrives in 200 steps", "status", racer="SGD", **{"is": "arrived"}),
            *(
                _claim("so AdaGrad, RMSProp and Adam lose their edge", "status", racer=label, **{"is": "running"})
                for label in ("AdaGrad", "RMSProp", "Adam")
            ),
            *(
                _claim(
                    "all three arrive before step 100",
                    "measure",
                    measure="arrived_at",
                    racer=label,
                    below=100,
                    **{"with": {"landscape.angle": "0"}},
                )
                for label in ("AdaGrad", "RMSProp", "Adam")
            ),
            _claim(
                "and SGD does not arrive", "status", racer="SGD", **{"is": "running", "with": {"landscape.angle": "0"}}
            ),
        ),
    ),
)


PRESETS_BY_ID: dict[str, Preset] = {preset.id: preset for preset in PRESETS}


def get_preset(preset_id: str) -> Preset:
    try:
        return PRESETS_BY_ID[preset_id]
    except KeyError:
        raise ValueError(f"unknown preset {preset_id!r}; expected one of: {', '.join(PRESETS_BY_ID)}") from None
