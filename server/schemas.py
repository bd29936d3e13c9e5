"""The API's contract as Pydantic models: the exact request schemas, and what the JSON API answers.

Requests. ``core.scene`` validates a scene and says what is wrong in words; its models take parameters as
free-form objects, as the registries decide which names and values are allowed. The *documented* schema is
exact instead: ``exact_type(Scene)`` mirrors the Scene with the landscape, each racer and each schedule as
a union discriminated by name (``name`` / ``optimizer``), each variant with its own parameters, their
types, ranges and defaults. Every variant is generated from the registries (LANDSCAPES, OPTIMIZERS,
SCHEDULES and their ParamSpecs), so a new optimizer is in the schema as soon as it is in the registry.
A route documents its body with ``Annotated[Model, exact(Model), Body(...)]``; ``server.strict`` holds the
body to the same exact type, so a request the schema rejects is rejected, and one it allows is accepted,
but for the cross-field rules JSON Schema cannot state (``Rule``), which each operation lists in its
description (``@states(...)``).

Replies. Routes build their replies from core's plain dicts (fast, no re-validation); these models only
document them. ``extra="forbid"`` makes the documentation complete: a field core adds without a line here
fails the schema-conformance tests instead of going undocumented.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from pydantic_core import core_schema

from core import hypermap
from core import tune as tuning
from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.params import ParamSpec
from core.scene import _HEX_COLOR, LandscapeChoice, Racer, Scene, ScheduleChoice
from core.schedules import SCHEDULES

Point = tuple[float, float]


# --- exact request schemas, generated from the registries ----------------------------------------------------


def camel(name: str) -> str:
    """``six_hump_camel`` → ``SixHumpCamel``: a registry name as part of a schema's name."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", name) if part)


def _accepts(validate: Callable[[dict[str, Any]], Any], name: str, value: float) -> bool:
    try:
        validate({name: value})
    except ValueError:
        return False
    return True


# Two finite decimals "low,high", as a range parameter is written in a query (and may be in JSON).
_DECIMAL = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})?"
RANGE_PATTERN = rf"^\s*{_DECIMAL}\s*,\s*{_DECIMAL}\s*$"


def _param_annotation(spec: ParamSpec, validate: Callable[[dict[str, Any]], Any] | None) -> Any:
    """The JSON type and bounds of one parameter, as ``spec.check`` allows it.

    ``validate`` (the owner's own check of a single parameter, when it has one) is asked about each finite
    bound: a bound the owner refuses although the spec includes it (nesterov's momentum must be > 0) is
    documented as exclusive, so the schema never promises a value the server refuses.
    """
    if spec.kind == "bool":
        return bool
    if spec.kind == "text":  # the custom landscape's formula: its grammar is a rule (CUSTOM_LANDSCAPE)
        return str if spec.maximum is None else Annotated[str, Field(max_length=int(spec.maximum))]
    if spec.kind == "range":  # "low,high" or [low, high]; low < high is a rule (CUSTOM_LANDSCAPE)
        ends = {k: v for k, v in (("ge", spec.minimum), ("le", spec.maximum)) if v is not None}
        pair = Annotated[list[Annotated[float, Field(**ends)]], Field(min_length=2, max_length=2)]
        return Union[Annotated[str, Field(pattern=RANGE_PATTERN)], pair]  # noqa: UP007 (a runtime union)
    if spec.kind == "choice":  # one of its names, torch's ("none" for torch's None: a scene's values are never null)
        return Literal[spec.choices]
    bounds: dict[str, Any] = {}
    low_open, high_open = spec.minimum_exclusive, spec.maximum_exclusive
    if validate is not None and spec.kind == "float":
        if spec.minimum is not None and not low_open:
            low_open = not _accepts(validate, spec.name, spec.minimum)
        if spec.maximum is not None and not high_open:
            high_open = not _accepts(validate, spec.name, spec.maximum)
    if spec.minimum is not None:
        bounds["gt" if low_open else "ge"] = spec.minimum
    if spec.maximum is not None:
        bounds["lt" if high_open else "le"] = spec.maximum
    if spec.kind == "float":
        return Annotated[float, Field(**bounds)]
    if spec.kind == "int":
        return Annotated[int, Field(**{k: int(v) for k, v in bounds.items()})]
    return list[Annotated[int, Field(**{k: int(v) for k, v in bounds.items()})]]  # int_list


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def params_model(
    model_name: str, specs: tuple[ParamSpec, ...], validate: Callable[[dict[str, Any]], Any] | None = None
) -> type[BaseModel]:
    """One object of named parameters: each optional, with its type, range, default and help; no other names."""
    fields: dict[str, Any] = {}
    for spec in specs:
        description = f"{spec.help}; {spec.allowed()}"
        if spec.default is None:  # depends on the race: documented in words, not as a JSON default
            info = Field(None, description=f"{description}; default: from the run", json_schema_extra=_drop_default)
        else:
            info = Field(spec.default, description=description)
        fields[spec.name] = (_param_annotation(spec, validate), info)
    return create_model(
        model_name,
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_mode_override="validation"),
        **fields,
    )


