"""Admission control: each worker process computes a bounded amount of work at once, weighed by its size, and
refuses the rest quickly with 503 and Retry-After, rather than queueing it without end.

A race costs about its racer-steps (racers × steps; × learning rates for a sweep). Two lanes share a worker:

- **small** work (at most ``small_work`` racer-steps: the races the page fetches whole, 4 × 500 is 2 000;
  it streams those of 6 000 and more, server/routes/pages.py) takes one of ``small_slots`` slots;
- **large** work takes its racer-steps out of a budget of ``large_work`` (two 16 × 20 000 races by default),
  and at least a ``large_slots``-th of it, so at most ``large_slots`` large requests compute at once.

So a class's small races never wait behind a huge one, and a burst of huge ones shares a bounded budget. A
request that finds no room waits on the event loop, holding no thread, first come first served, up to
``work_wait_seconds``, with at most ``max_waiting`` others in its lane; then it gets 503 in the API's error
shape with a Retry-After header. A stream holds its room while it computes: until its last line is sent, or
its client leaves (server/routes/race.py).

The hook for a route that computes is ``@admitted(work)`` over a plain (sync) route: ``work`` gets the route's
arguments and returns its racer-steps; the route then runs in the thread pool, holding its room, and a
streamed reply holds it until it has been sent. ``async with admission(work):`` does the same inside an
async route. Exports have their own slots (server/routes/exports.py), the same ``Slots``.
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from core.scene import Scene
from server.responses import error_body
from server.schemas import ErrorReply
from server.settings import Settings, get_settings

P = ParamSpec("P")


class _Waiter:
    __slots__ = ("granted", "loop", "weight", "woken")

    def __init__(self, loop: asyncio.AbstractEventLoop, weight: int) -> None:
        self.loop = loop
        self.weight = weight
        self.woken: asyncio.Future[None] = loop.create_future()
        self.granted = False  # set under the lock when a release hands this waiter its room


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Slots:
    """At most ``capacity`` units held at once; the others wait their turn, first come first served.

    A holder takes ``weight`` units (1 by default: plain slots). One per process and lane, shared by every
    thread and event loop in it (the test client runs each request on a loop of its own), so the count sits
    under a threading lock and a waiter is a future on its own loop, woken thread-safely. A release hands its
    units straight to the waiters in order; the first waiter blocks those behind it until it fits, so a big
    request is never starved by small ones in its lane. ``capacity`` is given on each call, so a change of
    settings applies to the next acquire and release.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = 0
        self._holders = 0
        self._waiters: deque[_Waiter] = deque()

    @property
    def busy(self) -> int:
        """Units held now."""
        return self._busy

    @property
    def holders(self) -> int:
        """Acquires holding units now."""
        return self._holders

    @property
    def waiting(self) -> int:
        """Acquires waiting for room now."""
        return len(self._waiters)

    async def acquire(self, capacity: int, timeout: float, weight: int = 1, max_waiting: int | None = None) -> bool:
        """Take ``weight`` units, waiting up to ``timeout`` seconds for them; False if they did not come free in
        that time, or at once if ``max_waiting`` others already wait or the units can never fit.

        Cancelled while waiting (the server stopping, the request's task cancelled), it leaves the queue,
        or gives back the units it had just been handed, and re-raises.
        """
        if weight < 1:
            raise ValueError(f"weight must be at least 1, got {weight}")
        loop = asyncio.get_running_loop()
        with self._lock:
            self._grant(capacity)
            if not self._waiters and self._busy + weight <= capacity:
                self._take(weight)
                return True
            if timeout <= 0 or weight > capacity or (max_waiting is not None and len(self._waiters) >= max_waiting):
                return False
            waiter = _Waiter(loop, weight)
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter.woken
        except TimeoutError:
            pass
        except BaseException:
            with self._lock:
                if waiter.granted:
                    self._give_back(weight)
                    self._grant(capacity)
                else:
                    self._waiters.remove(waiter)
            raise
        with self._lock:
            if waiter.granted:  # room came, if only as the time ran out
                return True
            self._waiters.remove(waiter)
            self._grant(capacity)  # those behind it may fit where it did not
            return False

    def release(self, capacity: int, weight: int = 1) -> None:
        """Give back ``weight`` units taken by ``acquire``: to the waiters in order, as far as they fit."""
        with self._lock:
            self._give_back(weight)
            self._grant(capacity)

    def _take(self, weight: int) -> None:
        self._busy += weight
        self._holders += 1

    def _give_back(self, weight: int) -> None:
        self._busy -= weight
        self._holders -= 1

    def _grant(self, capacity: int) -> None:
        """Hand free units to waiters in order (under the lock)."""
        while self._waiters and self._busy + self._waiters[0].weight <= capacity:
            waiter = self._waiters.popleft()
            try:
                waiter.loop.call_soon_threadsafe(_wake, waiter.woken)
            except RuntimeError:  # its loop is closed: nobody is waiting there any more
                continue
            waiter.granted = True
            self._take(waiter.weight)


SMALL = Slots()  # requests of at most small_work racer-steps, one slot each
LARGE = Slots()  # larger ones, weighed in racer-steps


