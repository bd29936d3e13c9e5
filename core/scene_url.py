"""The scene as a readable query string, shared by the page's URL, /embed, GET /api/race and the exports.

    ?landscape=bowl&landscape.condition=50&start=-4,1.5&steps=400&noise=0.1&seed=3&l1=0&l2=0
    &racer=sgd;lr=0.01&racer=adam;lr=0.1;beta1=0.8;schedule=cosine;schedule.T_max=400

``landscape.<param>`` sets a landscape parameter; each ``racer=`` is one racer, in order: the
optimizer, then ``;key=value`` pairs of hyperparameters, ``schedule``, ``schedule.<param>``,
``label`` and ``color`` (``#`` optional). Lists are comma-separated. Inside a racer, a value's own
``;``, ``=``, ``,``, ``%``, ``#`` and spaces are percent-encoded (and that ``%`` again by the URL).
``scene_to_query(scene_from_query(q))`` gives back the same scene, with every value written out.

This module only reshapes strings into the Scene's JSON form; ``Scene`` itself validates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from core.scene import Scene

SCENE_KEYS = ("landscape", "start", "steps", "noise", "seed", "l1", "l2", "racer")
_RACER_VALUE_SAFE = "!$'()*+-./:@_~[]"


def parse_query(query: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` (with or without a leading ``?``) as ordered (key, value) pairs."""
    return parse_qsl(query.lstrip("?"), keep_blank_values=True)


def scene_json_from_query(pairs: Iterable[tuple[str, str]], ignore: Iterable[str] = ()) -> dict[str, Any]:
    """The Scene's JSON form from query pairs; raises ValueError naming an unknown or malformed key.

    Keys in ``ignore`` (e.g. the embed's ``autoplay``) are skipped.
    """
    ignored = set(ignore)
    scene: dict[str, Any] = {}
    landscape_params: dict[str, str] = {}
    racers: list[dict[str, Any]] = []
    for key, value in pairs:
        if key in ignored:
            continue
        if key == "landscape":
            scene["landscape"] = {"name": value}
        elif key.startswith("landscape."):
            landscape_params[key.removeprefix("landscape.")] = value
        elif key == "start":
            scene["start"] = _numbers(value, "start")
        elif key in ("steps", "seed"):
            scene[key] = _integer(value, key)
        elif key in ("noise", "l1", "l2"):
            scene[key] = _number(value, key)
        elif key == "racer":
            racers.append(_racer(value, len(racers)))
        else:
            raise ValueError(f"unknown query key {key!r}; expected one of: {', '.join(SCENE_KEYS)}, landscape.<param>")
    if landscape_params:
        scene.setdefault("landscape", {"name": Scene().landscape.name})["params"] = landscape_params
    if racers:
        scene["racers"] = racers
    return scene


def scene_from_query(query: str, ignore: Iterable[str] = ()) -> Scene:
    """Parse and validate a scene query string (a leading ``?`` is fine)."""
    return Scene.model_validate(scene_json_from_query(parse_query(query), ignore))


def scene_to_query(scene: Scene) -> str:
    """The query string of ``scene`` with every value written out (the scene is filled first)."""
    scene = scene.filled()
    pairs: list[tuple[str, str]] = [("landscape", scene.landscape.name)]
    pairs += [(f"landscape.{k}", _text(v)) for k, v in scene.landscape.params.items()]
    assert scene.start is not None
    pairs += [
        ("start", _text(list(scene.start))),
        ("steps", str(scene.steps)),
        ("noise", _text(scene.noise)),
        ("seed", str(scene.seed)),
        ("l1", _text(scene.l1)),
        ("l2", _text(scene.l2)),
    ]
    for racer in scene.racers:
        parts = [racer.optimizer]
        parts += [f"{k}={_racer_value(v)}" for k, v in racer.params.items()]
        parts.append(f"schedule={racer.schedule.name}")
        parts += [f"schedule.{k}={_racer_value(v)}" for k, v in racer.schedule.params.items()]
        parts.append(f"label={_racer_value(racer.label)}")
        parts.append(f"color={_racer_value((racer.color or '').lstrip('#'))}")
        pairs.append(("racer", ";".join(parts)))
    return urlencode(pairs, safe=",;=:", quote_via=quote)


def _racer(value: str, index: int) -> dict[str, Any]:
    """``adam;lr=0.1;schedule=cosine;schedule.T_max=400;label=A;color=e69f00`` as a Racer's JSON form."""
    optimizer, *pairs = value.split(";")
    racer: dict[str, Any] = {"optimizer": unquote(optimizer)}
    params: dict[str, Any] = {}
    schedule: dict[str, Any] = {}
    schedule_params: dict[str, Any] = {}
    for pair in pairs:
        if not pair:
            continue
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"racer {index + 1} ({optimizer}): expected key=value, got {pair!r}")
        text = unquote(raw)
        if key == "schedule":
            schedule["name"] = text
        elif key.startswith("schedule."):
            schedule_params[key.removeprefix("schedule.")] = _list_or_text(text)
        elif key == "label":
            racer["label"] = text
        elif key == "color":
            racer["color"] = text if text.startswith("#") else f"#{text}"
        else:
            params[key] = _list_or_text(text)
    if params:
        racer["params"] = params
    if schedule_params:
        schedule.setdefault("name", "constant")
        schedule["params"] = schedule_params
    if schedule:
        racer["schedule"] = schedule
    return racer


def _list_or_text(text: str) -> str | list[str]:
    return text.split(",") if "," in text else text


def _numbers(value: str, key: str) -> list[float]:
    return [_number(part, key) for part in value.split(",")]


def _number(value: str, key: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {value!r}") from None


def _integer(value: str, key: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{key} must be an integer, got {value!r}") from None


def _text(value: Any) -> str:
    """A value as the query writes it: repr-exact floats, lowercase booleans, comma-separated lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(item) for item in value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _racer_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(quote(_text(item), safe=_RACER_VALUE_SAFE) for item in value)
    return quote(_text(value), safe=_RACER_VALUE_SAFE)