def _copied(model: type[BaseModel], skip: tuple[str, ...]) -> dict[str, Any]:
    """``model``'s other fields, as ``create_model`` takes them (each type made exact)."""
    return {name: _exact_field(field) for name, field in model.model_fields.items() if name not in skip}


def _exact_field(field: FieldInfo, annotation: Any = None) -> tuple[Any, FieldInfo]:
    """(type, field info) of a field made exact: its own limits, default and description, an exact type
    (``annotation``, when the field is documented by another type)."""
    documented = annotation is not None
    annotation = exact_annotation(field.annotation) if annotation is None else annotation
    copy = FieldInfo.merge_field_infos(field)
    copy.annotation = None
    # a field documented by another type drops its own limits (e.g. a free-form object's max_length)
    copy.metadata = [] if documented else [m for m in copy.metadata if not isinstance(m, Exact)]
    if get_origin(annotation) is Annotated:  # a union keeps its discriminator
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, FieldInfo) and meta.discriminator is not None:
                copy.discriminator = meta.discriminator
    return annotation, copy


def _config(model: type[BaseModel]) -> ConfigDict:
    return ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_mode_override="validation", title=model.__name__)


@lru_cache(maxsize=1)
def landscape_union() -> Any:
    """``{"name": "bowl", "params": {"condition": …, "angle": …}}`` | … for every landscape."""
    variants = []
    for name, landscape in LANDSCAPES.items():
        params = params_model(f"{camel(name)}LandscapeParams", landscape.params, landscape.surface)
        variants.append(
            create_model(
                f"{camel(name)}Landscape",
                __config__=ConfigDict(
                    extra="forbid",
                    allow_inf_nan=False,
                    json_schema_mode_override="validation",
                    title=f"{camel(name)}Landscape",
                ),
                __doc__=f"{landscape.title}: {landscape.formula}",
                name=(Literal[name], Field(description="the landscape's name")),
                params=(params, Field(default_factory=params)),
                **_copied(LandscapeChoice, ("name", "params")),
            )
        )
    return Annotated[Union[tuple(variants)], Field(discriminator="name")]  # noqa: UP007


@lru_cache(maxsize=1)
def schedule_union() -> Any:
    """``{"name": "cosine", "params": {"T_max": …, "eta_min": …}}`` | … for every schedule."""
    variants = []
    for name, schedule in SCHEDULES.items():
        params = params_model(f"{camel(name)}ScheduleParams", schedule.params)
        variants.append(
            create_model(
                f"{camel(name)}Schedule",
                __config__=ConfigDict(
                    extra="forbid",
                    allow_inf_nan=False,
                    json_schema_mode_override="validation",
                    title=f"{camel(name)}Schedule",
                ),
                __doc__=f"{schedule.title} ({schedule.torch.split('(')[0]})",
                name=(Literal[name], Field(description="the schedule's name")),
                params=(params, Field(default_factory=params)),
                **_copied(ScheduleChoice, ("name", "params")),
            )
        )
    return Annotated[Union[tuple(variants)], Field(discriminator="name")]  # noqa: UP007


