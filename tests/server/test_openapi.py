"""/openapi.json documents every operation with examples that are true: each example request is accepted, each
example reply matches its schema, and every error status has the one error shape."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

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
