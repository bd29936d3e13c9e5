"""Races and sweeps from Python: the API's scene, validation and engine, with NumPy arrays for the results.

A scene may be given as the API's JSON (a dict), a page link, the page's query string, or keyword arguments;
the same checks as the API run on it (``server.strict``: core's words first, then the exact schema) and a bad
scene raises ``SceneError`` with the API's message. The result is the API's JSON, ``Race.json``, viewed as
arrays.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.race import run
from core.scene import Scene
from core.scene_url import parse_query, scene_json_from_query, scene_to_query
from core.schedules import SCHEDULES
from server.routes.catalog import landscape_json, optimizer_json, schedule_json
from server.strict import check_json

DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # `optirace serve`'s address; OPTIRACE_BASE_URL overrides it
SCENE_KWARGS = ("landscape", "start", "steps", "noise", "seed", "l1", "l2", "racers")


class SceneError(ValueError):
    """A scene the API would refuse with a 422: ``str(error)`` is the API's ``error``, ``detail`` its ``detail``."""

    def __init__(self, detail: list[dict[str, Any]]):
        self.detail = detail
        super().__init__(
            "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" if d["loc"] else d["msg"] for d in detail)
        )


def base_url() -> str:
    """Where ``Race.url`` points: OPTIRACE_BASE_URL if set, else a local ``optirace serve``."""
    return os.environ.get("OPTIRACE_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


# --- scenes -----------------------------------------------------------------------------------------------------


def scene(source: Any = None, /, **kwargs: Any) -> Scene:
    """A validated scene, every default filled in, from any of the forms ``race`` takes."""
    return _scene(source, kwargs).filled()


def _scene(source: Any, kwargs: Mapping[str, Any]) -> Scene:
    unknown = [key for key in kwargs if key not in SCENE_KWARGS]
    if unknown:
        raise TypeError(f"unknown scene argument {unknown[0]!r}; expected one of: {', '.join(SCENE_KWARGS)}")
    if isinstance(source, (Scene, str)):
        # a Scene, a link or a query (read as GET /api/race reads it), its fields overridden by the keywords
        base = _from_text(source) if isinstance(source, str) else source
        if not kwargs:
            return base
        document = {**base.model_dump(mode="json", exclude_unset=True), **_keywords(kwargs)}
        return _validated(lambda: Scene.model_validate(document))
    if source is not None and not isinstance(source, Mapping):
        raise TypeError(f"a scene is a dict, a page link, a query string or a Scene, got {type(source).__name__}")
    document = {**(source or {}), **_keywords(kwargs)}
    return _validated(lambda: check_json(Scene, json.dumps(document, default=_plain, allow_nan=False)))


def _validated(validate: Any) -> Scene:
    """``validate()``'s scene, or SceneError with the API's words."""
    try:
        return validate()
    except ValidationError as error:
        raise SceneError(_detail(error)) from None
    except ValueError as error:  # NaN or Infinity (no JSON number), a malformed query value
        text = str(error)
        message = "every number must be finite (JSON has no NaN or Infinity)" if "float values" in text else text
        raise SceneError([{"loc": [], "msg": message, "type": "value_error"}]) from None


def _from_text(text: str) -> Scene:
    """A page link (its keys that are not the scene's, e.g. an embed's autoplay, are ignored) or a query string (read
    as GET /api/race reads it: an unknown key is an error)."""
    text = text.strip()
    is_link = "://" in text or text.startswith("/")
    pairs = parse_query(urlsplit(text).query if is_link else text)
    if is_link:
        pairs = [(key, value) for key, value in pairs if key in _QUERY_KEYS or key.startswith("landscape.")]
    return _validated(lambda: Scene.model_validate(scene_json_from_query(pairs)))


_QUERY_KEYS = ("landscape", "start", "steps", "noise", "seed", "l1", "l2", "racer")


def _keywords(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments in the JSON form: ``landscape="bowl"`` or ``("bowl", {...})``; racers as names or tuples."""
    document = dict(kwargs)
    if "landscape" in document:
        document["landscape"] = _choice(document["landscape"], "name")
    if "racers" in document:
        racers = document["racers"]
        if isinstance(racers, (str, Mapping)) or not isinstance(racers, Iterable):
            raise TypeError("racers is a list: names, (name, params) or (name, params, schedule) tuples, or dicts")
        document["racers"] = [_racer(racer) for racer in racers]
    return document


def _choice(value: Any, key: str) -> Any:
    """``"cosine"`` → ``{"name": "cosine"}``; ``("cosine", {"T_max": 100})`` → with its params; a dict as it is."""
    if isinstance(value, str):
        return {key: value}
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return {key: value[0], "params": value[1]}
    return value


def _racer(value: Any) -> Any:
    """``"adam"``, ``("adam", {"lr": 0.1})``, ``("adam", {"lr": 0.1}, "cosine")`` or a racer's dict."""
    if isinstance(value, str):
        return {"optimizer": value}
    if isinstance(value, tuple) and value and isinstance(value[0], str) and len(value) <= 3:
        racer: dict[str, Any] = {"optimizer": value[0]}
        if len(value) > 1:
            racer["params"] = value[1]
        if len(value) > 2:
            racer["schedule"] = _choice(value[2], "name")
        return racer
    return value


def _plain(value: Any) -> Any:
    """NumPy numbers and arrays, tuples: as JSON has them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not a JSON value: {value!r}")


def _detail(error: ValidationError) -> list[dict[str, Any]]:
    """The problems as the API's 422 lists them (``loc`` without the API's ``body``/``query``)."""
    return [
        {"loc": list(p["loc"]), "msg": p["msg"], "type": p["type"], **({"input": p["input"]} if "input" in p else {})}
        for p in error.errors(include_url=False)
    ]


# --- races ------------------------------------------------------------------------------------------------------


class Race:
    """A race's result (``json``: exactly what POST /api/race answers for the scene) as NumPy arrays.

    One row per racer, in the scene's order; a racer that diverged has NaN after its last finite step:

    - ``paths`` (racers, steps + 1, 2): the start, then the point after each update;
    - ``loss`` (racers, steps + 1); ``lr`` (racers, steps): the learning rate of update t;
    - ``status`` (racers,): "arrived", "diverged" or "running"; ``final_loss`` (racers,);
    - ``arrived_at``, ``diverged_at``, ``steps_run`` (racers,): steps, as masked arrays (masked: never);
    - ``labels``, ``optimizers``, ``colors``: lists; ``minima``: the landscape's (regularized) minima;
    - ``internals`` (with ``race(..., internals=True)``): per racer, the API's ``{"grad", "update", "state"}``.
    """

    def __init__(self, scene: Scene, result: dict[str, Any]):
        self.scene = scene
        self.json = result
        racers = result["racers"]
        steps = result["scene"]["steps"]
        self.labels = [r["label"] for r in racers]
        self.optimizers = [r["optimizer"] for r in racers]
        self.colors = [r["color"] for r in racers]
        self.minima = result["minima"]
        self.paths = np.full((len(racers), steps + 1, 2), np.nan)
        self.loss = np.full((len(racers), steps + 1), np.nan)
        self.lr = np.array([r["lr"] for r in racers], dtype=float).reshape(len(racers), steps)
        for i, racer in enumerate(racers):
            self.paths[i, : len(racer["path"])] = racer["path"]
            self.loss[i, : len(racer["loss"])] = racer["loss"]
        self.status = np.array([r["status"] for r in racers])
        self.final_loss = np.array([np.nan if r["final_loss"] is None else r["final_loss"] for r in racers])
        self.arrived_at = _steps([r["arrived_at"] for r in racers])
        self.diverged_at = _steps([r["diverged_at"] for r in racers])
        self.steps_run = np.array([r["steps_run"] for r in racers], dtype=np.int64)
        self.internals = [r["internals"] for r in racers] if racers and "internals" in racers[0] else None

    @property
    def query(self) -> str:
        """The scene as the page's query string, every value written out."""
        return scene_to_query(self.scene)

    @property
    def url(self) -> str:
        """The page link of this scene (``optirace.base_url()``: OPTIRACE_BASE_URL, else a local server)."""
        return self.link()

    def link(self, base: str | None = None, page: str = "/") -> str:
        """This scene's link on ``base`` (e.g. ``https://optirace.example.org``); ``page="/embed"`` for a slide."""
        return f"{(base or base_url()).rstrip('/')}{page}?{self.query}"

    def to_frame(self) -> Any:
        """One row per racer and recorded step: racer, optimizer, step, x, y, loss, lr (pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Race.to_frame() needs pandas, which is not installed: pip install pandas") from None
        frames = []
        for i, racer in enumerate(self.json["racers"]):
            points = np.asarray(racer["path"], dtype=float).reshape(-1, 2)
            n = len(points)
            lr = np.append(np.asarray(racer["lr"], dtype=float), np.nan)[:n]
            frames.append(
                pd.DataFrame(
                    {
                        "racer": self.labels[i],
                        "optimizer": self.optimizers[i],
                        "step": np.arange(n),
                        "x": points[:, 0],
                        "y": points[:, 1],
                        "loss": np.asarray(racer["loss"], dtype=float),
                        "lr": lr,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def save(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write the race as GIF, PNG, SVG or offline HTML, by the file's suffix, with the server's renderers.

        ``options`` are the export's (``width``, ``height``, ``theme``, ``frames``, ``fps``, ``scale``, ``autoplay``,
        …), checked as GET /export/race.<format> checks them. Returns the path written.
        """
        from server.render import FORMATS

        target = Path(path)
        name = target.suffix.lower().lstrip(".")
        if name not in FORMATS:
            raise ValueError(f"cannot save {target.name!r}: the suffix must be one of: {', '.join(FORMATS)}")
        fmt = FORMATS[name]
        target.write_bytes(fmt.render(self.scene, fmt.parse_options(options)))
        return target

    def show(self, **kwargs: Any) -> Any:
        """The race in a notebook: the page's player, its charts and sliders (an anywidget)."""
        from optirace.notebook import RaceWidget

        return RaceWidget(self.scene, **kwargs)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='color:{c}'>●</td><td>{label}</td><td>{status}</td>"
            f"<td>{'' if np.ma.is_masked(a) else a}</td><td>{loss:.4g}</td></tr>"
            for c, label, status, a, loss in zip(
                self.colors, self.labels, self.status, self.arrived_at, self.final_loss, strict=True
            )
        )
        head = "<tr><th></th><th>racer</th><th>status</th><th>arrived at</th><th>final loss</th></tr>"
        title = f"{self.scene.landscape.name}, {self.scene.steps} steps"
        return f"<div><b>optirace race</b>: {title}<table>{head}{rows}</table><a href='{self.url}'>open</a></div>"

    def __repr__(self) -> str:
        racers = ", ".join(f"{label} {status}" for label, status in zip(self.labels, self.status, strict=True))
        return f"<Race {self.scene.landscape.name}, {self.scene.steps} steps: {racers}>"