@lru_cache(maxsize=1)
def racer_union() -> Any:
    """``{"optimizer": "adam", "params": {"lr": …, "beta1": …}, "schedule": …, "label", "color"}`` | … for every
    optimizer."""
    variants = []
    for name, spec in OPTIMIZERS.items():
        params = params_model(f"{camel(name)}Hyperparameters", spec.params, spec.resolve)
        fields = _copied(Racer, ("optimizer", "params"))
        color_type, color_info = fields["color"]
        fields["color"] = (Annotated[color_type, Field(pattern=_HEX_COLOR.pattern)], color_info)
        variants.append(
            create_model(
                f"{camel(name)}Racer",
                __config__=ConfigDict(
                    extra="forbid",
                    allow_inf_nan=False,
                    json_schema_mode_override="validation",
                    title=f"{camel(name)}Racer",
                ),
                __doc__=f"{spec.title}: {spec.summary}",
                optimizer=(Literal[name], Field(description="the optimizer's name")),
                params=(params, Field(default_factory=params, description="hyperparameters, torch's names")),
                **fields,
            )
        )
    return Annotated[Union[tuple(variants)], Field(discriminator="optimizer")]  # noqa: UP007


def _exact_replacement(annotation: Any) -> Any:
    """The exact union standing for one of core's loose models, or None."""
    makers = {LandscapeChoice: landscape_union, Racer: racer_union, ScheduleChoice: schedule_union}
    maker = makers.get(annotation) if isinstance(annotation, type) else None
    return maker() if maker else None


