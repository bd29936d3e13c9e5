"""POST /api/race, POST /api/race/stream, GET /api/race, POST /api/scene/query, POST /api/sweep."""

from __future__ import annotations

import asyncio
import json
import math
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from core.optimizers import OPTIMIZERS
from core.race import run
from core.scene import MAX_RACERS, MAX_STEPS, Scene
from core.scene_url import scene_from_query
from server.app import app
from server.routes import landscapes, optimizers, race
from server.settings import get_settings
from tests.server.conftest import assert_error, ndjson_lines, run_event_loop, strict_json

LECTURE = {"landscape": {"name": "beale"}, "start": [1.0, 1.5], "steps": 300}  # the lecture four, by default
DIVERGING = {
    "landscape": {"name": "rosenbrock"},
    "steps": 200,
    "racers": [{"optimizer": "sgd", "params": {"lr": 10.0}}, {"optimizer": "adam", "params": {"lr": 0.01}}],
}


def post_race(client: TestClient, scene: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/race", json=scene)
    assert response.status_code == 200, response.text
    return strict_json(response.content)


def stream(client: TestClient, scene: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/api/race/stream", json=scene)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return ndjson_lines(response)


# --- POST /api/race -------------------------------------------------------------------------------


def test_empty_body_races_the_lecture_four_with_every_default_filled(client: TestClient) -> None:
    reply = post_race(client, {})
    assert reply["scene"] == Scene().filled().model_dump(mode="json")
    assert [r["optimizer"] for r in reply["racers"]] == ["sgd", "momentum", "rmsprop", "adam"]


def test_race_gives_one_point_and_loss_per_step_and_one_lr_per_update(client: TestClient) -> None:
    reply = post_race(client, LECTURE)
    for racer in reply["racers"]:
        assert racer["path"][0] == LECTURE["start"]
        assert len(racer["path"]) == len(racer["loss"]) == LECTURE["steps"] + 1
        assert len(racer["lr"]) == LECTURE["steps"]
        assert racer["status"] in ("arrived", "running")


def test_race_is_what_core_computes(client: TestClient) -> None:
    assert post_race(client, LECTURE) == json.loads(json.dumps(run(Scene.model_validate(LECTURE))))


def test_diverging_racer_reports_diverged_and_serializes_strictly(client: TestClient) -> None:
    response = client.post("/api/race", json=DIVERGING)
    assert response.status_code == 200
    sgd, adam = strict_json(response.content)["racers"]  # NaN or Infinity anywhere would raise here
    assert sgd["status"] == "diverged"
    assert isinstance(sgd["diverged_at"], int) and sgd["arrived_at"] is None
    assert len(sgd["path"]) == sgd["diverged_at"] and all(math.isfinite(v) for p in sgd["path"] for v in p)
    assert len(sgd["lr"]) == DIVERGING["steps"]
    assert adam["status"] != "diverged"


def test_unknown_optimizer_lists_the_known_ones(client: TestClient) -> None:
    response = client.post("/api/race", json={"racers": [{"optimizer": "adan"}]})
    assert_error(response, 422, "'adan'", *OPTIMIZERS, loc=["body", "racers", 0])


@pytest.mark.parametrize(
    ("racer", "words"),
    [
        ({"optimizer": "adam", "params": {"beta1": 1.0}}, ["adam.beta1", "[0, 1)", "1.0"]),
        ({"optimizer": "sgd", "params": {"lr": -0.1}}, ["sgd.lr", "[0, inf)", "-0.1"]),
        ({"optimizer": "sgd", "params": {"betas": [0.9, 0.99]}}, ["'betas'", "momentum", "weight_decay"]),
        ({"optimizer": "adam", "schedule": {"name": "step", "params": {"step_size": 0}}}, ["step_size"]),
        ({"optimizer": "adam", "color": "red"}, ["color", "'red'"]),
    ],
)
def test_bad_hyperparameter_is_named_with_its_value_and_range(
    client: TestClient, racer: dict[str, Any], words: list[str]
) -> None:
    assert_error(client.post("/api/race", json={"racers": [racer]}), 422, *words)


def test_start_outside_the_domain_is_named_with_the_domain(client: TestClient) -> None:
    response = client.post("/api/race", json={"landscape": {"name": "rosenbrock"}, "start": [5, 0]})
    assert_error(response, 422, "start", "x in [-2, 2]", "[5, 0]")


@pytest.mark.parametrize(
    ("scene", "loc"),
    [
        ({"steps": MAX_STEPS + 1}, ["body", "steps"]),
        ({"steps": 0}, ["body", "steps"]),
        ({"steps": 10.5}, ["body", "steps"]),
        ({"steps": "500"}, ["body", "steps"]),  # strict: the schema says integer
        ({"l2": False}, ["body", "l2"]),
        ({"noise": -1}, ["body", "noise"]),
        ({"seed": 2**32}, ["body", "seed"]),
        ({"start": [0, 0, 0]}, ["body", "start"]),
        ({"racers": []}, ["body", "racers"]),
        ({"racers": [{"optimizer": "sgd"}] * (MAX_RACERS + 1)}, ["body", "racers"]),
        ({"racers": [{"optimizer": "sgd", "lr": 0.1}]}, ["body", "racers", 0, "lr"]),
        ({"speed": 2}, ["body", "speed"]),
    ],
)
def test_bad_scene_field_gets_a_422_naming_it(client: TestClient, scene: dict[str, Any], loc: list[Any]) -> None:
    reply = assert_error(client.post("/api/race", json=scene), 422)
    assert loc in [d["loc"] for d in reply["detail"]], reply["detail"]


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_numbers_are_refused(client: TestClient, literal: bytes) -> None:
    body = b'{"noise": ' + literal + b"}"
    response = client.post("/api/race", content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, loc=["body", "noise"])


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b"null", b'"scene"', b"\xff\xfe"])
def test_a_body_that_is_no_scene_gets_a_422_in_the_error_shape(client: TestClient, body: bytes) -> None:
    response = client.post("/api/race", content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, loc=None)


