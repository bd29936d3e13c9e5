"""What the JSON API answers, as Pydantic models: the /docs schemas, checked against real replies by the tests.

Routes build their replies from core's plain dicts (fast, no re-validation); these models only document
them. ``extra="forbid"`` makes the documentation complete: a field core adds without a line here fails
the schema-conformance tests instead of going undocumented.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.scene import Scene

Point = tuple[float, float]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- catalogues --------------------------------------------------------------------------------------


class OfStepsReply(_Reply):
    numerator: int
    denominator: int
    rounding: Literal["floor", "ceil"]
    at_least: int


class RequirementReply(_Reply):
    param: str
    greater_than: float
    reason: str


class ParamSpecReply(_Reply):
    """One tunable number: default, valid range, slider range and scale (what the page builds a slider from)."""

    name: str
    default: Any = Field(description="the default; null when it depends on the race (e.g. T_max = steps)")
    help: str
    kind: Literal["float", "int", "bool", "int_list", "text", "range"]
    minimum: float | None
    maximum: float | None
    minimum_exclusive: bool
    maximum_exclusive: bool
    slider_min: float | None
    slider_max: float | None
    scale: Literal["log", "linear", "one_minus_log"]
    allowed: str = Field(description="the valid values in words, as error messages say them")
    race_default: list[OfStepsReply] | None = Field(
        None,
        description="only where default is null: the default for a run of steps updates, "
        "max(at_least, floor or ceil of steps·numerator/denominator); several make a sorted list without repeats",
    )


class DomainReply(_Reply):
    x: tuple[float, float]
    y: tuple[float, float]


class MinimumReply(_Reply):
    point: Point
    value: float
    kind: Literal["global", "local"]


class LandscapeReply(_Reply):
    name: str
    title: str
    formula: str
    lesson: str = Field(description="what the landscape teaches")
    domain: DomainReply
    start: Point
    minima: list[MinimumReply]
    tolerance: float = Field(description="a racer arrives when its loss is this close to a minimum's value ...")
    radius: float = Field(description="... and its point this close to the minimum")
    log_scale: bool
    params: list[ParamSpecReply]
    saddles: list[Point] = Field(description="saddle points inside the plotted domain, marked on the map")
    suggested_lr: dict[str, float] = Field(
        description="per optimizer, a learning rate that descends from the default start without diverging"
    )


class LandscapeList(_Reply):
    landscapes: list[LandscapeReply]


class OptimizerReply(_Reply):
    name: str
    title: str
    summary: str
    rule: str = Field(description="the update rule as plain-text pseudo-code")
    torch: str = Field(description="the torch call that reproduces the racer, {name} placeholders for hyperparameters")
    fixed: dict[str, Any] = Field(description="rule arguments that define the variant (not tunable)")
    requires: list[RequirementReply] = Field(description="rules across hyperparameters: param must be > greater_than")
    params: list[ParamSpecReply]
    color: str = Field(description="the colour its racers take unless the scene names one")
    marker: str = Field(description="the marker shape at the head of its racers' paths: page, embed and exports")


class OptimizerList(_Reply):
    optimizers: list[OptimizerReply]


class ScheduleReply(_Reply):
    name: str
    title: str
    formula: str
    torch: str
    params: list[ParamSpecReply]


class ScheduleList(_Reply):
    schedules: list[ScheduleReply]


class CurveReply(_Reply):
    lr: list[float] = Field(description="lr[t]: the learning rate of update t")


# --- landscapes ----------------------------------------------------------------------------------------


class EvaluateReply(_Reply):
    loss: list[float | None] = Field(description="F at each point; null where it overflows float64")
    grad: list[Annotated[list[float | None], Field(min_length=2, max_length=2)]] = Field(
        description="∇F at each point, [∂F/∂x, ∂F/∂y]; null where it overflows"
    )


class GridReply(_Reply):
    nx: int
    ny: int
    z: list[float] = Field(description="row-major, row j at y_j from ymin upward; 6 significant digits")


class ContourLineReply(_Reply):
    level: float
    paths: list[list[Point]]


class ContoursReply(_Reply):
    saddles: list[Point] | None = Field(
        None, description="a typed formula's saddle points (landscape custom, unregularized); absent otherwise"
    )
    domain: DomainReply
    log_scale: bool
    grid: GridReply
    z_min: float
    z_max: float
    levels: list[float]
    lines: list[ContourLineReply]


class FormulaCheckReply(_Reply):
    """A formula that passed: f and its derivatives, and what the race on it will use."""

    f: str = Field(description="the formula as sent")
    canonical: str = Field(description="its canonical form, fully parenthesised (the cache key)")
    text: dict[str, str] = Field(description="f, df/dx, df/dy, d2f/dx2, d2f/dxdy, d2f/dy2 as plain text")
    latex: dict[str, str] = Field(description="the same in LaTeX")
    domain: DomainReply
    start: Point = Field(description="the default start")
    minima: list[MinimumReply] = Field(description="found numerically: grid, then Newton with the exact Hessian")
    saddles: list[Point] = Field(description="critical points with an indefinite Hessian, marked on the map")
    tolerance: float
    radius: float
    log_scale: bool
    instructions: int = Field(description="operations of the compiled program for f, its gradient and Hessian")


# --- races -----------------------------------------------------------------------------------------------

Status = Literal["arrived", "diverged", "running"]


class RaceRequest(Scene):
    """A scene, and whether to record each update's internals."""

    internals: bool = Field(
        False,
        description="per update, the gradient the optimizer saw, the step it took and its state under torch's "
        "names (racers × steps at most core.race.MAX_INTERNALS)",
    )