def _steps(values: Sequence[int | None]) -> npt.NDArray[Any]:
    data = np.array([-1 if v is None else v for v in values], dtype=np.int64)
    return np.ma.masked_array(data, mask=[v is None for v in values])


def race(source: Any = None, /, internals: bool = False, **kwargs: Any) -> Race:
    """Run a race; no server needed.

    ``source``: the API's scene as a dict, a page link (``http://…/?landscape=…``), the page's query string, or a
    ``Scene``; keyword arguments set or override the scene's fields::

        optirace.race(landscape="beale", racers=["sgd", ("adam", {"lr": 0.1})], steps=500)
        optirace.race("landscape=bowl&racer=sgd;lr=0.01&racer=adam;lr=0.1", steps=200)

    ``internals=True`` adds each update's gradient, step and optimizer state (torch's names) to ``Race.internals``,
    as ``"internals": true`` does on POST /api/race. Raises ``SceneError`` (a ValueError) with the API's message for
    a scene the API would refuse.
    """
    checked = _scene(source, kwargs)
    try:
        return Race(checked.filled(), run(checked, internals=internals))
    except ValueError as error:  # a check core makes while running (as the API's 422)
        raise SceneError([{"loc": [], "msg": str(error), "type": "value_error"}]) from None


# --- sweeps -----------------------------------------------------------------------------------------------------