# --- POST /api/race/stream ------------------------------------------------------------------------


def test_stream_is_a_header_then_chunks_then_a_summary(client: TestClient) -> None:
    lines = stream(client, LECTURE)
    chunk_steps = get_settings().stream_chunk_steps
    assert [line["type"] for line in lines] == ["header"] + ["chunk"] * math.ceil(301 / chunk_steps) + ["summary"]
    assert lines[0]["scene"] == Scene.model_validate(LECTURE).filled().model_dump(mode="json")
    assert [chunk["first"] for chunk in lines[1:-1]] == list(range(0, 301, chunk_steps))


@pytest.mark.parametrize("scene", [LECTURE, DIVERGING], ids=["lecture", "diverging"])
def test_stream_chunks_concatenate_to_the_whole_race(client: TestClient, scene: dict[str, Any]) -> None:
    whole = post_race(client, scene)
    lines = stream(client, scene)
    header, chunks, summary = lines[0], lines[1:-1], lines[-1]
    assert header["scene"] == whole["scene"] and header["minima"] == whole["minima"]
    for i, racer in enumerate(whole["racers"]):
        for key in ("path", "loss", "lr"):
            assert [v for chunk in chunks for v in chunk["racers"][i][key]] == racer[key]
        assert summary["racers"][i] == {k: racer[k] for k in summary["racers"][i]}
        assert header["racers"][i] == {k: racer[k] for k in ("label", "optimizer", "color")}


def test_stream_of_a_diverging_race_reports_it_in_the_summary(client: TestClient) -> None:
    summary = stream(client, DIVERGING)[-1]
    assert summary["type"] == "summary"
    assert summary["racers"][0]["status"] == "diverged"


