"""JSON bodies held to their documented schema: ``"steps": "500"``, ``"l2": false`` or ``"lr": "0.1"`` is a 422, not
a silent conversion.

FastAPI validates a body in Pydantic's lax Python mode, which turns ``false`` into 0.0 and ``"500"`` into
500, so the server would accept what its own OpenAPI schema rejects. ``strict_json(Model)`` is a route
dependency that validates the raw body first, in strict JSON mode (arrays still become tuples, integers
still become floats: exactly JSON Schema's types), twice:

1. against ``Model`` itself, whose validators (core's) say what is wrong in words: an unknown name with the
   known ones, a parameter out of its range with the range;
2. against its exact twin (``server.schemas.exact_type``), the schema /openapi.json documents: what core
   would still convert (a number sent as a string, a list as comma-separated text, a schedule without its
   name) is refused there, the message naming the field and what it allows.

Both run before FastAPI's own validation, which then cannot fail; together they take tens of microseconds
for a scene. ``check_json`` is the same check outside a request (``optirace`` validates its scenes with it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import orjson
from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

from core.landscapes import LANDSCAPES
from core.optimizers import OPTIMIZERS
from core.schedules import SCHEDULES
from server.schemas import exact_type

# Registries by the key that names an entry in its JSON object, and the key of the object in its parent.
_OWNERS = {"optimizer": OPTIMIZERS}
_OWNERS_BY_PARENT = {"landscape": LANDSCAPES, "schedule": SCHEDULES}
# Pydantic's errors for a value of the wrong JSON type (core would have converted it).
_TYPE_ERRORS = {"float_type", "int_type", "int_from_float", "bool_type", "list_type", "string_type", "dict_type"}


@cache
def _adapters(model: type[Any]) -> tuple[TypeAdapter[Any], TypeAdapter[Any] | None]:
    exact = exact_type(model) if isinstance(model, type) and issubclass(model, BaseModel) else None
    return TypeAdapter(model), (TypeAdapter(exact) if exact is not None else None)


def check_json(model: type[Any], body: bytes | str, then: Callable[[Any], None] | None = None) -> Any:
    """``body`` validated as ``model`` and as its exact schema, in strict JSON mode; the model's instance.

    ``then(instance)`` runs between the two: checks that need more than the body (the landscape named in the
    path), so that their words come before the exact schema's. Raises ``pydantic.ValidationError`` whose errors
    carry ``loc`` (without the union tags pydantic adds), ``msg`` and ``input``, as the API's 422 shows them.
    """
    loose, exact = _adapters(model)
    value = _validate(loose, body)
    if then is not None:
        then(value)
    if exact is not None:
        try:
            _validate(exact, body)
        except ValidationError as error:
            raise ValidationError.from_exception_data(
                error.title,
                [_readable(problem, loose.dump_python(value, mode="json")) for problem in error.errors()],
            ) from None
    return value


def _validate(adapter: TypeAdapter[Any], body: bytes | str) -> Any:
    """Strict JSON validation, where an integer may be written ``500.0`` (JSON Schema's integers include it,
    Pydantic's strict ints do not): only then is the body read again with such numbers as integers, so that
    every other message quotes the value as it was sent."""
    try:
        return adapter.validate_json(body, strict=True)
    except ValidationError as error:
        if not any(_whole_float(problem) for problem in error.errors()):
            raise
    return adapter.validate_json(_whole_numbers_as_integers(body), strict=True)


def _whole_float(problem: Mapping[str, Any]) -> bool:
    value = problem.get("input")
    return problem["type"] == "int_type" and isinstance(value, float) and value.is_integer()


def _whole_numbers_as_integers(body: bytes | str) -> bytes | str:
    """The body with ``500.0`` written ``500``: JSON Schema's integers include it, Pydantic's strict ints do not.

    Harmless elsewhere (a number field takes an integer as the same float). A body that is not JSON is left as it
    is, for the validator to say so."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    return orjson.dumps(_integral(document))


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


def _readable(problem: Mapping[str, Any], document: Any) -> Any:
    """One error of the exact schema, as ``ValidationError.from_exception_data`` takes it, said as core says it."""
    loc, spec_owner = _plain_loc(problem["loc"], document)
    kind = problem["type"]
    if kind == "union_tag_not_found":
        key = problem.get("ctx", {}).get("discriminator", "'name'").strip("'")
        registry = _OWNERS.get(key) or _OWNERS_BY_PARENT.get(str(loc[-1]) if loc else "", {})
        message = f"{'.'.join(map(str, loc))} needs its {key!r}"
        if registry:
            message += f": one of {', '.join(registry)}"
        return {"type": "value_error", "loc": loc, "input": problem.get("input"), "ctx": {"error": message}}
    if spec_owner is not None and len(loc) >= 2 and loc[-2] == "params":
        owner, entry = spec_owner
        spec = next((p for p in entry.params if p.name == loc[-1]), None)
        if spec is not None:
            as_json = ", as a JSON value" if kind in _TYPE_ERRORS else ""
            message = f"{owner}.{spec.name} must be {spec.allowed()}{as_json}, got {problem.get('input')!r}"
            return {"type": "value_error", "loc": loc, "input": problem.get("input"), "ctx": {"error": message}}
    return {
        "type": kind,
        "loc": loc,
        "input": problem.get("input"),
        **({"ctx": problem["ctx"]} if "ctx" in problem else {}),
    }


def _plain_loc(loc: tuple[Any, ...], document: Any) -> tuple[tuple[Any, ...], tuple[str, Any] | None]:
    """``loc`` without the union tags pydantic inserts (``racers.0.adam.params.lr`` → ``racers.0.params.lr``), and
    the registry entry whose parameters the location is in, if any (from the validated ``document``)."""
    plain: list[Any] = []
    node = document
    parent_key: Any = None
    owner: tuple[str, Any] | None = None
    for part in loc:
        if isinstance(node, dict) and part not in node and isinstance(part, str):
            tag = next((node[k] for k in ("name", "optimizer") if node.get(k) == part), None)
            if tag is not None:
                continue
        if isinstance(node, dict):
            registry = _OWNERS.get("optimizer") if "optimizer" in node else _OWNERS_BY_PARENT.get(str(parent_key))
            name = node.get("optimizer", node.get("name"))
            if registry is not None and part == "params" and name in registry:
                owner = (name, registry[name])
        plain.append(part)
        parent_key = part
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(plain), owner


def strict_json(model: type[Any], then: Callable[[Any, Request], None] | None = None) -> Any:
    """``dependencies=[strict_json(Model)]``: a 422 for any body that ``Model``'s documented schema rejects, a 415 for
    a body not sent as JSON (FastAPI would answer "Field required", which puzzles a fetch() without the header).

    ``then(instance, request)``: a check that needs the request too, run before the exact schema's (see check_json).
    """
    _adapters(model)  # built once, at import

    async def check(request: Request) -> None:
        media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise HTTPException(415, f"the body must be sent as Content-Type: application/json, got {media_type!r}")
        try:
            check_json(model, await request.body(), None if then is None else lambda value: then(value, request))
        except ValidationError as error:
            problems = error.errors(include_url=False)
            raise RequestValidationError([{**p, "loc": ("body", *p["loc"])} for p in problems]) from None

    return Depends(check)
