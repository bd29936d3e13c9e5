"""/openapi.json documents every operation with examples that are true: each example request is accepted, each
example reply matches its schema, and every error status has the one error shape."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from core.scene import Scene
from server.app import app

OPENAPI = app.openapi()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in OPENAPI["paths"].items()
    for method, operation in item.items()
    if path.startswith(("/api/", "/healthz"))
]
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def validator(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator({**schema, "components": OPENAPI["components"]})


def request_examples(operation: dict[str, Any]) -> list[Any]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return [*content.get("schema", {}).get("examples", []), *[e["value"] for e in content.get("examples", {}).values()]]


def reply_example(operation: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
    ((media_type, content),) = operation["responses"]["200"]["content"].items()
    return media_type, content.get("example"), content.get("schema", {})


def test_every_api_operation_is_documented() -> None:
    documented = {(method, path) for method, path, _ in OPERATIONS}
    assert {
        ("GET", "/api/race"),
        ("POST", "/api/race"),
        ("POST", "/api/race/stream"),
        ("GET", "/healthz"),
    } <= documented
    assert len(documented) >= 13


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_has_a_reply_example(method: str, path: str, operation: dict[str, Any]) -> None:
    assert operation.get("summary")
    assert reply_example(operation)[1] is not None


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_reply_example_matches_its_schema(method: str, path: str, operation: dict[str, Any]) -> None:
    media_type, example, schema = reply_example(operation)
    if media_type == "application/x-ndjson":  # the example is the text; the schema, its lines as an array
        example = [json.loads(line) for line in example.splitlines()]
    validator(schema).validate(example)


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_error_status_has_the_error_shape_and_an_example(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    for status, response in operation["responses"].items():
        if status.startswith("4"):
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorReply"}
            validator(content["schema"]).validate(content["example"])


@pytest.mark.parametrize(
    ("method", "path", "operation"), [op for op in OPERATIONS if op[0] == "POST"], ids=[i for i in IDS if "POST" in i]
)
def test_every_request_example_is_accepted_and_answered_as_documented(
    client: TestClient, method: str, path: str, operation: dict[str, Any]
) -> None:
    examples = request_examples(operation)
    assert examples, f"{method} {path} has no request example"
    media_type, _, schema = reply_example(operation)
    for example in examples:
        concrete = path.replace("{name}", "beale")
        response = client.post(concrete, json=example)
        assert response.status_code == 200, response.text
        body = [json.loads(line) for line in response.text.splitlines()] if "ndjson" in media_type else response.json()
        validator(schema).validate(body)


def test_the_query_race_documents_its_query_keys() -> None:
    parameters = {p["name"] for p in OPENAPI["paths"]["/api/race"]["get"]["parameters"]}
    assert {"landscape", "start", "steps", "noise", "seed", "l1", "l2", "racer", "landscape.condition"} <= parameters


def test_the_evaluate_example_is_the_reply_to_its_request(client: TestClient) -> None:
    operation = OPENAPI["paths"]["/api/landscapes/{name}/evaluate"]["post"]
    (example,) = request_examples(operation)
    reply = client.post("/api/landscapes/beale/evaluate", json=example).json()
    documented = reply_example(operation)[1]
    assert reply["loss"] == pytest.approx(documented["loss"])
    assert reply["grad"] == [pytest.approx(g) for g in documented["grad"]]


# --- the exact contract: generated from the registries ----------------------------------------------------------


def _scene_schema() -> dict[str, Any]:
    return OPENAPI["components"]["schemas"]["Scene"]


def _variants(union: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A discriminated union's variants by name, each resolved from the components."""
    schemas = OPENAPI["components"]["schemas"]
    return {name: schemas[ref.rsplit("/", 1)[1]] for name, ref in union["discriminator"]["mapping"].items()}


def _params(variant: dict[str, Any]) -> dict[str, Any]:
    return OPENAPI["components"]["schemas"][variant["properties"]["params"]["$ref"].rsplit("/", 1)[1]]


