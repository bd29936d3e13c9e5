"""Parameter specs: the one description of a tunable number that validation, the API and the sliders share.

A landscape, an optimizer and a schedule each declare their parameters as ``ParamSpec``s. The
server serves them as JSON, the page builds one slider per spec, and ``resolve_params`` checks a
user's values against them, filling in defaults and naming the field, the value and what is
allowed when something is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

ParamKind = Literal["float", "int", "bool", "int_list", "text", "range", "choice"]
SliderScale = Literal["log", "linear", "one_minus_log"]


@dataclass(frozen=True)
class OfSteps:
    """A default that depends on the run's number of steps, as data the page reads too:
    max(at_least, ⌊steps·numerator/denominator⌋), or ⌈…⌉ when ``rounding`` is "ceil"."""

    numerator: int = 1
    denominator: int = 1
    rounding: Literal["floor", "ceil"] = "floor"
    at_least: int = 0

    def of(self, steps: int) -> int:
        scaled = steps * self.numerator
        value = -(-scaled // self.denominator) if self.rounding == "ceil" else scaled // self.denominator
        return max(self.at_least, value)


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its default, the values it may take, and how a slider should show it.

    ``minimum``/``maximum`` bound what is valid (``None``: unbounded; ``*_exclusive``: open end);
    ``slider_min``/``slider_max`` bound what a slider offers, which is usually narrower. ``scale`` is how the
    slider spreads them: ``log``, ``linear``, or ``one_minus_log`` for a decay β (log of 1 − β, so 0.9, 0.99,
    0.999 and 0.9999 are evenly spaced).
    A default of ``None`` means "depends on the race" (e.g. a schedule's T_max defaults to the
    number of steps): ``race_default`` says how, one ``OfSteps`` per value (several make a sorted
    list without repeats, e.g. multistep's milestones), and ``race_value(steps)`` computes it.
    A ``choice`` is one of the strings ``choices`` (torch's names; ``"none"`` stands for torch's None,
    which JSON's null also gives).
    """

    name: str
    default: Any
    help: str
    kind: ParamKind = "float"
    minimum: float | None = None
    maximum: float | None = None
    minimum_exclusive: bool = False
    maximum_exclusive: bool = False
    slider_min: float | None = None
    slider_max: float | None = None
    scale: SliderScale = "linear"
    race_default: tuple[OfSteps, ...] = ()
    choices: tuple[str, ...] = ()

    def race_value(self, steps: int) -> Any:
        """The default for a run of ``steps`` updates (``race_default``), or ``default`` if it has none."""
        if not self.race_default:
            return self.default
        values = [rule.of(steps) for rule in self.race_default]
        return values[0] if len(values) == 1 else sorted(set(values))

    def allowed(self) -> str:
        """The allowed values in words, e.g. ``a number in [0, 1)``."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return f"a text of at most {int(self.maximum or 0)} characters" if self.maximum else "a text"
        if self.kind == "range":
            return f"two numbers low,high with low < high, each in [{_fmt(self.minimum)}, {_fmt(self.maximum)}]"
        if self.kind == "choice":
            return "one of: " + ", ".join(self.choices)
        noun = {"float": "a number", "int": "an integer", "int_list": "a list of integers"}[self.kind]
        if self.minimum is None and self.maximum is None:
            return noun
        fmt = (lambda n: str(int(n))) if self.kind in ("int", "int_list") else _fmt
        low = "-inf" if self.minimum is None else fmt(self.minimum)
        high = "inf" if self.maximum is None else fmt(self.maximum)
        left = "(" if self.minimum is None or self.minimum_exclusive else "["
        right = ")" if self.maximum is None or self.maximum_exclusive else "]"
        each = " each" if self.kind == "int_list" else ""
        return f"{noun}{each} in {left}{low}, {high}{right}"

    def check(self, value: Any, owner: str) -> Any:
        """Return ``value`` converted to this spec's kind, or raise ``ValueError`` naming the field."""
        field = f"{owner}.{self.name}" if owner else self.name
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            raise ValueError(f"{field} must be {self.allowed()}, got {value!r}")
        if self.kind == "text":
            if not isinstance(value, str) or (self.maximum is not None and len(value) > self.maximum):
                raise ValueError(f"{field} must be {self.allowed()}, got {_short(value)}")
            return value
        if self.kind == "range":
            return self._check_range(value, field)
        if self.kind == "choice":
            if value is None and "none" in self.choices:
                return "none"
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"{field} must be {self.allowed()}, got {value!r}")
        if self.kind == "int_list":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, (list, tuple)):
                raise ValueError(f"{field} must be {self.allowed()}, got {value!r}")
            return [self._check_number(item, field, integer=True) for item in items]
        return self._check_number(value, field, integer=self.kind == "int")

    def _check_range(self, value: Any, field: str) -> tuple[float, float]:
        """low,high (a string or two numbers) as a tuple of floats, low < high, each within [minimum, maximum]."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or len(items) != 2:
            raise ValueError(f"{field} must be {self.allowed()}, got {_short(value)}")
        numbers = [_as_number(item) for item in items]
        low, high = numbers
        if (
            low is None
            or high is None
            or not (math.isfinite(low) and math.isfinite(high) and low < high)
            or (self.minimum is not None and low < self.minimum)
            or (self.maximum is not None and high > self.maximum)
        ):
            raise ValueError(f"{field} must be {self.allowed()}, got {_short(value)}")
        return (float(low) + 0.0, float(high) + 0.0)

    def _check_number(self, value: Any, field: str, integer: bool) -> float | int:
        number = _as_number(value)
        if number is None or not math.isfinite(number) or (integer and number != int(number)):
            raise ValueError(f"{field} must be {self.allowed()}, got {value!r}")
        if self.minimum is not None and (number < self.minimum or (self.minimum_exclusive and number == self.minimum)):
            raise ValueError(f"{field} must be {self.allowed()}, got {value!r}")
        if self.maximum is not None and (number > self.maximum or (self.maximum_exclusive and number == self.maximum)):
            raise ValueError(f"{field} must be {self.allowed()}, got {value!r}")
        return int(number) if integer else float(number) + 0.0  # + 0.0: -0.0 is 0.0 (one value, one race)

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON, as ``/api/optimizers`` and friends serve it."""
        data = asdict(self)
        data["allowed"] = self.allowed()
        if not self.race_default:
            del data["race_default"]  # only the run-dependent ones carry it
        if not self.choices:
            del data["choices"]  # only a choice carries them
        return data