def exact_annotation(annotation: Any) -> Any:
    """``annotation`` with every loose core model in it (landscape, racer, schedule, scene) made exact."""
    replacement = _exact_replacement(annotation)
    if replacement is not None:
        return replacement
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        return Annotated[(exact_annotation(inner), *metadata)]
    if origin in (Union, types.UnionType):
        return Union[tuple(exact_annotation(arg) for arg in get_args(annotation))]  # noqa: UP007
    if origin in (list, tuple, dict):
        return origin[tuple(exact_annotation(arg) for arg in get_args(annotation))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and _has_loose_part(annotation):
        return exact_type(annotation)
    return annotation


def _has_loose_part(model: type[BaseModel]) -> bool:
    text = repr([field.annotation for field in model.model_fields.values()])
    return any(loose.__name__ in text for loose in (LandscapeChoice, Racer, ScheduleChoice, Scene))


@cache
def exact_type(model: type[BaseModel]) -> type[BaseModel]:
    """The exact twin of a request model: the same fields, names, defaults and limits, each loose part
    (landscape, racers, schedules) made a discriminated union; no validators (core's run on the real model)."""
    fields = {}
    for name, field in model.model_fields.items():
        documented = next((m for m in field.metadata if isinstance(m, Exact)), None)
        fields[name] = _exact_field(field, documented.type if documented else None)
    return create_model(model.__name__, __config__=_config(model), __doc__=model.__doc__, **fields)


@dataclass(frozen=True)
class Exact:
    """Annotation metadata: document a field or a body with ``type``'s JSON schema instead of its own."""

    type: Any

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        return handler(TypeAdapter(self.type).core_schema)


def exact(model: Any) -> Exact:
    """``Annotated[Params, exact(...)]``: a field documented (and held by server.strict) exactly."""
    return Exact(exact_type(model) if isinstance(model, type) and issubclass(model, BaseModel) else model)


def documented_as(model: type[BaseModel], twin: Any) -> Any:
    """A type that validates as ``model`` (core's validators, core's messages) and is documented as ``twin``:
    ``scene: Annotated[documented_as(Scene, exact_type(Scene)), Body(...)]``.

    Not ``Annotated[Scene, ...]``: FastAPI would also document every model it finds in the annotation (core's
    loose Scene, Racer, …) beside the exact ones, under the same names."""
    twin_schema = TypeAdapter(twin).core_schema

    class Body:
        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
            return core_schema.no_info_plain_validator_function(
                lambda value: value if isinstance(value, model) else model.model_validate(value)
            )

        @classmethod
        def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> Any:
            return handler(twin_schema)

    Body.__name__ = Body.__qualname__ = f"{model.__name__}Body"
    return Annotated[Body, Exact(twin)]


@lru_cache(maxsize=1)
def any_landscape_params() -> Any:
    """The parameters of some landscape (which one: the path says, a cross-field rule)."""
    models = [
        params_model(f"{camel(name)}LandscapeParams", landscape.params, landscape.surface)
        for name, landscape in LANDSCAPES.items()
    ]
    return Union[tuple(dict.fromkeys(models))]  # noqa: UP007


# --- cross-field rules -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A constraint JSON Schema cannot state: its words (in the operation's description) and the 4xx it gives.

    ``message`` matches the error message of a request that breaks it; ``where`` the start of its ``loc``
    (a request breaking it is refused with a detail matching both).
    """

    text: str
    message: str
    where: tuple[str | int, ...] = ()
    media_type: str | None = None  # a rule of a body sent as this media type only

    def matches(self, detail: Mapping[str, Any], media_type: str | None = None) -> bool:
        if self.media_type is not None and media_type != self.media_type:
            return False
        loc = tuple(detail.get("loc", ()))
        return loc[: len(self.where)] == self.where and re.search(self.message, str(detail.get("msg", ""))) is not None


START_IN_DOMAIN = Rule(
    "`start` lies in the chosen landscape's domain (GET /api/landscapes/{name}: `domain`).",
    r"start must lie in the domain of",
)
SCHEDULE_FITS_RUN = Rule(
    "Each schedule's parameters suit the run's `steps`, as torch requires: e.g. onecycle `total_steps` ≥ steps "
    "(and `pct_start`·`total_steps` ≠ 1, `pct_start` < 1 when `total_steps` = steps), warmup_cosine "
    "`warmup` < steps, multistep `milestones` increasing.",
    r"must be >= steps|must not be 1|must be < 1 when total_steps|must be < steps|must be increasing",
)
SCHEDULE_FINITE = Rule(
    "Each racer's learning rate under its schedule stays a finite float64 at every update (an `lr` near float64's "
    "largest can overflow in the schedule's arithmetic).",
    r"schedule's learning rate is not a finite float64",
)
LR_RANGE_ORDERED = Rule("`lr_min` < `lr_max`.", r"lr_min and lr_max must satisfy")
SWEEP_SIZE = Rule(
    "At most 1024 races: (number of racers) × `count` ≤ 1024.",
    r"a sweep runs racers × count",
)
SWEEP_SCHEDULES = Rule(
    "The schedules suit the sweep's `steps` too, when it overrides the scene's (see the schedule rule).",
    r"must be >= steps|must not be 1|must be < 1 when total_steps|must be < steps",
)
PARAMS_OF_PATH_LANDSCAPE = Rule(
    "The parameters are those of the landscape named in the path (GET /api/landscapes/{name}: `params`).",
    r"^landscape \w+ has no parameter",
)
EVALUATE_POINTS = Rule(
    "At most the server's `max_evaluate_points` points (10 000 unless its operator lowered it).",
    r"points must hold at most",
)
CUSTOM_LANDSCAPE = Rule(
    "A `custom` landscape's `f` is a formula in x and y of its grammar (GET /api/landscapes/custom), within its "
    "size limits, whose value and gradient are finite on most of its domain; its `x` and `y` ranges are low < high.",
    r"landscape custom\.[fxy]\b",
)
QUERY_LANDSCAPE_PARAMS = Rule(
    "A `landscape.<param>` is a parameter of the chosen landscape.",
    r"^landscape \w+ has no parameter|has no parameter",
)
QUERY_RACERS = Rule(
    "Each `racer=` value is read as a racer of POST /api/race: its keys are the optimizer's hyperparameters, "
    "`schedule`, `schedule.<param>` (of that schedule), `label` and `color`, and each value has the type and "
    "range the racer's schema gives (GET /api/optimizers, GET /api/schedules).",
    r".",
    ("query", "racers"),
)
QUERY_SCHEDULES = Rule(
    "A `racer=` value's schedule parameters are those of its schedule, in their ranges.",
    r"^racers\[\d+\]\.schedule: ",
)
QUERY_LENGTH = Rule(
    "The whole query string is at most the server's `max_query_bytes` (8 KiB unless its operator changed it): "
    "a longer one gets 414.",
    r"query string must be at most",
)
QUERY_RACER_SYNTAX = Rule(
    "A `racer=` value's pairs are `key=value`.",
    r"^racer \d+ \(.*\): expected key=value",
)
EXPORT_BUDGET = Rule(
    "The picture's size fits its budget: for a GIF `width` × `height` × `frames` ≤ 76 800 000, for a PNG "
    "(`width` × `scale`) × (`height` × `scale`) ≤ 4 096 000 pixels.",
    r"width × height × frames must be at most|\(width × scale\) × \(height × scale\) must be at most",
)
EXPORT_STEP = Rule(
    "`step` is -1 (the last) or at most the scene's `steps` (a PNG or SVG at that step).",
    r"^step must be -1 \(the last\) or in \[0, \d+\]",
    ("query", "step"),
)
INTERNALS_SIZE = Rule(
    "With internals, (number of racers) × `steps` ≤ 20 000 (core.race.MAX_INTERNALS), and that times the deepest "
    "racer's state rows ≤ 320 000 (core.race.MAX_INTERNAL_ROWS; an lbfgs racer has 8 + 3·`history_size` rows).",
    r"internals are limited to racers × steps",
)
LINK_SIZE = Rule(
    "The scene's query string, every value written out, fits a link (the server's `links_max_scene_bytes`).",
    r"a link holds at most",
)
LINK_TEXT = Rule(
    "A text/plain body is the page's query string or a page URL, read as GET /api/race reads its query: its keys "
    "and values follow that operation's rules.",
    r".",
    ("body",),
    "text/plain",
)
WINDOW_IN_DOMAIN = Rule(
    "`window` lies in the landscape's domain, with xmin < xmax and ymin < ymax.",
    r"window must lie in the domain|is not finite on window",
)
QR_OWN_PAGE = Rule(
    "An absolute `url` is on this server's own origin (and under its path); a short link exists (else 404).",
    r"url must be a page of this server|url must lie under",
)
QR_FITS = Rule("The URL fits in a QR code (at most 2331 bytes).", r"more than a QR code holds")
MAP_RACER = Rule(
    "`racer` is the index of one of the scene's racers (0 … number of racers − 1).", r"\bmap\.racer must be"
)
MAP_AXES = Rule(
    "`x.name` and `y.name` are two different numeric hyperparameters of that racer: its optimizer's "
    "(GET /api/optimizers) or `schedule.<param>` of its schedule (GET /api/schedules); each axis' `min` and `max` "
    "lie in that hyperparameter's range with `min` < `max` (omitted: its slider's range, which a parameter without "
    "one must be given), `min` > 0 on a log scale, `max` < 1 on a one_minus_log scale, and an integer "
    "hyperparameter's axis has at most as many cells as there are integers from `min` to `max`.",
    r"\bmap\.[xy][.: ]",
)
MAP_SIZE = Rule(
    f"At most {hypermap.MAX_RACER_STEPS:,} racer-steps: `x.count` × `y.count` × `steps` ≤ "
    f"{hypermap.MAX_RACER_STEPS:,}.",
    r"^a map runs map\.x\.count × map\.y\.count × steps",
)
MAP_QUERY_AXIS = Rule(
    "`map.x.min`, `map.x.max`, `map.x.count` and `map.x.scale` come with `map.x` (the same for `map.y`).",
    r"needs map\.[xy]=",
)
TUNE_SIZE = Rule(
    f"At most {tuning.MAX_CANDIDATES} candidate races and {tuning.MAX_RACER_STEPS:,} racer-steps: (racers, each "
    f"× {len(tuning.BETA1_VALUES)} beta1 values with `beta1` where it has one) × (`count` + `refine`) ≤ "
    f"{tuning.MAX_CANDIDATES}, and that × `steps` ≤ {tuning.MAX_RACER_STEPS:,}.",
    r"^a tune runs",
)
RULES_HEADING = "Rules the schema cannot state (a request that breaks one gets a 422 naming the field):"


def rules_text(rules: tuple[Rule, ...]) -> str:
    return "\n\n".join([RULES_HEADING, "\n".join(f"- {rule.text}" for rule in rules)])


def states(*rules: Rule) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator under ``@router.post(...)``: the operation's description (its docstring) lists ``rules``."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        doc = typing.cast(str, __import__("inspect").cleandoc(function.__doc__ or ""))
        function.__doc__ = f"{doc}\n\n{rules_text(rules)}" if doc else rules_text(rules)
        function.__cross_field_rules__ = rules  # type: ignore[attr-defined]
        return function

    return decorate


def rules_of(description: str) -> list[Rule]:
    """The rules an operation's description lists (for the tests: what a valid request may still be refused for)."""
    listed = description.partition(RULES_HEADING)[2]
    texts = {line.removeprefix("- ").strip() for line in listed.splitlines() if line.startswith("- ")}
    return [rule for rule in ALL_RULES if rule.text in texts]


ALL_RULES = tuple(value for value in list(globals().values()) if isinstance(value, Rule))
SCENE_RULES = (START_IN_DOMAIN, SCHEDULE_FITS_RUN, SCHEDULE_FINITE, CUSTOM_LANDSCAPE)
SCENE_QUERY_RULES = (
    START_IN_DOMAIN,
    SCHEDULE_FITS_RUN,
    SCHEDULE_FINITE,
    CUSTOM_LANDSCAPE,
    QUERY_LANDSCAPE_PARAMS,
    QUERY_RACERS,
    QUERY_SCHEDULES,
    QUERY_LENGTH,
)


# --- the scene in a query string ---------------------------------------------------------------------------------

# A page, embed or short link of this server: absolute or a path (the origin is a rule: QR_OWN_PAGE). The host is
# printable ASCII but for '"', '#', '/' and '?' (a browser writes an international name in punycode).
PAGE_URL_PATTERN = r"^(?:https?://[!$-.0->@-~]+)?(?:/|/embed|/s/[A-Za-z0-9_-]{8,10})(?:\?[^#]*)?$"
# What the server reads with float() and int(): finite decimals (an exponent of at most two digits, so never inf).
NUMBER_PATTERN = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})?"


