"""Export slots: a burst of exports renders a few at a time, a further one waits briefly and then gets 503 with
Retry-After, and races never wait for exports.

Renders are held by a stand-in renderer that blocks on a threading.Event, so every test is decided by events,
never by the clock; the waits given to ``Event.wait`` and ``Semaphore.acquire`` only keep a broken build from
hanging the run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from server.app import app
from server.render import FORMATS
from server.routes import exports
from tests.server.conftest import assert_error, run_event_loop

QUERY = "landscape=bowl&steps=5&racer=sgd;lr=0.1&width=160&height=160&frames=2"
GIF = b"GIF89a stand-in"
RACE = {"landscape": {"name": "bowl"}, "steps": 20, "racers": [{"optimizer": "sgd", "params": {"lr": 0.1}}]}
NEVER = 60  # seconds: only a broken build waits this long


def gif(seed: int, extra: str = "") -> str:
    """A distinct export for each seed (so none is answered from another's cache)."""
    return f"/export/race.gif?{QUERY}&seed={seed}{extra}"


class Renderer:
    """Stands in for the GIF renderer: each call says it has begun, then draws nothing until ``go`` is set."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.go = threading.Event()
        self.fail: Exception | None = None
        self.calls = 0
        self.on_event_loop = 0
        self._lock = threading.Lock()

    def __call__(self, scene: Any, options: Any) -> bytes:
        with self._lock:
            self.calls += 1
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread: no loop runs here
            pass
        else:
            self.on_event_loop += 1  # blocking here would block every request: say so and return
            return GIF
        self.started.release()
        assert self.go.wait(NEVER), "the test never let the renderer go"
        if self.fail is not None:
            raise self.fail
        return GIF

    def wait_started(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.started.acquire(timeout=NEVER), "no export reached the renderer"


class WatchedQueue(deque):
    """The slots' queue of waiters, telling the test each time a request joins it."""

    def __init__(self) -> None:
        super().__init__()
        self.joined = threading.Semaphore(0)

    def append(self, item: Any) -> None:
        super().append(item)
        self.joined.release()

    def wait_joined(self, count: int = 1) -> None:
        for _ in range(count):
            assert self.joined.acquire(timeout=NEVER), "no export started waiting for a slot"


@pytest.fixture
def slots(monkeypatch: pytest.MonkeyPatch) -> exports.ExportSlots:
    """Fresh slots, whose queue the test can watch, and an empty export cache, for this test alone."""
    fresh = exports.ExportSlots()
    fresh._waiters = WatchedQueue()
    monkeypatch.setattr(exports, "SLOTS", fresh)
    monkeypatch.setattr(exports, "_cache", exports._ByteCache(exports.CACHE_BYTES, exports.CACHE_ITEM_BYTES))
    return fresh


@pytest.fixture
def renderer(
    monkeypatch: pytest.MonkeyPatch, slots: exports.ExportSlots, settings_override: Callable[..., None]
) -> Iterator[Renderer]:
    """The GIF export drawn by a ``Renderer``; two slots and no wait unless a test says otherwise."""
    fake = Renderer()
    monkeypatch.setitem(FORMATS, "gif", dataclasses.replace(FORMATS["gif"], render=fake))
    settings_override(export_slots=2, export_wait_seconds=0)
    yield fake
    fake.go.set()  # never leave a worker thread waiting
    assert fake.on_event_loop == 0, "an export was rendered on the event loop"


@pytest.fixture
def one_loop() -> Iterator[TestClient]:
    """A client whose requests share one event loop, as in a server's worker process."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def test_past_the_limit_an_export_gets_503_with_retry_after(
    one_loop: TestClient, renderer: Renderer, slots: exports.ExportSlots, pool: ThreadPoolExecutor
) -> None:
    held = [pool.submit(one_loop.get, gif(seed)) for seed in (1, 2)]
    renderer.wait_started(2)
    reply = one_loop.get(gif(3))
    body = assert_error(reply, 503, "too many exports at once", "at most 2", "try again in 1 s", loc=[])
    assert body["detail"][0]["type"] == "export_busy"
    assert reply.headers["retry-after"] == "1"
    renderer.go.set()
    assert [future.result().status_code for future in held] == [200, 200]
    assert renderer.calls == 2
    assert (slots.busy, slots.waiting) == (0, 0)


def test_races_are_served_while_exports_hold_every_slot(
    one_loop: TestClient, renderer: Renderer, slots: exports.ExportSlots, pool: ThreadPoolExecutor
) -> None:
    held = [pool.submit(one_loop.get, gif(seed)) for seed in (1, 2)]
    renderer.wait_started(2)
    assert slots.busy == 2
    assert one_loop.post("/api/race", json=RACE).status_code == 200
    assert one_loop.get("/api/race?landscape=bowl&steps=20&racer=sgd;lr=0.1").status_code == 200
    assert one_loop.get(gif(3)).status_code == 503  # the exports were still holding every slot
    renderer.go.set()
    assert [future.result().status_code for future in held] == [200, 200]


def test_a_waiting_export_is_served_as_soon_as_a_slot_frees(
    client: TestClient,
    renderer: Renderer,
    slots: exports.ExportSlots,
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    """This client runs each request on its own loop: the freed slot is handed across loops and threads."""
    settings_override(export_slots=1, export_wait_seconds=NEVER)
    first = pool.submit(client.get, gif(1))
    renderer.wait_started()
    second = pool.submit(client.get, gif(2))
    slots._waiters.wait_joined()
    assert (slots.busy, slots.waiting) == (1, 1)
    renderer.go.set()
    assert (first.result().status_code, second.result().status_code) == (200, 200)
    assert renderer.calls == 2
    assert (slots.busy, slots.waiting) == (0, 0)


def test_a_waiting_export_gets_503_when_no_slot_frees_in_time(
    one_loop: TestClient,
    renderer: Renderer,
    slots: exports.ExportSlots,
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    settings_override(export_slots=1, export_wait_seconds=0.05)
    held = pool.submit(one_loop.get, gif(1))
    renderer.wait_started()
    reply = one_loop.get(gif(2))
    assert_error(reply, 503, "at most 1", "none came free in 0.05 s")
    assert reply.headers["retry-after"] == "1"
    assert slots.waiting == 0
    renderer.go.set()
    assert held.result().status_code == 200
    assert (slots.busy, slots.waiting) == (0, 0)


def test_a_class_asking_for_the_same_export_gets_one_drawing(
    one_loop: TestClient,
    renderer: Renderer,
    slots: exports.ExportSlots,
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    """Whoever waited behind the first drawing finds it in the cache once a slot is theirs."""
    settings_override(export_slots=1, export_wait_seconds=NEVER)
    first = pool.submit(one_loop.get, gif(1))
    renderer.wait_started()
    others = [pool.submit(one_loop.get, gif(1)) for _ in range(3)]
    slots._waiters.wait_joined(3)
    renderer.go.set()
    replies = [future.result() for future in [first, *others]]
    assert [reply.status_code for reply in replies] == [200] * 4
    assert {reply.content for reply in replies} == {GIF}
    assert renderer.calls == 1


def test_a_slot_comes_back_after_each_export(
    one_loop: TestClient, renderer: Renderer, slots: exports.ExportSlots, settings_override: Callable[..., None]
) -> None:
    settings_override(export_slots=1)
    renderer.go.set()
    for seed in range(3):
        assert one_loop.get(gif(seed)).status_code == 200
    assert renderer.calls == 3
    assert (slots.busy, slots.waiting) == (0, 0)


def test_an_export_whose_client_has_left_is_not_drawn(
    monkeypatch: pytest.MonkeyPatch,
    one_loop: TestClient,
    renderer: Renderer,
    slots: exports.ExportSlots,
    settings_override: Callable[..., None],
) -> None:
    """A closed tab's export, by the time it has a slot: nothing drawn, the slot handed on."""
    settings_override(export_slots=1)
    renderer.go.set()

    left = True

    async def is_disconnected(self: Request) -> bool:
        return left

    monkeypatch.setattr(Request, "is_disconnected", is_disconnected)
    assert one_loop.get(gif(1)).status_code == exports.CLIENT_GONE
    assert renderer.calls == 0 and (slots.busy, slots.waiting) == (0, 0)
    left = False  # a client that stays gets its export drawn
    assert one_loop.get(gif(1)).status_code == 200 and renderer.calls == 1


def test_a_bad_query_takes_no_slot(
    one_loop: TestClient, renderer: Renderer, slots: exports.ExportSlots, settings_override: Callable[..., None]
) -> None:
    settings_override(export_slots=1)
    renderer.go.set()
    assert_error(one_loop.get(gif(1, "&fps=0")), 422, "[1, 50]", loc=["query", "fps"])
    assert_error(one_loop.get("/export/race.gif?landscape=nope"), 422, "rosenbrock", loc=["query", "landscape"])
    assert slots.busy == 0
    assert one_loop.get(gif(1)).status_code == 200
    assert renderer.calls == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [(RuntimeError("renderer broke"), 500), (ValueError("the renderer refused this scene"), 422)],
)
def test_a_slot_comes_back_when_the_renderer_raises(
    renderer: Renderer,
    slots: exports.ExportSlots,
    settings_override: Callable[..., None],
    error: Exception,
    status: int,
) -> None:
    settings_override(export_slots=1)
    renderer.go.set()
    renderer.fail = error
    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.get(gif(1)), status)
        assert slots.busy == 0
        renderer.fail = None
        assert client.get(gif(2)).status_code == 200
    assert (slots.busy, slots.waiting) == (0, 0)


