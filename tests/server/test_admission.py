"""Admission control: races, query races, streams and sweeps compute a bounded amount at once in each worker, in
two lanes weighed by racer-steps; past the bound, 503 with Retry-After in the API's error shape, quickly.

Work is held by stand-ins for core's race, stream and sweep that block on a threading.Event, so every test is
decided by events, never by the clock (as the export tests: tests/server/test_export_limit.py); the waits given
to ``Event.wait`` and ``Semaphore.acquire`` only keep a broken build from hanging the run.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient

from core.race import race_frames as real_race_frames
from core.race import run as real_run
from core.scene import Scene
from server import admission
from server.admission import Slots, admitted
from server.app import app
from server.routes import race
from tests.server.conftest import assert_error, run_event_loop

NEVER = 60  # seconds: only a broken build waits this long
SMALL = {"landscape": {"name": "bowl"}, "steps": 20, "racers": [{"optimizer": "sgd", "params": {"lr": 0.1}}]}
HUGE = {"steps": 20_000, "racers": [{"optimizer": "sgd"}] * 16}  # 320 000 racer-steps, the largest race


def scene(steps: int, racers: int = 1, seed: int = 0) -> dict[str, Any]:
    return {"landscape": {"name": "bowl"}, "steps": steps, "seed": seed, "racers": [{"optimizer": "adam"}] * racers}


class WatchedQueue(deque):
    """A lane's queue of waiters, telling the test each time a request joins it."""

    def __init__(self) -> None:
        super().__init__()
        self.joined = threading.Semaphore(0)

    def append(self, item: Any) -> None:
        super().append(item)
        self.joined.release()

    def wait_joined(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.joined.acquire(timeout=NEVER), "no request started waiting for room"


class Work:
    """Stands in for core's race, stream and sweep: each call says it has begun, then computes only once ``go``
    is set (``at_least`` racer-steps: smaller work passes at once, so a test can hold only the big)."""

    def __init__(self, at_least: int = 0) -> None:
        self.at_least = at_least
        self.started = threading.Semaphore(0)
        self.go = threading.Event()
        self.fail: Exception | None = None
        self.chunks = 0  # stream chunks computed
        self.stream_chunks = 2  # chunks in a stream (a bound: a stream that were never stopped would end)

    def hold(self, work: int) -> None:
        """Wait for ``go``, saying so first (work that finds ``go`` already set passes without a word)."""
        if work < self.at_least:
            return
        if not self.go.is_set():
            self.started.release()
            assert self.go.wait(NEVER), "the test never let the work go"
        if self.fail is not None:
            raise self.fail

    def run(self, scene: Scene, internals: bool = False) -> dict[str, Any]:
        self.hold(len(scene.racers) * scene.steps)
        return real_run(scene.model_copy(update={"steps": 2}))

    def race_frames(self, scene: Scene, chunk_steps: int, internals: bool = False) -> Iterator[dict[str, Any]]:
        frames = real_race_frames(scene, chunk_steps=1)
        yield next(frames)  # the header: made before the reply starts
        for first in range(self.stream_chunks):
            self.hold(len(scene.racers) * scene.steps)
            self.chunks += 1
            yield {"type": "chunk", "first": first, "racers": []}

    def sweep(self, scene: Scene, lr_min: float, lr_max: float, count: int) -> dict[str, Any]:
        self.hold(len(scene.racers) * scene.steps * count)
        return {"lrs": [], "racers": []}

    def wait_started(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.started.acquire(timeout=NEVER), "no work reached the engine"


@pytest.fixture
def lanes(monkeypatch: pytest.MonkeyPatch) -> tuple[Slots, Slots]:
    """Fresh lanes, whose queues the test can watch, for this test alone."""
    small, large = Slots(), Slots()
    small._waiters, large._waiters = WatchedQueue(), WatchedQueue()
    monkeypatch.setattr(admission, "SMALL", small)
    monkeypatch.setattr(admission, "LARGE", large)
    return small, large


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch, lanes: tuple[Slots, Slots], settings_override: Callable[..., None]):
    """Races, streams and sweeps computed by a ``Work``; no wait for room unless a test says otherwise."""
    fake = Work()
    monkeypatch.setattr(race, "run", fake.run)
    monkeypatch.setattr(race, "race_frames", fake.race_frames)
    monkeypatch.setattr(race, "sweep", fake.sweep)
    settings_override(work_wait_seconds=0)
    yield fake
    fake.go.set()  # never leave a worker thread waiting


@pytest.fixture
def one_loop() -> Iterator[TestClient]:
    """A client whose requests share one event loop, as in a server's worker process."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=6) as executor:
        yield executor


def busy(reply: Any, *words: str, retry_after: str = "1") -> dict[str, Any]:
    """A 503 in the error shape, with Retry-After: the wait for room, in whole seconds (at least 1)."""
    body = assert_error(reply, 503, "too busy", *words, loc=[])
    assert body["detail"][0]["type"] == "work_busy"
    assert reply.headers["retry-after"] == retry_after
    return body


# --- the small lane -------------------------------------------------------------------------------------------


def test_past_the_small_slots_a_race_gets_503_with_retry_after(
    one_loop: TestClient,
    work: Work,
    lanes: tuple[Slots, Slots],
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    settings_override(small_slots=2)
    held = [pool.submit(one_loop.post, "/api/race", json=scene(20, seed=seed)) for seed in (1, 2)]
    work.wait_started(2)
    busy(one_loop.post("/api/race", json=SMALL), "at most 2 small requests", "try again in 1 s")
    work.go.set()
    assert [future.result().status_code for future in held] == [200, 200]
    assert (lanes[0].busy, lanes[0].waiting) == (0, 0)


def test_a_waiting_race_is_served_as_soon_as_a_slot_frees(
    client: TestClient,
    work: Work,
    lanes: tuple[Slots, Slots],
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    """This client runs each request on its own loop: the freed slot is handed across loops and threads."""
    settings_override(small_slots=1, work_wait_seconds=NEVER)
    first = pool.submit(client.post, "/api/race", json=SMALL)
    work.wait_started()
    second = pool.submit(client.post, "/api/race", json=scene(30))
    lanes[0]._waiters.wait_joined()
    assert (lanes[0].busy, lanes[0].waiting) == (1, 1)
    work.go.set()
    assert (first.result().status_code, second.result().status_code) == (200, 200)
    assert (lanes[0].busy, lanes[0].waiting) == (0, 0)


def test_the_queue_is_bounded_and_past_it_a_race_is_refused_at_once(
    one_loop: TestClient,
    work: Work,
    lanes: tuple[Slots, Slots],
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    """With room for one and one waiting, a third request gets its 503 without waiting (its wait is NEVER)."""
    settings_override(small_slots=1, max_waiting=1, work_wait_seconds=NEVER)
    first = pool.submit(one_loop.post, "/api/race", json=SMALL)
    work.wait_started()
    second = pool.submit(one_loop.post, "/api/race", json=scene(30))
    lanes[0]._waiters.wait_joined()
    busy(one_loop.post("/api/race", json=scene(40)), "at most 1 small request", retry_after=str(NEVER))
    assert lanes[0].waiting == 1
    work.go.set()
    assert (first.result().status_code, second.result().status_code) == (200, 200)


def test_every_kind_of_race_takes_a_slot(
    one_loop: TestClient, work: Work, pool: ThreadPoolExecutor, settings_override: Callable[..., None]
) -> None:
    """A race, a query race, a stream and a sweep each hold the one small slot; each finds it taken."""
    settings_override(small_slots=1, small_work=10_000)
    requests = [
        ("POST", "/api/race", {"json": SMALL}),
        ("GET", "/api/race?landscape=bowl&steps=20&racer=sgd;lr=0.1", {}),
        ("POST", "/api/race/stream", {"json": SMALL}),
        ("POST", "/api/sweep", {"json": {"scene": SMALL, "count": 4}}),
    ]
    for method, path, kwargs in requests:
        held = pool.submit(one_loop.request, method, path, **kwargs)
        work.wait_started()
        for other_method, other_path, other_kwargs in requests:
            busy(one_loop.request(other_method, other_path, **other_kwargs))
        work.go.set()
        assert held.result().status_code == 200
        work.go.clear()


# --- the large lane -------------------------------------------------------------------------------------------


def test_small_races_are_served_while_huge_ones_fill_their_lane(
    one_loop: TestClient,
    work: Work,
    lanes: tuple[Slots, Slots],
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    """Two of the largest races fill the large lane; the page's races go on, a third huge one gets 503."""
    work.at_least = 100_000  # small races compute at once
    held = [pool.submit(one_loop.post, "/api/race", json={**HUGE, "seed": seed}) for seed in (1, 2)]
    work.wait_started(2)
    assert lanes[1].busy == 640_000
    for seed in range(5):
        assert one_loop.post("/api/race", json=scene(500, racers=4, seed=seed)).status_code == 200
    busy(one_loop.post("/api/race", json={**HUGE, "seed": 3}), "(this one: 320000)", "640000 racer-steps")
    work.go.set()
    assert [future.result().status_code for future in held] == [200, 200]
    assert (lanes[0].busy, lanes[1].busy) == (0, 0)


def test_large_work_is_weighed_in_racer_steps(
    one_loop: TestClient,
    work: Work,
    lanes: tuple[Slots, Slots],
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    """A budget of 100 000 racer-steps holds two races of 40 000 and one of 20 000, but not a third of 40 000."""
    settings_override(small_work=1000, large_work=100_000, large_slots=10)
    held = [pool.submit(one_loop.post, "/api/race", json=scene(10_000, racers=4, seed=seed)) for seed in (1, 2)]
    work.wait_started(2)
    busy(one_loop.post("/api/race", json=scene(10_000, racers=4, seed=3)), "(this one: 40000)")
    held.append(pool.submit(one_loop.post, "/api/race", json=scene(10_000, racers=2, seed=4)))
    work.wait_started()
    assert (lanes[1].busy, lanes[1].holders) == (100_000, 3)
    work.go.set()
    assert [future.result().status_code for future in held] == [200, 200, 200]
    assert lanes[1].busy == 0


def test_large_requests_compute_at_most_large_slots_at_once(
    one_loop: TestClient, work: Work, pool: ThreadPoolExecutor, settings_override: Callable[..., None]
) -> None:
    """However little each weighs, no more than ``large_slots`` large requests hold threads at once."""
    settings_override(small_work=1000, large_work=1_000_000, large_slots=2)
    held = [pool.submit(one_loop.post, "/api/race", json=scene(2000, seed=seed)) for seed in (1, 2)]
    work.wait_started(2)
    busy(one_loop.post("/api/race", json=scene(2000, seed=3)), "compute at most 2")
    work.go.set()
    assert [future.result().status_code for future in held] == [200, 200]


def test_a_sweep_is_weighed_by_its_racers_rates_and_steps(
    one_loop: TestClient, work: Work, lanes: tuple[Slots, Slots], pool: ThreadPoolExecutor
) -> None:
    """4 racers × 32 rates × 500 steps is 64 000 racer-steps: large work, though its scene is the page's."""
    held = pool.submit(one_loop.post, "/api/sweep", json={"count": 32})
    work.wait_started()
    assert (lanes[0].busy, lanes[1].busy, lanes[1].holders) == (0, 160_000, 1)  # a quarter of the budget at least
    work.go.set()
    assert held.result().status_code == 200


# --- streams --------------------------------------------------------------------------------------------------


def test_a_stream_holds_its_slot_until_its_last_line(
    one_loop: TestClient,
    work: Work,
    lanes: tuple[Slots, Slots],
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    settings_override(small_slots=1)
    stream = pool.submit(one_loop.post, "/api/race/stream", json=SMALL)
    work.wait_started()  # the header is made: the stream is computing its first chunk
    busy(one_loop.post("/api/race", json=scene(30)))
    work.go.set()
    lines = [json.loads(line) for line in stream.result().text.splitlines()]
    assert [line["type"] for line in lines] == ["header", "chunk", "chunk"]
    assert lanes[0].busy == 0
    assert one_loop.post("/api/race", json=scene(30)).status_code == 200


def test_a_stream_gives_its_room_back_when_its_client_leaves(
    work: Work, lanes: tuple[Slots, Slots], settings_override: Callable[..., None]
) -> None:
    """A client that reads the first line and leaves (a closed tab): the stream stops computing, its room is free.

    The app is called as uvicorn calls it (ASGI 2.3), with a client that leaves once the first line has come."""
    settings_override(large_work=320_000, large_slots=1)
    work.stream_chunks = 50
    body = json.dumps(HUGE).encode()

    async def scenario() -> tuple[int, list[bytes]]:
        first_line = asyncio.Event()
        left = asyncio.Event()
        sent: list[bytes] = []
        requests = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def receive() -> dict[str, Any]:
            message = next(requests, None)
            if message is not None:
                return message
            await left.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent.append(str(message["status"]).encode())
            elif message.get("body"):
                sent.append(message["body"])
                first_line.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/race/stream",
            "raw_path": b"/api/race/stream",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        task = asyncio.create_task(app(scope, receive, send))
        await first_line.wait()
        await asyncio.to_thread(work.wait_started)  # computing its first chunk, holding the lane
        held = lanes[1].busy
        left.set()
        for _ in range(10):  # a few turns of the loop: the leaving is seen while the chunk is still computing
            await asyncio.sleep(0)
        work.go.set()
        await task
        return held, sent

    held, sent = run_event_loop(scenario())
    assert held == 320_000
    assert sent[0] == b"200" and json.loads(sent[1])["type"] == "header"
    assert work.chunks <= 2, "the stream went on computing for a client that had left"
    assert (lanes[1].busy, lanes[1].holders) == (0, 0)


# --- failures -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status"),
    [(RuntimeError("the engine broke"), 500), (ValueError("the engine refused this scene"), 422)],
)
def test_room_comes_back_when_the_work_raises(
    work: Work, lanes: tuple[Slots, Slots], settings_override: Callable[..., None], error: Exception, status: int
) -> None:
    settings_override(small_slots=1)
    work.go.set()
    work.fail = error
    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.post("/api/race", json=SMALL), status)
        assert lanes[0].busy == 0
        work.fail = None
        assert client.post("/api/race", json=SMALL).status_code == 200
    assert (lanes[0].busy, lanes[0].waiting) == (0, 0)


def test_room_comes_back_when_a_stream_fails_midway(
    work: Work, lanes: tuple[Slots, Slots], settings_override: Callable[..., None]
) -> None:
    """The header has gone out with a 200: the stream is cut short, and its room is free again."""
    settings_override(small_slots=1)
    work.go.set()
    work.fail = RuntimeError("the engine broke")
    with TestClient(app, raise_server_exceptions=False) as client:
        cut = client.post("/api/race/stream", json=SMALL)
        assert cut.status_code == 200
        assert [json.loads(line)["type"] for line in cut.text.splitlines()] == ["header"]
        assert lanes[0].busy == 0
        work.fail = None
        assert client.post("/api/race/stream", json=SMALL).status_code == 200
    assert (lanes[0].busy, lanes[0].waiting) == (0, 0)


def test_a_bad_scene_takes_no_room(one_loop: TestClient, work: Work, lanes: tuple[Slots, Slots]) -> None:
    assert_error(one_loop.post("/api/race", json={"steps": 0}), 422, loc=["body", "steps"])
    assert_error(one_loop.get("/api/race?landscape=nope"), 422, "rosenbrock")
    assert work.started.acquire(blocking=False) is False
    assert (lanes[0].busy, lanes[1].busy) == (0, 0)


# --- the hook for other work (maps) ----------------------------------------------------------------------------


def test_any_route_can_be_admitted_by_its_racer_steps(
    lanes: tuple[Slots, Slots], pool: ThreadPoolExecutor, settings_override: Callable[..., None]
) -> None:
    """``@admitted(work)`` over a plain route: what a hyperparameter map's route needs, and nothing more."""
    settings_override(small_slots=1, work_wait_seconds=0)
    go = threading.Event()
    begun = threading.Semaphore(0)
    demo = FastAPI()
    demo.add_exception_handler(admission.Busy, admission.busy_handler)

    @demo.get("/map")
    @admitted(lambda cells, **_: cells * 100)
    def map_route(cells: int) -> Response:
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # a worker thread, off the event loop
        begun.release()
        assert go.wait(NEVER)
        return Response(f"{cells} cells")

    with TestClient(demo) as client:
        held = pool.submit(client.get, "/map?cells=10")
        assert begun.acquire(timeout=NEVER)
        busy(client.get("/map?cells=20"), "at most 1 small request")
        go.set()
        assert held.result().text == "10 cells"
        assert client.get("/map?cells=1000").text == "1000 cells"  # 100 000 racer-steps: the large lane
    assert (lanes[0].busy, lanes[1].busy) == (0, 0)


# --- documentation and settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/race"), ("get", "/api/race"), ("post", "/api/race/stream"), ("post", "/api/sweep")],
)
def test_the_race_routes_document_their_503_and_retry_after(method: str, path: str) -> None:
    reply = app.openapi()["paths"][path][method]["responses"]["503"]
    assert reply["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorReply"}
    assert reply["headers"]["Retry-After"]["required"] is True