def _query_schema(spec: ParamSpec) -> dict[str, Any]:
    """A parameter as a query value: its JSON type and bounds (a list is comma-separated text)."""
    if spec.kind == "int_list":
        return {"type": "string", "pattern": r"^[0-9]+(,[0-9]+)*$"}
    if spec.kind == "range":
        return {"type": "string", "pattern": RANGE_PATTERN, "examples": ["-3,3"]}
    schema = TypeAdapter(_param_annotation(spec, None)).json_schema()
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def landscape_query_parameters(prefix: str) -> list[dict[str, Any]]:
    """Every landscape parameter as an optional query parameter ``<prefix><name>``, with its range.

    A name that two landscapes share with different ranges is documented with the widest (the chosen
    landscape's own range is checked: the description says whose it is)."""
    owners: dict[str, list[tuple[str, ParamSpec]]] = {}
    for name, landscape in LANDSCAPES.items():
        for spec in landscape.params:
            owners.setdefault(spec.name, []).append((name, spec))
    parameters = []
    for param, specs in owners.items():
        schemas = [_query_schema(spec) for _, spec in specs]
        schema = schemas[0] if all(s == schemas[0] for s in schemas) else {"type": "number"}
        parameters.append(
            {
                "name": f"{prefix}{param}",
                "in": "query",
                "required": False,
                "description": "; ".join(
                    f"{owner}: {spec.help}, {spec.allowed()}, default {spec.default}" for owner, spec in specs
                ),
                "schema": schema,
            }
        )
    return parameters


