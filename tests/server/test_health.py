"""Liveness (/healthz) answers from the event loop whatever the worker's threads are doing; readiness (/readyz)
says whether the worker can take work now; both answer HEAD."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from core.race import advance, warm_up
from server import admission, readiness
from server.admission import Slots
from server.app import app
from server.routes import health
from tests.server.conftest import run_event_loop, strict_json

NEVER = 60  # seconds: only a broken build waits this long


@pytest.fixture
def one_loop() -> Iterator[TestClient]:
    """A client whose requests share one event loop, as in a server's worker process."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def lanes(monkeypatch: pytest.MonkeyPatch) -> tuple[Slots, Slots]:
    small, large = Slots(), Slots()
    monkeypatch.setattr(admission, "SMALL", small)
    monkeypatch.setattr(admission, "LARGE", large)
    return small, large


def test_healthz_says_ok_and_is_never_cached(client: TestClient) -> None:
    reply = client.get("/healthz")
    assert (reply.status_code, strict_json(reply.content)) == (200, {"status": "ok"})
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_answer_head_with_the_headers_of_get_and_no_body(client: TestClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert (head.status_code, head.content) == (got.status_code, b"")
    assert head.headers["content-type"] == got.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == got.headers["content-length"]


@pytest.mark.parametrize("route", ["/healthz", "/readyz"])
def test_the_probes_are_answered_on_the_event_loop(route: str) -> None:
    """Async routes: no thread of the pool is needed to answer them (the next test shows it)."""
    endpoint = next(r.endpoint for r in health.router.routes if r.path == route)
    assert asyncio.iscoroutinefunction(endpoint)


def test_healthz_answers_while_every_thread_of_the_pool_is_busy(one_loop: TestClient) -> None:
    """The worker's thread pool cut to one thread, and that thread held: /healthz and /readyz still answer, while
    a request that needs a thread waits for it."""
    go = threading.Event()
    begun = threading.Event()

    def hold() -> None:
        begun.set()
        assert go.wait(NEVER)

    limiter = one_loop.portal.call(anyio.to_thread.current_default_thread_limiter)
    tokens = limiter.total_tokens
    one_loop.portal.call(setattr, limiter, "total_tokens", 1)
    try:
        holding = one_loop.portal.start_task_soon(anyio.to_thread.run_sync, hold)
        assert begun.wait(NEVER)
        with ThreadPoolExecutor(max_workers=4) as pool:
            waiting = pool.submit(one_loop.get, "/api/optimizers")  # a plain route: needs the one thread
            for method, path in [("GET", "/healthz"), ("HEAD", "/healthz"), ("GET", "/readyz")]:
                # a result within NEVER: a probe that needed a thread would wait for ``go`` (set only below)
                assert pool.submit(one_loop.request, method, path).result(timeout=NEVER).status_code == 200
            assert not waiting.done()
            go.set()
            holding.result(timeout=NEVER)
            assert waiting.result().status_code == 200
    finally:
        go.set()
        one_loop.portal.call(setattr, limiter, "total_tokens", tokens)


def test_readyz_is_ready_when_the_engine_is_warm_and_a_small_race_would_start_at_once(
    client: TestClient, lanes: tuple[Slots, Slots]
) -> None:
    warm_up()
    reply = client.get("/readyz")
    assert reply.status_code == 200 and reply.headers["cache-control"] == "no-store"
    body = strict_json(reply.content)
    assert body["ready"] is True and body["engine_warm"] is True
    assert body["lanes"]["small"] == {"busy": 0, "capacity": 2, "unit": "requests", "waiting": 0}
    assert body["lanes"]["large"]["capacity"] == 640_000 and body["lanes"]["large"]["unit"] == "racer-steps"
    assert body["lanes"]["exports"]["capacity"] == 2


def test_readyz_is_not_ready_while_the_engine_warms_up(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readiness, "engine_warm", lambda: False)
    reply = client.get("/readyz")
    assert reply.status_code == 503
    assert strict_json(reply.content)["ready"] is False and strict_json(reply.content)["engine_warm"] is False


def test_readyz_is_not_ready_while_every_small_slot_is_busy(
    client: TestClient, lanes: tuple[Slots, Slots], settings_override: Callable[..., None]
) -> None:
    """The small lane full (two races holding it): not ready, and the body says where the room went."""
    settings_override(small_slots=2)
    warm_up()

    async def fill() -> None:
        assert await lanes[0].acquire(2, 0)
        assert await lanes[0].acquire(2, 0)

    run_event_loop(fill())
    reply = client.get("/readyz")
    assert reply.status_code == 503
    body = strict_json(reply.content)
    assert body["ready"] is False and body["engine_warm"] is True
    assert body["lanes"]["small"]["busy"] == 2
    lanes[0].release(2)
    assert client.get("/readyz").status_code == 200
    lanes[0].release(2)


def test_the_engine_warm_hook_is_cores_warm_flag() -> None:
    """The compiled engine is warm once core.race.warm_up has run in this process (the lifespan runs it)."""
    warm_up()
    assert readiness.engine_warm() is True


def test_a_worker_freezes_what_start_up_made_so_a_full_collection_never_walks_it(one_loop: TestClient) -> None:
    """A full collection over the ~230 000 objects of numba, sympy, NumPy and the app took ~90 ms, during which
    nothing (not /healthz) was answered; the lifespan moves them out of the collector's reach once warm."""
    before = gc.get_freeze_count()
    deadline = time.monotonic() + NEVER
    while gc.get_freeze_count() <= max(before, 50_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gc.get_freeze_count() > 50_000
    assert one_loop.get("/healthz").status_code == 200


def test_the_race_loop_lets_go_of_the_gil_so_the_event_loop_runs_beside_it() -> None:
    """core.race.advance is compiled with nogil: a thread racing does not hold up the worker's event loop."""
    assert advance.targetoptions.get("nogil") is True