class Sweep:
    """A learning-rate sweep (``json``: what POST /api/sweep answers) as arrays, one row per racer.

    ``lrs`` (count,); ``final_gap`` (racers, count): f(θ_T) − f*, NaN where it diverged; ``arrived_at`` and
    ``diverged_at`` (racers, count): masked where never.
    """

    def __init__(self, result: dict[str, Any]):
        self.json = result
        self.lrs = np.array(result["lrs"], dtype=float)
        racers = result["racers"]
        self.labels = [r["label"] for r in racers]
        self.optimizers = [r["optimizer"] for r in racers]
        self.colors = [r["color"] for r in racers]
        self.final_gap = np.array(
            [[np.nan if g is None else g for g in r["final_gap"]] for r in racers], dtype=float
        ).reshape(len(racers), len(self.lrs))
        self.arrived_at = np.ma.stack([_steps(r["arrived_at"]) for r in racers]) if racers else _steps([])
        self.diverged_at = np.ma.stack([_steps(r["diverged_at"]) for r in racers]) if racers else _steps([])

    def best_lr(self) -> dict[str, float]:
        """Each racer's learning rate with the smallest final gap (ties: the smaller rate)."""
        return {
            label: float(self.lrs[np.nanargmin(gaps)]) if np.isfinite(gaps).any() else float("nan")
            for label, gaps in zip(self.labels, self.final_gap, strict=True)
        }

    def to_frame(self) -> Any:
        """One row per racer and learning rate: racer, optimizer, lr, final_gap, arrived_at, diverged_at (pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Sweep.to_frame() needs pandas, which is not installed: pip install pandas") from None
        rows = [
            {
                "racer": r["label"],
                "optimizer": r["optimizer"],
                "lr": lr,
                "final_gap": gap,
                "arrived_at": arrived,
                "diverged_at": diverged,
            }
            for r in self.json["racers"]
            for lr, gap, arrived, diverged in zip(
                self.lrs, r["final_gap"], r["arrived_at"], r["diverged_at"], strict=True
            )
        ]
        frame = pd.DataFrame(rows)
        for column in ("arrived_at", "diverged_at"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def __repr__(self) -> str:
        return (
            f"<Sweep {len(self.lrs)} learning rates from {self.lrs[0]:g} to {self.lrs[-1]:g}: {', '.join(self.labels)}>"
        )


def sweep(
    source: Any = None,
    /,
    lr_min: float = 1e-4,
    lr_max: float = 10.0,
    count: int = 32,
    sweep_steps: int | None = None,
    **kwargs: Any,
) -> Sweep:
    """Every racer of a scene re-run at ``count`` log-spaced learning rates (POST /api/sweep, without a server).

    The scene is given as to ``race``; ``sweep_steps`` overrides its steps (at most 2000, as the API's ``steps``).
    """
    from server.routes.race import SweepRequest, sweep_reply

    checked = _scene(source, kwargs)
    body: dict[str, Any] = {"scene": checked.model_dump(mode="json"), "lr_min": lr_min, "lr_max": lr_max}
    body["count"] = count
    if sweep_steps is not None:
        body["steps"] = sweep_steps
    try:
        request = check_json(SweepRequest, json.dumps(body, default=_plain, allow_nan=False))
        return Sweep(sweep_reply(request))
    except ValidationError as error:
        raise SceneError(_detail(error)) from None
    except ValueError as error:
        raise SceneError([{"loc": [], "msg": str(error), "type": "value_error"}]) from None


# --- catalogues ---------------------------------------------------------------------------------------------------


def landscapes() -> list[dict[str, Any]]:
    """Every landscape as GET /api/landscapes lists it: formula, lesson, domain, minima, start, parameters."""
    return [landscape_json(landscape) for landscape in LANDSCAPES.values()]


def optimizers() -> list[dict[str, Any]]:
    """Every optimizer as GET /api/optimizers lists it: hyperparameters (torch's names), update rule, torch call."""
    return [optimizer_json(spec) for spec in OPTIMIZERS.values()]


def schedules() -> list[dict[str, Any]]:
    """Every learning-rate schedule as GET /api/schedules lists it."""
    return [schedule_json(schedule) for schedule in SCHEDULES.values()]