def racer_query_pattern() -> str:
    """A ``racer=`` value: a known optimizer's name, then ``;key=value`` pairs (checked as a racer's JSON)."""
    names = "|".join(re.escape(name) for name in OPTIMIZERS)
    return rf"^(?:{names})(?:;[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?=[^;]*)*$"


def scene_query_parameters() -> list[dict[str, Any]]:
    """The page's scene query (``core.scene_url``) as OpenAPI parameters, from the Scene and the registries."""
    scene = Scene()
    fields = TypeAdapter(exact_type(Scene)).json_schema()["properties"]
    scalars = []
    for key in ("steps", "noise", "seed", "l1", "l2"):
        schema = {k: v for k, v in fields[key].items() if k in ("type", "minimum", "maximum", "default")}
        scalars.append(
            {"name": key, "in": "query", "required": False, "description": fields[key]["description"], "schema": schema}
        )
    number = NUMBER_PATTERN
    return [
        {
            "name": "landscape",
            "in": "query",
            "required": False,
            "description": "the landscape's name",
            "schema": {"type": "string", "enum": list(LANDSCAPES), "default": scene.landscape.name},
        },
        *landscape_query_parameters("landscape."),
        {
            "name": "start",
            "in": "query",
            "required": False,
            "description": "x,y inside the landscape's domain; default: the landscape's start",
            "schema": {"type": "string", "pattern": f"^{number},{number}$"},
            "example": "-1.5,2",
        },
        *scalars,
        {
            "name": "racer",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "description": "one racer per racer=, in order: the optimizer, then ;key=value pairs: hyperparameters, "
            "schedule, schedule.<param>, label, color (hex, # optional); lists comma-separated. "
            "Default: the lecture's four (SGD, Momentum, RMSProp, Adam)",
            "schema": {
                "type": "array",
                "items": {"type": "string", "pattern": racer_query_pattern()},
                "maxItems": fields["racers"]["maxItems"],
            },
            "example": ["sgd;lr=0.001", "adam;lr=0.05;beta1=0.9;schedule=cosine;schedule.T_max=500"],
        },
    ]


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
    kind: Literal["float", "int", "bool", "int_list", "text", "range", "choice"]
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
    choices: list[str] | None = Field(None, description="only for a choice: the values it may take (torch's names)")


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