def test_cached_exports_and_revalidations_take_no_slot(
    one_loop: TestClient,
    renderer: Renderer,
    slots: exports.ExportSlots,
    pool: ThreadPoolExecutor,
    settings_override: Callable[..., None],
) -> None:
    settings_override(export_slots=1)
    renderer.go.set()
    drawn = one_loop.get(gif(1))
    renderer.go.clear()
    held = pool.submit(one_loop.get, gif(2))
    renderer.wait_started()
    again = one_loop.get(gif(1))
    assert (again.status_code, again.content) == (200, drawn.content)
    assert one_loop.get(gif(1), headers={"If-None-Match": drawn.headers["etag"]}).status_code == 304
    assert one_loop.get(gif(3)).status_code == 503
    renderer.go.set()
    assert held.result().status_code == 200
    assert renderer.calls == 2


def test_a_slot_comes_back_when_the_request_is_cancelled(
    renderer: Renderer, slots: exports.ExportSlots, settings_override: Callable[..., None]
) -> None:
    """A cancelled request (the server stopping; a client gone where the server cancels) frees its slot, whether
    it was waiting for one or drawing: the drawing is not abandoned mid-way, so its slot frees when it ends."""
    settings_override(export_slots=2, export_wait_seconds=NEVER)

    async def scenario() -> list[BaseException | httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            drawing = [asyncio.create_task(client.get(gif(seed))) for seed in (1, 2)]
            await asyncio.to_thread(renderer.wait_started, 2)
            waiting = asyncio.create_task(client.get(gif(3)))
            await asyncio.to_thread(slots._waiters.wait_joined)
            for task in [*drawing, waiting]:
                task.cancel()
            renderer.go.set()
            return await asyncio.gather(*drawing, waiting, return_exceptions=True)

    outcomes = run_event_loop(scenario())
    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes), outcomes
    assert renderer.calls == 2
    assert (slots.busy, slots.waiting) == (0, 0)