def test_every_landscape_optimizer_and_schedule_is_a_variant_with_its_own_parameters() -> None:
    from core.landscapes import LANDSCAPES
    from core.optimizers import OPTIMIZERS
    from core.schedules import SCHEDULES

    scene = _scene_schema()
    landscapes = _variants(scene["properties"]["landscape"])
    racers = _variants(scene["properties"]["racers"]["items"])
    schedules = _variants(next(iter(racers.values()))["properties"]["schedule"])
    for variants, registry in ((landscapes, LANDSCAPES), (racers, OPTIMIZERS), (schedules, SCHEDULES)):
        assert sorted(variants) == sorted(registry)
        for name, entry in registry.items():
            params = _params(variants[name])
            assert params["additionalProperties"] is False
            assert list(params["properties"]) == [spec.name for spec in entry.params]
            for spec in entry.params:
                documented = params["properties"][spec.name]
                if spec.default is not None:
                    assert documented["default"] == (
                        list(spec.default) if isinstance(spec.default, tuple) else spec.default
                    )
                if spec.kind in ("float", "int") and spec.minimum is not None:
                    assert spec.minimum in (documented.get("minimum"), documented.get("exclusiveMinimum"))
                if spec.kind in ("float", "int") and spec.maximum is not None:
                    assert spec.maximum in (documented.get("maximum"), documented.get("exclusiveMaximum"))
                if spec.kind == "choice":  # e.g. lbfgs's line_search_fn: exactly its names
                    assert (documented["type"], documented["enum"]) == ("string", list(spec.choices))


def test_a_bound_core_refuses_is_documented_as_exclusive() -> None:
    """nesterov's momentum must be > 0 (its spec says ≥ 0, its resolve() refuses 0): the schema says > 0."""
    racers = _variants(_scene_schema()["properties"]["racers"]["items"])
    assert _params(racers["nesterov"])["properties"]["momentum"]["exclusiveMinimum"] == 0
    assert _params(racers["momentum"])["properties"]["momentum"]["minimum"] == 0


@pytest.mark.parametrize(
    "scene",
    [
        {"landscape": {"name": "bowl", "params": {"angle": 0, "condition": 5}}},
        {"racers": [{"optimizer": "adam", "params": {"lr": 0.1, "amsgrad": True}}]},
        {"racers": [{"optimizer": "sgd", "schedule": {"name": "multistep", "params": {"milestones": [10, 20]}}}]},
        {"racers": [{"optimizer": "lbfgs", "params": {"line_search_fn": "strong_wolfe", "max_eval": 5}}]},
    ],
)
def test_a_scene_the_schema_allows_is_raced(client: TestClient, scene: dict[str, Any]) -> None:
    validator(_scene_schema()).validate(scene)
    assert client.post("/api/race", json={**scene, "steps": 30}).status_code == 200


@pytest.mark.parametrize(
    ("scene", "words"),
    [
        ({"racers": [{"optimizer": "adan"}]}, ["unknown optimizer 'adan'", "adam"]),
        ({"landscape": {"name": "beale", "params": {"angle": 0}}}, ["'angle'"]),
        ({"racers": [{"optimizer": "adam", "params": {"lr": "0.1"}}]}, ["racers.0.params.lr", "adam.lr", "'0.1'"]),
        ({"racers": [{"optimizer": "sgd", "schedule": {"name": "cosine", "params": {"gamma": 0.5}}}]}, ["'gamma'"]),
        ({"landscape": {}}, ["landscape needs its 'name'", "beale"]),
        ({"racers": [{"optimizer": "sgd", "schedule": {"params": {}}}]}, ["schedule needs its 'name'", "cosine"]),
        ({"steps": "500"}, ["steps", "valid integer"]),
        (
            {"racers": [{"optimizer": "lbfgs", "params": {"line_search_fn": "armijo"}}]},
            ["racers.0", "lbfgs.line_search_fn", "one of: none, strong_wolfe", "'armijo'"],
        ),
        (
            {"racers": [{"optimizer": "lbfgs", "params": {"line_search_fn": None}}]},
            ["racers.0.params.line_search_fn"],
        ),
    ],
)
def test_a_scene_the_schema_refuses_is_a_422_naming_the_field(
    client: TestClient, scene: dict[str, Any], words: list[str]
) -> None:
    assert not validator(_scene_schema()).is_valid(scene)
    reply = client.post("/api/race", json=scene)
    assert reply.status_code == 422, reply.text
    for word in words:
        assert word in reply.json()["error"]