def test_stream_is_gzipped_frame_by_frame_for_a_client_that_accepts_it(client: TestClient) -> None:
    plain = client.post("/api/race/stream", json=LECTURE, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"].startswith("Accept-Encoding")
    with client.stream("POST", "/api/race/stream", json=LECTURE, headers={"Accept-Encoding": "gzip"}) as zipped:
        assert zipped.headers["content-encoding"] == "gzip"
        raw = b"".join(zipped.iter_raw())
    assert zlib.decompress(raw, 16 + zlib.MAX_WBITS) == plain.content
    assert len(raw) < len(plain.content) / 2


def test_every_gzipped_frame_decodes_as_soon_as_it_arrives() -> None:
    lines = [b'{"type":"header"}\n', b'{"type":"chunk","first":0}\n', b'{"type":"summary"}\n']
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pieces = list(race.gzip_flushed(iter(lines)))
    assert [gunzip.decompress(piece) for piece in pieces] == [*lines, b""]
    assert gunzip.eof  # the last piece closes the gzip member


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip, deflate, br, zstd", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("*", True),
        ("", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("*;q=1, gzip;q=0", False),
        ("deflate, *;q=0", False),
        ("gzip;q=x", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, accepted: bool) -> None:
    assert race.accepts_gzip(header) is accepted


def test_stream_of_a_bad_scene_is_a_422_not_a_stream(client: TestClient) -> None:
    response = client.post("/api/race/stream", json={"racers": [{"optimizer": "adan"}]})
    assert_error(response, 422, "'adan'")


def test_stream_escapes_line_separators_inside_labels(client: TestClient) -> None:
    scene = {"steps": 3, "racers": [{"optimizer": "adam", "label": "a\u2028b\u0085c\u00e9"}]}
    response = client.post("/api/race/stream", json=scene)
    assert response.content.isascii()
    assert strict_json(response.content.split(b"\n")[0])["racers"][0]["label"] == "a\u2028b\u0085c\u00e9"


def test_stream_sends_its_first_chunk_before_the_race_is_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the ASGI level, through every middleware (gzip asked for): the first chunk line goes out while the
    engine has made one chunk of the 81 a 20 000-step race takes."""
    made: list[str] = []
    real_frames = race.race_frames

    def counting_frames(scene: Scene, chunk_steps: int, internals: bool = False) -> Iterator[dict[str, Any]]:
        for frame in real_frames(scene, chunk_steps=chunk_steps, internals=internals):
            made.append(frame["type"])
            yield frame

    monkeypatch.setattr(race, "race_frames", counting_frames)
    body = json.dumps({"steps": MAX_STEPS, "racers": [{"optimizer": "sgd"}, {"optimizer": "adam"}]}).encode()
    made_at_first_chunk: list[int] = []
    start: dict[str, Any] = {}
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)  # each message must decode on its own: flushed frames

    async def exchange() -> None:
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(status=message["status"], headers=dict(message["headers"]))
            elif b'"type":"chunk"' in gunzip.decompress(message.get("body", b"")) and not made_at_first_chunk:
                made_at_first_chunk.append(made.count("chunk"))

        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/api/race/stream", "raw_path": b"/api/race/stream",
            "root_path": "", "query_string": b"", "server": ("testserver", 80), "client": ("testclient", 5000),
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                        (b"accept-encoding", b"gzip")],
        }  # fmt: skip
        await app(scope, receive, send)

    run_event_loop(exchange())
    assert start["status"] == 200 and start["headers"][b"content-encoding"] == b"gzip"
    assert made_at_first_chunk == [1]
    assert made.count("chunk") == math.ceil((MAX_STEPS + 1) / get_settings().stream_chunk_steps)


# --- GET /api/race ----------------------------------------------------------------------------------

QUERY = (
    "landscape=bowl&landscape.condition=50&start=-4,1.5&steps=120&racer=sgd;lr=0.01&racer=adam;lr=0.1;schedule=cosine"
)


def test_query_race_is_the_race_of_the_parsed_scene(client: TestClient) -> None:
    response = client.get(f"/api/race?{QUERY}")
    assert response.status_code == 200
    assert strict_json(response.content) == json.loads(json.dumps(run(scene_from_query(QUERY))))


def test_scene_query_round_trips_through_get_race(client: TestClient) -> None:
    written = strict_json(client.post("/api/scene/query", json=LECTURE).content)
    assert written["scene"] == Scene.model_validate(LECTURE).filled().model_dump(mode="json")
    assert strict_json(client.get(f"/api/race?{written['query']}").content) == post_race(client, LECTURE)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("speed=2", ["'speed'", "landscape", "racer"]),
        ("steps=many", ["steps", "'many'"]),
        ("start=1,x", ["start", "'x'"]),
        ("racer=adan", ["'adan'", "sgd", "adam"]),
        ("racer=adam;lr", ["key=value", "'lr'"]),
        ("racer=adam;beta1=1.5", ["adam.beta1", "[0, 1)"]),
        ("landscape=bowl&landscape.kappa=3", ["'kappa'", "condition"]),
        ("steps=20001", ["steps", "20000"]),
        ("noise=nan", ["noise", "finite"]),
    ],
)
def test_bad_query_gets_a_422_naming_the_key(client: TestClient, query: str, words: list[str]) -> None:
    reply = assert_error(client.get(f"/api/race?{query}"), 422, *words)
    assert all(d["loc"][0] == "query" for d in reply["detail"])


# --- POST /api/sweep ----------------------------------------------------------------------------------


def test_sweep_gives_a_gap_or_a_divergence_per_rate(client: TestClient) -> None:
    body = {"scene": {**DIVERGING, "steps": 100}, "lr_min": 1e-3, "lr_max": 10.0, "count": 5}
    response = client.post("/api/sweep", json=body)
    assert response.status_code == 200
    reply = strict_json(response.content)
    assert reply["lrs"] == pytest.approx([1e-3, 1e-2, 1e-1, 1.0, 10.0])
    for racer in reply["racers"]:
        assert len(racer["final_gap"]) == len(racer["diverged_at"]) == 5
        assert all(
            (gap is None) == (at is not None) for gap, at in zip(racer["final_gap"], racer["diverged_at"], strict=True)
        )
    assert reply["racers"][0]["diverged_at"][-1] is not None  # SGD at lr 10 on Rosenbrock


def test_sweep_refuses_more_races_than_it_runs(client: TestClient) -> None:
    body = {"scene": {"racers": [{"optimizer": "sgd"}] * 5}, "count": 256}
    assert_error(client.post("/api/sweep", json=body), 422, "1024", "5 × 256")


def test_sweep_refuses_an_empty_rate_range(client: TestClient) -> None:
    assert_error(client.post("/api/sweep", json={"lr_min": 1.0, "lr_max": 0.5}), 422, "lr_min", "lr_max")


# --- serving -------------------------------------------------------------------------------------------


def test_every_catalogue_route_is_a_plain_function_run_in_the_threadpool() -> None:
    """Races are async, to wait for room on the event loop (server/admission.py), and compute in the thread pool
    (the next test); the probes are async, to answer from the event loop whatever the threads are doing."""
    for module in (landscapes, optimizers):
        for route in module.router.routes:
            assert not asyncio.iscoroutinefunction(route.endpoint), route.path


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_races_and_streams_are_computed_off_the_event_loop(client: TestClient, monkeypatch) -> None:
    where: list[bool] = []
    real_run, real_frames = race.run, race.race_frames

    def spy_run(scene: Scene, internals: bool = False) -> dict[str, Any]:
        where.append(_on_event_loop())
        return real_run(scene, internals=internals)

    def spy_frames(scene: Scene, chunk_steps: int, internals: bool = False) -> Iterator[dict[str, Any]]:
        for frame in real_frames(scene, chunk_steps=chunk_steps, internals=internals):
            where.append(_on_event_loop())
            yield frame

    monkeypatch.setattr(race, "run", spy_run)
    monkeypatch.setattr(race, "race_frames", spy_frames)
    client.post("/api/race", json={"steps": 10})
    client.get("/api/race?" + urlencode({"steps": 10}))
    client.post("/api/race/stream", json={"steps": 10})
    assert len(where) == 2 + 3 and not any(where)


def test_race_with_internals_adds_them_to_every_racer(client: TestClient) -> None:
    racers = post_race(client, {**LECTURE, "steps": 20, "internals": True})["racers"]
    for racer in racers:
        assert len(racer["internals"]["grad"]) == len(racer["internals"]["update"]) == 20
    assert set(racers[3]["internals"]["state"]) == {"step", "exp_avg", "exp_avg_sq"}  # adam


def test_internals_in_the_query_and_in_the_stream_equal_the_posted_ones(client: TestClient) -> None:
    posted = post_race(client, {**LECTURE, "steps": 20, "internals": True})
    got = strict_json(client.get("/api/race?landscape=beale&start=1,1.5&steps=20&internals=1").content)
    assert [r["internals"] for r in got["racers"]] == [r["internals"] for r in posted["racers"]]
    frames = stream(client, {**LECTURE, "steps": 20, "internals": True})
    chunks = [frame for frame in frames if frame["type"] == "chunk"]
    assert [r["internals"]["grad"] for r in chunks[0]["racers"]] == [r["internals"]["grad"] for r in posted["racers"]]


def test_too_many_internals_get_a_422_naming_the_limit(client: TestClient) -> None:
    for route in ("/api/race", "/api/race/stream"):
        response = client.post(route, json={**LECTURE, "steps": 20_000, "internals": True})
        assert_error(response, 422, "internals are limited to racers × steps ≤ 20000", loc=["body"])
    response = client.get("/api/race?internals=maybe")
    assert_error(response, 422, "internals must be 1, true, 0 or false", loc=["query"])
