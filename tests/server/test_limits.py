"""Bounded requests: body size, JSON nesting, query length; errors in one shape for paths and methods too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from server.app import app
from server.middleware import json_too_deep
from server.routes import race
from server.settings import get_settings
from tests.server.conftest import assert_error

JSON = {"content-type": "application/json"}


def nested(depth: int) -> bytes:
    return b'{"racers": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_a_body_declared_too_large_is_refused_before_it_is_read(client: TestClient) -> None:
    limit = get_settings().max_body_bytes
    response = client.post("/api/race", content=b" " * (limit + 1), headers=JSON)
    assert_error(response, 413, str(limit), loc=["body"])


def test_a_chunked_body_is_cut_off_at_the_limit(client: TestClient, settings_override) -> None:
    settings_override(max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 100

    response = client.post("/api/race", content=chunks(), headers=JSON)  # no content-length
    assert_error(response, 413, "1000")


def test_a_body_at_the_limit_is_read(client: TestClient, settings_override) -> None:
    settings_override(max_body_bytes=1000)
    body = b"{}" + b" " * 998
    assert client.post("/api/race", content=body, headers=JSON).status_code == 200


def test_json_nested_past_the_limit_is_a_400(client: TestClient) -> None:
    limit = get_settings().max_json_depth
    response = client.post("/api/race", content=nested(limit + 1), headers=JSON)
    reply = assert_error(response, 400, f"at most {limit} levels")
    assert reply["detail"][0]["type"] == "json_too_deep"


def test_json_nested_to_the_limit_reaches_validation(client: TestClient) -> None:
    response = client.post("/api/race", content=nested(get_settings().max_json_depth), headers=JSON)
    assert_error(response, 422, loc=["body", "racers", 0])


def test_unclosed_brackets_cannot_reach_the_recursive_parser(client: TestClient) -> None:
    response = client.post("/api/race", content=b"[" * 200_000, headers=JSON)
    assert_error(response, 400, "levels")


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": [2]}]}', 4),
        (b'{"a": "[[[[[[", "b": []}', 2),  # brackets inside strings do not count
        (b'{"a": "\\"[[[[[[\\"", "b": []}', 2),  # nor after an escaped quote
        (b'{"a": "\\\\", "b": [[[]]]}', 4),  # an escaped backslash ends before the closing quote
        (b"[[[", 3),  # unclosed brackets count
        (b"[][][][]" * 1000, 1),
        (b"[" * 50 + b"]" * 50, 50),
    ],
)
def test_json_depth_is_counted_without_parsing(body: bytes, depth: int) -> None:
    assert json_too_deep(body, depth - 1)
    assert not json_too_deep(body, depth)


def test_a_query_past_the_limit_is_a_414(client: TestClient) -> None:
    limit = get_settings().max_query_bytes
    response = client.get("/api/race?racer=" + "a" * limit)
    assert_error(response, 414, str(limit), loc=["query"])


def test_an_unknown_path_is_a_404_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/api/racing"), 404, "/api/racing", "/docs", loc=["path"])


def test_a_wrong_method_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/api/race")
    assert_error(response, 405, "DELETE", "GET, POST")
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("path", "scene"),
    [
        ("/api/race", {"steps": 20_001}),
        ("/api/race", {"racers": [{"optimizer": "sgd"}] * 17}),
        ("/api/race", {"racers": [{"optimizer": "sgd", "params": {f"p{i}": 0 for i in range(33)}}]}),
        ("/api/race", {"racers": [{"optimizer": "sgd", "label": "x" * 41}]}),
        ("/api/sweep", {"steps": 2001}),
        ("/api/sweep", {"count": 257}),
    ],
)
def test_work_per_request_is_bounded(client: TestClient, path: str, scene: dict) -> None:
    assert_error(client.post(path, json=scene), 422)


def test_a_sweep_runs_at_most_2000_steps(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[int] = []
    real_sweep = race.sweep
    monkeypatch.setattr(race, "sweep", lambda scene, *args: steps.append(scene.steps) or real_sweep(scene, *args))
    body = {"scene": {"steps": 20_000, "racers": [{"optimizer": "adam"}]}, "count": 2}
    assert client.post("/api/sweep", json=body).status_code == 200
    assert steps == [2000]


def test_a_bug_is_a_500_in_the_error_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(scene: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(race, "run", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        reply = assert_error(client.post("/api/race", json={"steps": 5}), 500, "internal error")
    assert "a bug" not in reply["error"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("path", ["/api/race", "/api/race/stream", "/api/sweep", "/api/landscapes/bowl/evaluate"])
def test_a_body_not_sent_as_json_is_a_415_naming_the_header(
    client: TestClient, path: str, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(path, content=b'{"points": [[0, 0]]}', headers=headers)
    assert_error(response, 415, "application/json", loc=["header", "content-type"])


def test_json_with_a_charset_or_a_json_suffix_is_json(client: TestClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/scene+json"):
        assert client.post("/api/race", content=b'{"steps": 3}', headers={"content-type": content_type}).is_success