class Busy(Exception):
    """No room for a request in its lane: answered 503 with Retry-After (``busy_handler``)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


async def busy_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, Busy)
    return JSONResponse(
        status_code=503,
        content=error_body(error.message, [], "work_busy"),
        headers={"Retry-After": str(error.retry_after)},
    )


def racer_steps(scene: Scene) -> int:
    """What a race of ``scene`` costs: its racers × its steps."""
    return len(scene.racers) * scene.steps


@dataclass
class Ticket:
    """Room held in a lane; ``release`` gives it back (once, however often it is called)."""

    slots: Slots
    capacity: int
    weight: int
    released: bool = field(default=False)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.slots.release(self.capacity, self.weight)


def lane(work: int, settings: Settings) -> tuple[str, Slots, int, int]:
    """The lane for ``work`` racer-steps: its name, its slots, their capacity and the units this work takes."""
    if work <= settings.small_work:
        return "small", SMALL, settings.small_slots, 1
    capacity = settings.large_work
    share = math.ceil(capacity / settings.large_slots) if settings.large_slots else capacity + 1
    return "large", LARGE, capacity, max(1, min(max(work, share), capacity))


async def admit(work: int) -> Ticket:
    """Room for ``work`` racer-steps in its lane, waiting for it as the settings allow; else ``Busy``."""
    settings = get_settings()
    name, slots, capacity, weight = lane(work, settings)
    if await slots.acquire(capacity, settings.work_wait_seconds, weight, settings.max_waiting):
        return Ticket(slots, capacity, weight)
    retry = max(1, math.ceil(settings.work_wait_seconds))
    if name == "small":
        limit = f"at most {settings.small_slots} small requests (≤ {settings.small_work} racer-steps) compute at once"
    else:
        limit = (
            f"requests over {settings.small_work} racer-steps (this one: {work}) compute at most "
            f"{settings.large_slots} and {settings.large_work} racer-steps at once"
        )
    raise Busy(
        f"too busy: {limit} here, and no room came in {settings.work_wait_seconds:g} s; try again in {retry} s",
        retry,
    )


@asynccontextmanager
async def admission(work: int) -> AsyncIterator[Ticket]:
    """``async with admission(racer_steps(scene)):`` holds room for the block (raises ``Busy`` if none comes)."""
    ticket = await admit(work)
    try:
        yield ticket
    finally:
        ticket.release()


class HeldResponse(Response):
    """``reply``, sent as it is, holding ``ticket`` until it has been sent, or has failed, or its client has
    left (a stream is cancelled then); and if it is never sent at all, until it is dropped."""

    def __init__(self, reply: Response, ticket: Ticket) -> None:
        self.__dict__.update(reply.__dict__)  # status, headers, background: as FastAPI and the log see them
        self._reply = reply
        self._ticket = ticket
        weakref.finalize(self, ticket.release)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._reply.background = self.background
        try:
            await self._reply(scope, receive, send)
        finally:
            self._ticket.release()


def admitted(work: Callable[..., int]) -> Callable[[Callable[P, Response]], Callable[P, Awaitable[Response]]]:
    """Admission for a plain route that computes: ``@admitted(lambda scene, **_: racer_steps(scene))``.

    The route becomes async: it waits for room on the event loop (``Busy`` → 503 if none comes), then runs
    in the thread pool holding it. A streamed reply keeps holding it until it has been sent or its client has
    left; any other reply gives it back as soon as it is made. FastAPI calls routes with keyword arguments,
    and ``work`` gets them all."""

    def decorate(route: Callable[P, Response]) -> Callable[P, Awaitable[Response]]:
        @functools.wraps(route)
        async def admitted_route(*args: P.args, **kwargs: P.kwargs) -> Response:
            ticket = await admit(work(*args, **kwargs))
            try:
                reply = await run_in_threadpool(route, *args, **kwargs)
            except BaseException:
                ticket.release()
                raise
            if isinstance(reply, StreamingResponse):
                return HeldResponse(reply, ticket)
            ticket.release()
            return reply

        return admitted_route

    return decorate


def lanes() -> dict[str, dict[str, Any]]:
    """Each lane's room now (for /readyz): units held, capacity, requests holding and waiting."""
    settings = get_settings()
    from server.routes.exports import SLOTS as EXPORTS  # the exports' slots, looked up now: tests replace them

    return {
        "small": {
            "busy": SMALL.busy,
            "capacity": settings.small_slots,
            "unit": "requests",
            "waiting": SMALL.waiting,
        },
        "large": {
            "busy": LARGE.busy,
            "capacity": settings.large_work,
            "unit": "racer-steps",
            "requests": LARGE.holders,
            "max_requests": settings.large_slots,
            "waiting": LARGE.waiting,
        },
        "exports": {
            "busy": EXPORTS.busy,
            "capacity": settings.export_slots,
            "unit": "requests",
            "waiting": EXPORTS.waiting,
        },
    }


BUSY_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorReply,
        "description": "This worker is computing all it may at once, and no room came in a short wait; "
        "the Retry-After header says when to try again",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorReply"},
                "example": error_body(
                    "too busy: at most 2 small requests (≤ 6000 racer-steps) compute at once here, and no room "
                    "came in 1 s; try again in 1 s",
                    [],
                    "work_busy",
                ),
            }
        },
        "headers": {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}