def test_the_admission_settings_are_read_from_the_environment(settings_override: Callable[..., None]) -> None:
    defaults = admission.get_settings()
    assert (defaults.small_work, defaults.small_slots, defaults.large_work, defaults.large_slots) == (
        6000,
        2,
        640_000,
        4,
    )
    settings_override(small_slots=8, large_work=1_000_000, work_wait_seconds=0.25, max_waiting=3)
    settings = admission.get_settings()
    assert (settings.small_slots, settings.large_work, settings.work_wait_seconds, settings.max_waiting) == (
        8,
        1_000_000,
        0.25,
        3,
    )


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTIRACE_SMALL_SLOTS", "two")
    admission.get_settings.cache_clear()
    with pytest.raises(ValueError, match="OPTIRACE_SMALL_SLOTS must be an int, got 'two'"):
        admission.get_settings()
    monkeypatch.setenv("OPTIRACE_SMALL_SLOTS", "-1")
    admission.get_settings.cache_clear()
    with pytest.raises(ValueError, match="OPTIRACE_SMALL_SLOTS must be at least 0, got -1"):
        admission.get_settings()
    monkeypatch.delenv("OPTIRACE_SMALL_SLOTS")
    admission.get_settings.cache_clear()


# --- the lanes alone -------------------------------------------------------------------------------------------