SceneSchema = exact_type(Scene)
SceneInput = documented_as(Scene, SceneSchema)  # a body or field: validated by core, documented exactly
ScheduleInput = documented_as(ScheduleChoice, schedule_union())  # a schedule field of a request model

# --- races -----------------------------------------------------------------------------------------------

Status = Literal["arrived", "diverged", "running"]


class RaceRequest(Scene):
    """A scene, and whether to record each update's internals."""

    internals: bool = Field(
        False,
        description="per update, the gradient the optimizer saw, the step it took and its state under torch's "
        "names (racers × steps at most core.race.MAX_INTERNALS)",
    )


RaceInput = documented_as(RaceRequest, exact_type(RaceRequest))  # POST /api/race's body: a scene, and internals


# An internal value may overflow while the point stays finite (AdaGrad's sum of g² once |g| > 1e154, on a steep
# typed formula): JSON has no inf, so it is null there.
InternalPoint = tuple[float | None, float | None]


class StepInternals(_Reply):
    """One entry per update the racer took: update t leaves path[t]. A value that is not finite (an overflowed
    sum of squares) is null."""

    grad: list[InternalPoint] = Field(description="the gradient the optimizer saw (noise and L1/L2 included)")
    update: list[InternalPoint] = Field(
        description="the step applied: the point after the update minus the point before"
    )
    state: dict[str, list[InternalPoint] | list[float | None] | list[Any]] = Field(
        description="the optimizer's state after the update under torch's names, each equal to "
        "optimizer.state[p][name] (a scalar state, e.g. NAdam's mu_product, as one number per update; "
        "lbfgs's old_dirs/old_stps as lists of points, ro/al as lists of numbers, null before torch has them); "
        "null where a value is not finite"
    )


class RacerSummary(_Reply):
    status: Status
    arrived_at: int | None = Field(description="the first step at a minimum, if any")
    diverged_at: int | None = Field(description="the first non-finite or out-of-bounds step, if any")
    final_loss: float | None = Field(description="the loss at the last finite step")
    steps_run: int = Field(description="the last step in the path (its length minus one)")
    evaluations: int | None = Field(
        None,
        description="lbfgs only: its landscape evaluations over all its updates, line-search trials included "
        "(torch's func_evals); the other optimizers evaluate once per update",
    )


class RacerResult(RacerSummary):
    label: str
    optimizer: str
    color: str
    path: list[Point] = Field(description="the start, then the point after each update, up to a divergence")
    loss: list[float] = Field(description="the loss at each point of the path")
    lr: list[float] = Field(description="lr[t]: the learning rate of update t, for every step of the scene")
    internals: StepInternals | None = Field(None, description="with internals=true: each update's internals")


class RaceReply(_Reply):
    scene: SceneSchema = Field(description="the scene with every default written out")
    minima: list[MinimumReply]
    racers: list[RacerResult]


class RacerMeta(_Reply):
    label: str
    optimizer: str
    color: str


class HeaderFrame(_Reply):
    """The first line: the filled scene, who races, where the minima are."""

    type: Literal["header"]
    scene: SceneSchema
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
    scene: SceneSchema


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
