"""Hyperparameter maps and the fair race: POST/GET /api/map, POST /api/map/stream, POST /api/tune."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool

from core.hypermap import (
    DEFAULT_COUNT,
    MAX_AXIS,
    MAX_RACER_STEPS,
    METRICS,
    SCALES,
    Axis,
    default_y,
    grid_axis,
    hypermap,
    map_frames,
    numeric_axes,
)
from core.optimizers import OPTIMIZERS
from core.scene import Scene
from core.scene_url import parse_query, scene_json_from_query
from core.schedules import SCHEDULES
from core.tune import BETA1_VALUES, OBJECTIVES, tune
from server.admission import BUSY_RESPONSES, admission, admitted
from server.responses import GET_ERRORS, NOT_MODIFIED, POST_ERRORS, cached_json, json_reply, ok
from server.routes.race import SCENE_EXAMPLE, NDJSONResponse, accepts_gzip, gzip_flushed, ndjson
from server.schemas import (
    LR_RANGE_ORDERED,
    MAP_AXES,
    MAP_QUERY_AXIS,
    MAP_RACER,
    MAP_SIZE,
    SCENE_QUERY_RULES,
    SCENE_RULES,
    TUNE_SIZE,
    RaceReply,
    SceneInput,
    SceneSchema,
    _Reply,
    exact,
    scene_query_parameters,
    states,
)
from server.strict import strict_json

router = APIRouter(prefix="/api", tags=["maps"])

# A stream's frame holds about this many cells (whole rows), so a big map arrives in a dozen pieces.
CELLS_PER_FRAME = 1024
# Every name an axis may take, for some racer: the optimizers' numeric hyperparameters, then ``schedule.<param>``
# for the schedules' (which of them a map takes depends on its racer: a rule, MAP_AXES).
AXIS_NAMES = tuple(
    dict.fromkeys(
        [p.name for spec in OPTIMIZERS.values() for p in spec.params if p.kind in ("float", "int")]
        + [f"schedule.{p.name}" for spec in SCHEDULES.values() for p in spec.params if p.kind in ("float", "int")]
    )
)


class MapAxis(BaseModel):
    """One axis of a map: a numeric hyperparameter of the racer (``lr``, ``beta1``, ``schedule.gamma``, …)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    # documented (and held by server.strict) as one of AXIS_NAMES; read as text, so that a name no racer has is
    # refused by MapRequest's check with the chosen racer's own names
    name: Annotated[str, exact(Literal[AXIS_NAMES])] = Field(  # type: ignore[valid-type]
        description="a numeric hyperparameter of the racer's optimizer, or schedule.<param> of its schedule",
        examples=["lr"],
    )
    min: float | None = Field(None, description="default: the spec's slider minimum")
    max: float | None = Field(None, description="default: the spec's slider maximum")
    count: int = Field(DEFAULT_COUNT, ge=2, le=MAX_AXIS, description=f"cells along this axis, at most {MAX_AXIS}")
    scale: Literal[SCALES] | None = Field(  # type: ignore[valid-type]
        None, description="log, linear, or one_minus_log (1 − value log-spaced); default: the spec's slider scale"
    )

    def axis(self) -> Axis:
        return Axis(self.name, self.min, self.max, self.count, self.scale)