def run(scenario: Callable[[Slots], Any]) -> Slots:
    slots = Slots()
    run_event_loop(scenario(slots))
    return slots


def test_a_big_waiter_is_not_overtaken_by_small_ones_behind_it() -> None:
    async def scenario(slots: Slots) -> None:
        assert await slots.acquire(10, 0, weight=6)
        big = asyncio.create_task(slots.acquire(10, NEVER, weight=8))
        await asyncio.sleep(0)
        small = asyncio.create_task(slots.acquire(10, NEVER, weight=2))  # would fit, but waits its turn
        await asyncio.sleep(0)
        assert (slots.busy, slots.waiting) == (6, 2)
        slots.release(10, weight=6)
        assert await big and await small
        assert (slots.busy, slots.holders) == (10, 2)
        slots.release(10, weight=8)
        slots.release(10, weight=2)

    assert run(scenario).busy == 0


def test_when_a_waiter_gives_up_those_behind_it_that_fit_are_let_in() -> None:
    async def scenario(slots: Slots) -> None:
        assert await slots.acquire(10, 0, weight=6)
        assert not await slots.acquire(10, 0.01, weight=8)  # never fits while 6 are held
        assert await slots.acquire(10, 0, weight=4)
        slots.release(10, weight=6)
        slots.release(10, weight=4)

    slots = run(scenario)
    assert (slots.busy, slots.waiting) == (0, 0)