class StepInternals(_Reply):
    """One entry per update the racer took: update t leaves path[t]."""

    grad: list[Point] = Field(description="the gradient the optimizer saw (noise and L1/L2 included)")
    update: list[Point] = Field(description="the step applied: the point after the update minus the point before")
    state: dict[str, list[Point] | list[float]] = Field(
        description="the optimizer's state after the update under torch's names, each equal to "
        "optimizer.state[p][name] (a scalar state, e.g. NAdam's mu_product, as one number per update)"
    )


class RacerSummary(_Reply):
    status: Status
    arrived_at: int | None = Field(description="the first step at a minimum, if any")
    diverged_at: int | None = Field(description="the first non-finite or out-of-bounds step, if any")
    final_loss: float | None = Field(description="the loss at the last finite step")
    steps_run: int = Field(description="the last step in the path (its length minus one)")


class RacerResult(RacerSummary):
    label: str
    optimizer: str
    color: str
    path: list[Point] = Field(description="the start, then the point after each update, up to a divergence")
    loss: list[float] = Field(description="the loss at each point of the path")
    lr: list[float] = Field(description="lr[t]: the learning rate of update t, for every step of the scene")
    internals: StepInternals | None = Field(None, description="with internals=true: each update's internals")


class RaceReply(_Reply):
    scene: Scene = Field(description="the scene with every default written out")
    minima: list[MinimumReply]
    racers: list[RacerResult]


class RacerMeta(_Reply):
    label: str
    optimizer: str
    color: str


class HeaderFrame(_Reply):
    """The first line: the filled scene, who races, where the minima are."""

    type: Literal["header"]
    scene: Scene
    racers: list[RacerMeta]
    minima: list[MinimumReply]


class RacerChunk(_Reply):
    path: list[Point]
    loss: list[float]
    lr: list[float]
    internals: StepInternals | None = Field(None, description="with internals=true: the updates leaving path")


class ChunkFrame(_Reply):
    """Steps ``first`` … of every racer, in the racers' order; a diverged racer's path stops early."""

    type: Literal["chunk"]
    first: int
    racers: list[RacerChunk]


class SummaryFrame(_Reply):
    """The last line: each racer's status."""

    type: Literal["summary"]
    racers: list[RacerSummary]


class SceneQueryReply(_Reply):
    query: str = Field(description="the scene as the page's query string, every value written out")
    scene: Scene


class SweepRacer(_Reply):
    label: str
    optimizer: str
    color: str
    final_gap: list[float | None] = Field(description="f(θ_T) − f* at each learning rate; null where it diverged")
    arrived_at: list[int | None]
    diverged_at: list[int | None]


class SweepReply(_Reply):
    lrs: list[float]
    racers: list[SweepRacer]


class HealthReply(_Reply):
    status: Literal["ok"]


class LaneReply(_Reply):
    busy: int = Field(description="units held now")
    capacity: int = Field(description="units that may be held at once")
    unit: Literal["requests", "racer-steps"]
    waiting: int = Field(description="requests waiting for room now")
    requests: int | None = Field(None, description="requests holding units now (large lane)")
    max_requests: int | None = Field(None, description="requests that may hold units at once (large lane)")


class ReadyReply(_Reply):
    ready: bool = Field(description="the engine is warm and a small race would start at once")
    engine_warm: bool
    lanes: dict[Literal["small", "large", "exports"], LaneReply]


# --- errors ------------------------------------------------------------------------------------------------


class ErrorDetail(_Reply):
    loc: list[str | int] = Field(description="where: body, query or path, then the field")
    msg: str = Field(description="what is wrong and what is allowed")
    type: str
    input: Any = Field(None, description="the offending value, cut short")


class ErrorReply(_Reply):
    """Every 4xx: a one-line summary, and each problem with its place, message and value."""

    error: str
    detail: list[ErrorDetail]