class MapRequest(BaseModel):
    """A 2D map of one racer: every cell a full race from the scene's start with two hyperparameters replaced."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    scene: SceneInput = Field(default_factory=Scene)
    racer: int = Field(0, ge=0, le=15, description="index of the racer in scene.racers")
    x: MapAxis = Field(default_factory=lambda: MapAxis(name="lr"))
    y: MapAxis | None = Field(None, description="default: the racer's first numeric hyperparameter after lr")
    metric: Literal[METRICS] = Field("final_gap", description="what the cells' colours show")  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _axes_of_the_racer(self) -> MapRequest:
        """An axis no racer has: core's message, naming the chosen racer's hyperparameters (the rest: core.hypermap)."""
        if self.racer < len(self.scene.racers):
            specs = numeric_axes(self.scene, self.racer)
            owner = self.scene.racers[self.racer].optimizer
            for field, axis in (("map.x", self.x), ("map.y", self.y)):
                if axis is not None and axis.name not in specs:
                    grid_axis(axis.axis(), field, specs, owner, self.scene.steps)  # raises, naming the field
        return self

    def work(self) -> int:
        """What the map costs the admission control (server/admission.py): cells × steps, in racer-steps."""
        y_count = self.y.count if self.y is not None else DEFAULT_COUNT
        return self.x.count * y_count * self.scene.steps

    def args(self) -> tuple[Scene, int, Axis, Axis, Any]:
        y = self.y.axis() if self.y is not None else Axis(default_y(self.scene, self.racer))
        return self.scene, self.racer, self.x.axis(), y, self.metric


# --- replies (documentation: the routes answer core's dicts) ---

CellStatus = Literal["arrived", "running", "diverged", "invalid"]


class MapAxisReply(_Reply):
    name: str
    scale: Literal[SCALES]  # type: ignore[valid-type]
    min: float
    max: float
    count: int
    kind: Literal["float", "int"]
    values: list[float] = Field(description="the axis' values, rounded readably, increasing")


class MapCurrent(_Reply):
    x: float = Field(description="the racer's own value of the x hyperparameter")
    y: float


class MapBest(_Reply):
    row: int
    column: int
    x: float
    y: float
    final_gap: float
    arrived_at: int | None


class MapCounts(_Reply):
    arrived: int
    running: int
    diverged: int
    invalid: int


class MapHeaderFields(_Reply):
    racer: int
    label: str
    optimizer: str
    color: str
    metric: Literal[METRICS]  # type: ignore[valid-type]
    steps: int
    minimum_value: float = Field(description="f*, the lowest known minimum's value, that final_gap is measured from")
    start_gap: float = Field(description="f(start) − f*: a cell whose final gap exceeds it ended worse than it began")
    x: MapAxisReply
    y: MapAxisReply
    current: MapCurrent
    scene: SceneSchema = Field(description="the scene with every default written out")


class MapGrids(_Reply):
    status: list[list[CellStatus]] = Field(description="rows along y: status[j][i] at x.values[i], y.values[j]")
    final_gap: list[list[float | None]] = Field(description="f(θ_T) − f*; null where diverged or invalid")
    arrived_at: list[list[int | None]]
    diverged_at: list[list[int | None]]


class MapSummaryFields(_Reply):
    counts: MapCounts
    best: MapBest | None = Field(description="lowest final gap, ties by earlier arrival; null if every cell diverged")
    invalid_reason: str | None = Field(description="why the first invalid cell cannot race, if any is")


class MapReply(MapHeaderFields, MapGrids, MapSummaryFields):
    """The whole map."""


class MapHeaderFrame(MapHeaderFields):
    type: Literal["header"]


class MapRowsFrame(MapGrids):
    type: Literal["rows"]
    first: int = Field(description="the index along y of this frame's first row")


class MapSummaryFrame(MapSummaryFields):
    type: Literal["summary"]


MapFrame = Annotated[MapHeaderFrame | MapRowsFrame | MapSummaryFrame, Field(discriminator="type")]


class TuneObjective(_Reply):
    name: Literal[tuple(OBJECTIVES)]  # type: ignore[valid-type]
    description: str


class TuneLrSearch(_Reply):
    min: float
    max: float
    count: int
    scale: Literal["log"]
    refine: int


class TuneSearch(_Reply):
    lr: TuneLrSearch
    beta1: list[float] | None


class TunedRacer(_Reply):
    label: str
    optimizer: str
    color: str
    before: dict[str, float] = Field(description="the racer's own values of the tuned hyperparameters")
    tuned: dict[str, float] = Field(description="the best values found")
    found: bool = Field(description="false if every candidate diverged (the racer keeps its own values)")
    status: Literal["arrived", "running", "diverged"]
    final_gap: float | None
    arrived_at: int | None
    diverged_at: int | None


class TuneReply(_Reply):
    objective: TuneObjective
    search: TuneSearch
    racers: list[TunedRacer]
    scene: SceneSchema = Field(description="the tuned scene, every default written out")
    race: RaceReply


MAP_EXAMPLE = {
    "scene": {**SCENE_EXAMPLE, "racers": [SCENE_EXAMPLE["racers"][1]]},
    "racer": 0,
    "x": {"name": "lr", "min": 1e-3, "max": 3.0, "count": 32, "scale": "log"},
    "y": {"name": "beta1", "min": 0.0, "max": 0.99, "count": 32},
}
SMALL_MAP = MapRequest.model_validate(
    {
        **MAP_EXAMPLE,
        "scene": {**MAP_EXAMPLE["scene"], "steps": 3},
        "x": {"name": "lr", "count": 2},
        "y": {"name": "beta1", "count": 2},
    }
)
MapBody = Annotated[MapRequest, Body(examples=[MAP_EXAMPLE])]
MAP_RULES = (*SCENE_RULES, MAP_RACER, MAP_AXES, MAP_SIZE)


def described(text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The operation's description as its docstring (``@states`` above it appends the rules it lists)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function.__doc__ = text
        return function

    return decorate


MAP_DESCRIPTION = f"""Per cell: status (arrived, running, diverged, invalid), final loss gap f(θ_T) − f* (null where
diverged), arrival step, divergence step; grids are lists of rows, ``grid[j][i]`` at x.values[i], y.values[j].
Each cell equals the single race (POST /api/race) with those two values. A cell whose values break a rule
linking several fields (``nesterov`` needs momentum > 0, a schedule's own checks) is ``invalid`` and
``invalid_reason`` says why; the rest of the map is computed. Limits: at most {MAX_AXIS} × {MAX_AXIS} cells and
cells × steps ≤ {MAX_RACER_STEPS:,}."""


@router.post(
    "/map",
    dependencies=[strict_json(MapRequest)],
    summary="A 2D hyperparameter map of one racer",
    responses={**ok(hypermap(*SMALL_MAP.args()), MapReply), **POST_ERRORS, **BUSY_RESPONSES},
)
@admitted(lambda request, **_: request.work())
@states(*MAP_RULES)
@described(MAP_DESCRIPTION)
def hyper_map(request: MapBody) -> Response:
    return json_reply(hypermap(*request.args()))


MAP_QUERY_KEYS = (
    "map.racer",
    "map.metric",
    "map.x",
    "map.y",
    *(f"map.{a}.{k}" for a in "xy" for k in ("min", "max", "count", "scale")),
)


def map_request_from_query(query: str) -> MapRequest:
    """The page's scene query plus ``map.racer``, ``map.x=lr``, ``map.x.min`` … ``map.metric``, as a MapRequest."""
    pairs = parse_query(query)
    try:
        scene = scene_json_from_query(pairs, ignore=MAP_QUERY_KEYS)
    except ValueError as error:
        if "unknown query key" in str(error):
            raise ValueError(
                f"{error}, map.racer, map.x, map.y, map.x.min/max/count/scale (and map.y.…), map.metric"
            ) from None
        raise
    given = {k: v for k, v in pairs if k in MAP_QUERY_KEYS}
    body: dict[str, Any] = {"scene": scene}
    if "map.racer" in given:
        body["racer"] = given["map.racer"]
    if "map.metric" in given:
        body["metric"] = given["map.metric"]
    for a in "xy":
        fields = {k: given[f"map.{a}.{k}"] for k in ("min", "max", "count", "scale") if f"map.{a}.{k}" in given}
        if f"map.{a}" in given:
            body[a] = {"name": given[f"map.{a}"], **fields}
        elif fields:
            raise ValueError(f"map.{a}.{next(iter(fields))} needs map.{a}=<hyperparameter name>")
    return _validated_query(MapRequest, body, "map")


RequestModel = TypeVar("RequestModel", bound=BaseModel)


def _validated_query(model: type[RequestModel], body: dict[str, Any], prefix: str) -> RequestModel:
    """``body`` (from a query) as ``model``, lax: the query's strings become numbers, checked against the limits.
    Raises ValueError naming the query key (``<prefix>.<field>``, or the scene's own key) and what is wrong."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        where = [str(part) for part in problem["loc"]]
        key = ".".join(where[1:]) if where[0] == "scene" else f"{prefix}." + ".".join(where)
        raise ValueError(f"{key}: {problem['msg']}, got {problem.get('input')!r}") from None


def map_query_parameters() -> list[dict[str, Any]]:
    """``map.racer``, ``map.metric``, ``map.x``, ``map.x.min`` … as OpenAPI query parameters (from MapRequest)."""
    request = MapRequest.model_json_schema()
    axis = request["$defs"]["MapAxis"]["properties"]

    def parameter(name: str, field: dict[str, Any]) -> dict[str, Any]:
        schema = {k: v for k, v in field.items() if k in ("type", "enum", "minimum", "maximum", "default")}
        if "anyOf" in field:  # optional: the one non-null type
            schema.update(next(part for part in field["anyOf"] if part.get("type") != "null"))
        if "const" in schema:
            schema["enum"] = [schema.pop("const")]
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": field.get("description", ""),
            "schema": schema,
        }

    fields = request["properties"]
    parameters = [parameter("map.racer", fields["racer"]), parameter("map.metric", fields["metric"])]
    for a, words in (("x", "default: lr"), ("y", "default: the racer's first numeric hyperparameter after lr")):
        named = parameter(f"map.{a}", axis["name"])
        parameters.append({**named, "description": f"{named['description']}; {words}"})
        parameters += [parameter(f"map.{a}.{key}", axis[key]) for key in ("min", "max", "count", "scale")]
    return parameters


@router.get(
    "/map",
    summary="A 2D hyperparameter map, given as a query string",
    responses={**ok(hypermap(*SMALL_MAP.args()), MapReply), **NOT_MODIFIED, **GET_ERRORS, **BUSY_RESPONSES},
    openapi_extra={"parameters": [*scene_query_parameters(), *map_query_parameters()]},
)
@states(*SCENE_QUERY_RULES, MAP_RACER, MAP_AXES, MAP_SIZE, MAP_QUERY_AXIS)
@described(
    "The scene in the page's URL form plus map.racer, map.x=<name>, map.x.min, map.x.max, map.x.count, "
    "map.x.scale, the same for map.y, and map.metric; the same meaning as POST /api/map. " + MAP_DESCRIPTION
)
async def hyper_map_from_query(request: Request) -> Response:
    asked = map_request_from_query(str(request.url.query))
    async with admission(asked.work()):
        return await run_in_threadpool(lambda: cached_json(request, hypermap(*asked.args())))


@router.post(
    "/map/stream",
    dependencies=[strict_json(MapRequest)],
    summary="A 2D hyperparameter map as an NDJSON stream",
    response_class=NDJSONResponse,
    responses={
        200: {
            "description": "NDJSON, one frame a line: a header, rows of cells as their races finish, a summary",
            "model": list[MapFrame],
            "content": {
                NDJSONResponse.media_type: {
                    "example": b"".join(ndjson(map_frames(*SMALL_MAP.args(), rows_per_frame=1))).decode(),
                }
            },
        },
        **POST_ERRORS,
        **BUSY_RESPONSES,
    },
)
@admitted(lambda request, **_: request.work())
@states(*MAP_RULES)
@described(
    "One JSON object a line: a header (axes and their values, the racer's setting, the filled scene), "
    "then rows of cells as their races finish, then a summary (counts, best cell, why cells are invalid). "
    "Errors come as a 422 before the stream starts. " + MAP_DESCRIPTION
)
def hyper_map_stream(request: MapBody, http: Request) -> NDJSONResponse:
    scene, racer, x, y, metric = request.args()
    frames = map_frames(scene, racer, x, y, metric, rows_per_frame=max(1, CELLS_PER_FRAME // x.count))
    header = next(frames)  # validation happens here, before the reply starts
    lines = ndjson(chain([header], frames))
    if not accepts_gzip(http.headers.get("accept-encoding", "")):
        return NDJSONResponse(lines, headers={"Vary": "Accept-Encoding"})
    return NDJSONResponse(gzip_flushed(lines), headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


class TuneRequest(BaseModel):
    """A fair race: every racer's learning rate searched on this landscape and start."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    scene: SceneInput = Field(default_factory=Scene)
    lr_min: float = Field(1e-5, gt=0.0, le=1e6, description="the lowest lr of the first round")
    lr_max: float = Field(10.0, gt=0.0, le=1e6, description="the highest lr of the first round")
    count: int = Field(25, ge=3, le=64, description="log-spaced lrs of the first round")
    refine: int = Field(9, ge=0, le=32, description="log-spaced lrs between the best one's neighbours (0: none)")
    beta1: bool = Field(False, description=f"also search beta1 in {list(BETA1_VALUES)} where the optimizer has one")
    objective: Literal[tuple(OBJECTIVES)] = Field(  # type: ignore[valid-type]
        "arrival", description="; ".join(f"{k}: {v}" for k, v in OBJECTIVES.items())
    )


def tune_work(request: TuneRequest) -> int:
    """What a tune costs the admission control: every candidate's race, and the tuned race."""
    rounds = (request.count + request.refine) * (len(BETA1_VALUES) if request.beta1 else 1) + 1
    return len(request.scene.racers) * rounds * request.scene.steps


TUNE_EXAMPLE = {"scene": SCENE_EXAMPLE, "count": 25, "refine": 9, "beta1": False, "objective": "arrival"}
SMALL_TUNE = {**TUNE_EXAMPLE, "scene": {**SCENE_EXAMPLE, "steps": 3}, "count": 3, "refine": 2}


@router.post(
    "/tune",
    dependencies=[strict_json(TuneRequest)],
    summary="A fair race: every racer at its own best learning rate",
    responses={
        **ok(tune(TuneRequest.model_validate(SMALL_TUNE).scene, count=3, refine=2), TuneReply),
        **POST_ERRORS,
        **BUSY_RESPONSES,
    },
)
@admitted(lambda request, **_: tune_work(request))
@states(*SCENE_RULES, LR_RANGE_ORDERED, TUNE_SIZE)
def tune_race(request: Annotated[TuneRequest, Body(examples=[TUNE_EXAMPLE])]) -> Response:
    """A log grid of lrs per racer, then a finer grid around the best; optionally beta1 too. Returns the
    objective, each racer's values before and after, and the race with the tuned values."""
    options = request.model_dump(exclude={"scene"})
    return json_reply(tune(request.scene, **options))


TUNE_QUERY_KEYS = tuple(f"tune.{name}" for name in ("lr_min", "lr_max", "count", "refine", "beta1", "objective"))
_FLAGS = {"1": True, "true": True, "0": False, "false": False}


def tune_request_from_query(query: str) -> TuneRequest:
    """The page's scene query plus ``tune.lr_min``, ``tune.lr_max``, ``tune.count``, ``tune.refine``,
    ``tune.beta1`` (1/true/0/false) and ``tune.objective``, as a TuneRequest."""
    pairs = parse_query(query)
    try:
        scene = scene_json_from_query(pairs, ignore=TUNE_QUERY_KEYS)
    except ValueError as error:
        if "unknown query key" in str(error):
            raise ValueError(f"{error}, {', '.join(TUNE_QUERY_KEYS)}") from None
        raise
    body: dict[str, Any] = {"scene": scene}
    for key, value in pairs:
        if key not in TUNE_QUERY_KEYS:
            continue
        name = key.removeprefix("tune.")
        if name in body:
            raise ValueError(f"{key} must be given at most once")
        if name == "beta1":
            if value.lower() not in _FLAGS:
                raise ValueError(f"tune.beta1 must be 1, true, 0 or false, got {value!r}")
            body[name] = _FLAGS[value.lower()]
        else:
            body[name] = value
    return _validated_query(TuneRequest, body, "tune")


def tune_query_parameters() -> list[dict[str, Any]]:
    """``tune.lr_min`` … ``tune.objective`` as OpenAPI query parameters (from TuneRequest's fields)."""
    fields = TuneRequest.model_json_schema()["properties"]
    parameters = []
    for key in TUNE_QUERY_KEYS:
        field = fields[key.removeprefix("tune.")]
        if key == "tune.beta1":
            schema: dict[str, Any] = {"type": "string", "enum": list(_FLAGS), "default": "0"}
        else:
            schema = {k: v for k, v in field.items() if k in ("type", "enum", "minimum", "maximum", "default")}
            schema.update({"exclusiveMinimum": field["exclusiveMinimum"]} if "exclusiveMinimum" in field else {})
        words = field.get("description", "")
        parameters.append({"name": key, "in": "query", "required": False, "description": words, "schema": schema})
    return parameters


@router.get(
    "/tune",
    summary="A fair race, given as a query string",
    responses={
        **ok(tune(TuneRequest.model_validate(SMALL_TUNE).scene, count=3, refine=2), TuneReply),
        **NOT_MODIFIED,
        **GET_ERRORS,
        **BUSY_RESPONSES,
    },
    openapi_extra={"parameters": [*scene_query_parameters(), *tune_query_parameters()]},
)
@states(*SCENE_QUERY_RULES, LR_RANGE_ORDERED, TUNE_SIZE)
async def tune_race_from_query(request: Request) -> Response:
    """The scene in the page's URL form plus tune.lr_min, tune.lr_max, tune.count, tune.refine, tune.beta1 (1 or 0)
    and tune.objective; the same meaning as POST /api/tune."""
    asked = tune_request_from_query(str(request.url.query))
    async with admission(tune_work(asked)):
        options = asked.model_dump(exclude={"scene"})
        return await run_in_threadpool(lambda: cached_json(request, tune(asked.scene, **options)))