def test_work_heavier_than_the_lane_or_a_full_queue_is_refused_at_once() -> None:
    async def scenario(slots: Slots) -> None:
        assert not await slots.acquire(10, NEVER, weight=11)
        assert await slots.acquire(1, 0)
        waiter = asyncio.create_task(slots.acquire(1, NEVER, max_waiting=1))
        await asyncio.sleep(0)
        assert not await slots.acquire(1, NEVER, max_waiting=1)
        slots.release(1)
        assert await waiter
        slots.release(1)
        with pytest.raises(ValueError, match="weight must be at least 1, got 0"):
            await slots.acquire(1, 0, weight=0)

    slots = run(scenario)
    assert (slots.busy, slots.waiting) == (0, 0)


def test_the_lane_of_a_request_follows_its_racer_steps() -> None:
    settings = admission.Settings(small_work=20_000, large_work=640_000, large_slots=4)
    assert admission.lane(2000, settings)[0::3] == ("small", 1)
    assert admission.lane(20_000, settings)[0::3] == ("small", 1)
    assert admission.lane(20_001, settings)[0::3] == ("large", 160_000)  # at least a quarter of the budget
    assert admission.lane(320_000, settings)[0::3] == ("large", 320_000)
    assert admission.lane(2_048_000, settings)[0::3] == ("large", 640_000)  # the largest sweep: the whole lane


def test_exports_wait_in_a_bounded_queue_too(
    monkeypatch: pytest.MonkeyPatch, settings_override: Callable[..., None]
) -> None:
    """The exports' slots take the same bound on waiters: past it, an export gets its 503 without waiting."""
    from server.routes import exports

    slots = Slots()
    monkeypatch.setattr(exports, "SLOTS", slots)
    settings_override(export_slots=1, export_wait_seconds=NEVER, max_waiting=0)

    async def scenario() -> None:
        assert await slots.acquire(1, 0)  # the one slot, taken
        reply = await exports.with_slot(exports._Export('"tag"', lambda: b"", "image/gif", {}), request=None)
        assert reply.status_code == 503
        slots.release(1)

    run_event_loop(scenario())
    assert (slots.busy, slots.waiting) == (0, 0)