def test_retry_after_is_the_wait_in_whole_seconds(settings_override: Callable[..., None]) -> None:
    settings_override(export_slots=3, export_wait_seconds=2.5)
    reply = exports.busy_reply()
    assert reply.status_code == 503
    assert reply.headers["retry-after"] == "3"
    assert b"at most 3 render at a time" in reply.body


def test_the_export_settings_are_read_from_the_environment(settings_override: Callable[..., None]) -> None:
    defaults = exports.get_settings()
    assert (defaults.export_slots, defaults.export_wait_seconds) == (2, 5.0)
    settings_override(export_slots=4, export_wait_seconds=0.5)
    settings = exports.get_settings()
    assert (settings.export_slots, settings.export_wait_seconds) == (4, 0.5)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_the_export_routes_document_their_503_and_retry_after(fmt: str) -> None:
    reply = app.openapi()["paths"][f"/export/race.{fmt}"]["get"]["responses"]["503"]
    assert reply["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorReply"}
    assert reply["headers"]["Retry-After"]["required"] is True


def test_a_waiter_draws_nothing_when_the_cache_already_holds_its_export(slots: exports.ExportSlots) -> None:
    def render() -> bytes:
        raise AssertionError("drawn again")

    export = exports._Export('"tag"', render, "image/gif", {"ETag": '"tag"'})
    exports._cache.put('"tag"', GIF)
    assert exports.draw(export).body == GIF


