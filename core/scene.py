"""The Scene: one schema for a race, shared by the JSON API, the page's URL, the CLI and the exports.

A scene names a landscape (with parameters), a start point, the racers (optimizer, hyperparameters,
learning-rate schedule, label, colour), the number of steps, gradient noise, regularization and a
seed. ``Scene.model_validate`` checks everything a user can get wrong and names the field;
``scene.filled()`` writes every default out, so a stored scene keeps its meaning when a default
changes.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.landscapes import get_landscape
from core.optimizers import get_optimizer
from core.palette import PALETTE, STYLES
from core.schedules import get_schedule, resolve_schedule_params

MAX_STEPS = 20_000
MAX_RACERS = 16
MAX_PARAMS = 32
MAX_NOISE = 1e3
MAX_REGULARIZATION = 1e3

ParamValue = bool | int | float | str | list[int] | list[float]
Params = Annotated[dict[str, ParamValue], Field(max_length=MAX_PARAMS)]

# The palette and each optimizer's colour live in core.palette (with its marker shape); re-exported here.
OPTIMIZER_COLORS = {name: style.color for name, style in STYLES.items()}
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LandscapeChoice(_Strict):
    """Which landscape, and its parameters (omitted ones take the landscape's defaults)."""

    name: str = Field("beale", max_length=64, examples=["rosenbrock"])
    params: Params = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> LandscapeChoice:
        landscape = get_landscape(self.name)
        landscape.surface(self.params)  # validates the parameters
        return self


class ScheduleChoice(_Strict):
    """A learning-rate schedule by name, with its parameters (see GET /api/schedules)."""

    name: str = Field("constant", max_length=64, examples=["cosine"])
    params: Params = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        get_schedule(name)
        return name


class Racer(_Strict):
    """One racer: an optimizer with its hyperparameters (torch's names and defaults) and a schedule."""

    optimizer: str = Field(max_length=64, examples=["adam"])
    params: Params = Field(default_factory=dict, examples=[{"lr": 0.05, "beta1": 0.9, "beta2": 0.999}])
    schedule: ScheduleChoice = Field(default_factory=ScheduleChoice)
    label: str | None = Field(None, max_length=40, examples=["Adam"])
    color: str | None = Field(None, examples=["#e69f00"])

    @model_validator(mode="after")
    def _check(self) -> Racer:
        spec = get_optimizer(self.optimizer)
        self.params = spec.resolve(self.params)
        if self.color is not None and not _HEX_COLOR.match(self.color):
            raise ValueError(f"color must be a hex colour like #e69f00, got {self.color!r}")
        return self


def default_racers() -> list[Racer]:
    """The lecture's four: SGD (red), Momentum (blue), RMSProp (green) and Adam (gold).

    Learning rates tuned for the default landscape, Beale from (1, 1.5): all four arrive within
    500 steps, Adam first (step 140), then Momentum (180), RMSProp (223) and SGD (309).
    """
    return [
        Racer(optimizer="sgd", params={"lr": 0.03}),
        Racer(optimizer="momentum", params={"lr": 0.003, "momentum": 0.9}),
        Racer(optimizer="rmsprop", params={"lr": 0.1}),
        Racer(optimizer="adam", params={"lr": 0.3}),
    ]


class Scene(_Strict):
    """A whole race. Every number must be finite; ``start`` must lie in the landscape's domain."""

    landscape: LandscapeChoice = Field(default_factory=LandscapeChoice)
    start: tuple[float, float] | None = Field(None, description="start point; default: the landscape's start")
    steps: int = Field(500, ge=1, le=MAX_STEPS, description="number of optimizer updates")
    noise: float = Field(0.0, ge=0.0, le=MAX_NOISE, description="σ of the N(0, σ²I) noise added to each gradient")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the gradient noise")
    l1: float = Field(0.0, ge=0.0, le=MAX_REGULARIZATION, description="λ1 of the penalty λ1·(|x| + |y|)")
    l2: float = Field(0.0, ge=0.0, le=MAX_REGULARIZATION, description="λ2 of the penalty λ2·(x² + y²)")
    racers: list[Racer] = Field(default_factory=default_racers, min_length=1, max_length=MAX_RACERS)

    @model_validator(mode="after")
    def _check(self) -> Scene:
        landscape = get_landscape(self.landscape.name).resolve(self.landscape.params)
        if self.start is not None:
            x, y = self.start
            d = landscape.domain
            if not (d.xmin <= x <= d.xmax and d.ymin <= y <= d.ymax):
                raise ValueError(
                    f"start must lie in the domain of {landscape.name}: x in [{d.xmin:g}, {d.xmax:g}], "
                    f"y in [{d.ymin:g}, {d.ymax:g}]; got [{x:g}, {y:g}]"
                )
        for index, racer in enumerate(self.racers):
            try:
                resolve_schedule_params(racer.schedule.name, racer.schedule.params, self.steps)
            except ValueError as error:
                raise ValueError(f"racers[{index}].schedule: {error}") from None
        return self

    def filled(self) -> Scene:
        """The same scene with every default written out: start, params, schedule params, labels, colours."""
        surface = get_landscape(self.landscape.name).surface(self.landscape.params)
        landscape = surface.landscape
        labels = _unique_labels([r.label or get_optimizer(r.optimizer).title for r in self.racers])
        colors = _colors(self.racers)
        racers = [
            Racer(
                optimizer=r.optimizer,
                params=get_optimizer(r.optimizer).resolve(r.params),
                schedule=ScheduleChoice(
                    name=r.schedule.name,
                    params=resolve_schedule_params(r.schedule.name, r.schedule.params, self.steps),
                ),
                label=label,
                color=color,
            )
            for r, label, color in zip(self.racers, labels, colors, strict=True)
        ]
        return Scene(
            landscape=LandscapeChoice(name=landscape.name, params=dict(surface.params)),
            start=self.start if self.start is not None else landscape.start,
            steps=self.steps,
            noise=self.noise,
            seed=self.seed,
            l1=self.l1,
            l2=self.l2,
            racers=racers,
        )


def _unique_labels(labels: list[str]) -> list[str]:
    """Number repeated labels: ["Adam", "Adam"] → ["Adam", "Adam 2"]."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} {seen[label]}")
    return unique


def _colors(racers: list[Racer]) -> list[str]:
    """Each racer's colour: its own, else its optimizer's, else the first palette colour not yet taken."""
    taken = {r.color.lower() for r in racers if r.color}
    colors = []
    for racer in racers:
        color = racer.color or OPTIMIZER_COLORS.get(racer.optimizer, PALETTE[0])
        if not racer.color and color in taken:
            color = next((c for c in PALETTE if c not in taken), color)
        taken.add(color)
        colors.append(color.lower())
    return colors