def test_a_new_registry_entry_is_in_the_schema_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from core import optimizers, schedules
    from server import schemas

    def rebuild() -> None:
        for cached in (schemas.landscape_union, schemas.racer_union, schemas.schedule_union, schemas.exact_type):
            cached.cache_clear()

    registry = {**optimizers.OPTIMIZERS, "adam2": replace(optimizers.OPTIMIZERS["adam"], name="adam2")}
    monkeypatch.setattr(optimizers, "OPTIMIZERS", registry)
    monkeypatch.setattr(schemas, "OPTIMIZERS", registry)
    monkeypatch.setattr(schemas, "SCHEDULES", {**schedules.SCHEDULES})
    rebuild()
    try:
        document = schemas.TypeAdapter(schemas.exact_type(Scene)).json_schema()
        mapping = document["properties"]["racers"]["items"]["discriminator"]["mapping"]
        assert "adam2" in mapping and "Adam2Hyperparameters" in document["$defs"]
        assert "adam2" in schemas.racer_query_pattern()
    finally:
        monkeypatch.undo()
        rebuild()
    assert "adam2" not in schemas.racer_query_pattern()


def test_every_scene_operation_lists_the_rules_the_schema_cannot_state() -> None:
    from server.schemas import SCENE_RULES, START_IN_DOMAIN, rules_of

    for method, path, operation in OPERATIONS:
        body = json.dumps(operation.get("requestBody", {}))
        takes_scene = "BealeLandscape" in body or any(p["name"] == "racer" for p in operation.get("parameters", []))
        if takes_scene:
            listed = rules_of(operation.get("description", ""))
            assert START_IN_DOMAIN in listed, f"{method} {path}"
            assert set(SCENE_RULES) <= set(listed), f"{method} {path}"


def test_the_query_forms_are_generated_from_the_registries() -> None:
    from core.landscapes import LANDSCAPES
    from core.optimizers import OPTIMIZERS
    from server.schemas import _query_schema

    parameters = {p["name"]: p for p in OPENAPI["paths"]["/api/race"]["get"]["parameters"]}
    assert parameters["landscape"]["schema"]["enum"] == list(LANDSCAPES)
    pattern = parameters["racer"]["schema"]["items"]["pattern"]
    for name in OPTIMIZERS:
        assert re.match(pattern, f"{name};lr=0.1;schedule=cosine;schedule.T_max=100")
    assert not re.match(pattern, "adan;lr=0.1")
    assert parameters["landscape.condition"]["schema"] == {
        "type": "number",
        "minimum": 1.0,
        "maximum": 10000.0,
        "default": 20.0,
    }
    choice = next(spec for spec in OPTIMIZERS["lbfgs"].params if spec.kind == "choice")
    assert _query_schema(choice) == {"type": "string", "enum": ["none", "strong_wolfe"], "default": "none"}
    start = parameters["start"]["schema"]["pattern"]
    assert re.match(start, "-1.5,2e3") and not re.match(start, "1e999,0") and not re.match(start, "..,1")


def test_a_reply_with_an_overflowed_internal_value_matches_its_schema(client: TestClient) -> None:
    """On a steep typed formula, AdaGrad's sum of g² overflows while its point stays finite: the value is null
    in JSON, and the documented reply says it may be."""
    scene = {
        "landscape": {"name": "custom", "params": {"f": "exp(100*x*x) + y^2"}},
        "racers": [{"optimizer": "adagrad"}],
        "steps": 3,
        "start": [2.63, 0.5],
        "internals": True,
    }
    reply = client.post("/api/race", json=scene)
    assert reply.status_code == 200
    racer = reply.json()["racers"][0]
    assert racer["status"] == "running" and racer["internals"]["state"]["sum"][0][0] is None
    operation = OPENAPI["paths"]["/api/race"]["post"]
    validator(reply_example(operation)[2]).validate(reply.json())