# --- the slots alone ----------------------------------------------------------------------------------------


def run(scenario: Callable[[exports.ExportSlots], Any]) -> exports.ExportSlots:
    slots = exports.ExportSlots()
    run_event_loop(scenario(slots))
    return slots


def test_slots_are_handed_to_waiters_first_come_first_served() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert await slots.acquire(1, NEVER)
        second = asyncio.create_task(slots.acquire(1, NEVER))
        third = asyncio.create_task(slots.acquire(1, NEVER))
        await asyncio.sleep(0)  # both run to their wait
        assert (slots.busy, slots.waiting) == (1, 2)
        slots.release(1)
        assert await second
        assert (slots.busy, slots.waiting, third.done()) == (1, 1, False)
        slots.release(1)
        assert await third
        slots.release(1)

    slots = run(scenario)
    assert (slots.busy, slots.waiting) == (0, 0)


def test_a_release_in_another_thread_wakes_a_waiter() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert await slots.acquire(1, NEVER)
        waiter = asyncio.create_task(slots.acquire(1, NEVER))
        await asyncio.sleep(0)
        await asyncio.to_thread(slots.release, 1)
        assert await waiter
        slots.release(1)

    assert run(scenario).busy == 0


def test_no_slot_without_waiting_when_the_wait_is_zero_or_there_are_no_slots() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert not await slots.acquire(0, NEVER)
        assert await slots.acquire(1, 0)
        assert not await slots.acquire(1, 0)
        slots.release(1)

    slots = run(scenario)
    assert (slots.busy, slots.waiting) == (0, 0)


def test_a_waiter_whose_time_runs_out_leaves_the_queue() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert await slots.acquire(1, 0)
        assert not await slots.acquire(1, 0.01)
        assert slots.waiting == 0
        slots.release(1)

    assert run(scenario).busy == 0


def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert await slots.acquire(1, 0)
        waiter = asyncio.create_task(slots.acquire(1, NEVER))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert (slots.busy, slots.waiting) == (1, 0)
        slots.release(1)

    assert run(scenario).busy == 0


def test_a_waiter_cancelled_as_it_is_handed_a_slot_gives_it_back() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert await slots.acquire(1, 0)
        waiter = asyncio.create_task(slots.acquire(1, NEVER))
        await asyncio.sleep(0)
        slots.release(1)  # handed to the waiter, which has not run since
        assert slots.busy == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

    slots = run(scenario)
    assert (slots.busy, slots.waiting) == (0, 0)


def test_more_slots_in_the_settings_let_waiters_in_at_the_next_acquire() -> None:
    async def scenario(slots: exports.ExportSlots) -> None:
        assert await slots.acquire(1, 0)
        waiter = asyncio.create_task(slots.acquire(1, NEVER))
        await asyncio.sleep(0)
        assert await slots.acquire(3, 0)  # the waiter is let in first, then this one
        assert await waiter
        assert (slots.busy, slots.waiting) == (3, 0)
        for _ in range(3):
            slots.release(3)

    assert run(scenario).busy == 0