def ranged(
    name: str,
    default: Any,
    help_text: str,
    slider: tuple[float, float],
    scale: SliderScale = "linear",
    *,
    minimum: float | None = 0.0,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
    kind: ParamKind = "float",
) -> ParamSpec:
    """A number valid in [minimum, maximum] (``open_*``: that end excluded; by default ≥ 0) whose slider
    spans ``slider`` = (low, high) on ``scale``."""
    low, high = slider
    return ParamSpec(
        name,
        default,
        help_text,
        kind,
        minimum=minimum,
        maximum=maximum,
        minimum_exclusive=open_min,
        maximum_exclusive=open_max,
        slider_min=low,
        slider_max=high,
        scale=scale,
    )


def decay(name: str, default: float, help_text: str, maximum: float | None = 1.0, open_max: bool = False) -> ParamSpec:
    """A decay factor β ≥ 0 (at most ``maximum``): its slider runs from 0 to 0.9999 on the log of 1 − β."""
    return ranged(name, default, help_text, (0.0, 0.9999), "one_minus_log", maximum=maximum, open_max=open_max)


def resolve_params(specs: tuple[ParamSpec, ...], given: Mapping[str, Any] | None, owner: str) -> dict[str, Any]:
    """Check ``given`` against ``specs`` and fill in every default; unknown names are rejected.

    >>> resolve_params((ParamSpec("lr", 0.1, "step size", minimum=0.0),), {}, "adam")
    {'lr': 0.1}
    """
    given = dict(given or {})
    by_name = {spec.name: spec for spec in specs}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        known = ", ".join(by_name) or "none"
        raise ValueError(f"{owner} has no parameter {unknown[0]!r}; expected one of: {known}")
    return {spec.name: spec.check(given[spec.name], owner) if spec.name in given else spec.default for spec in specs}


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _short(value: Any) -> str:
    """A value's repr, cut to 60 characters for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt(number: float | None) -> str:
    return f"{number:g}"
