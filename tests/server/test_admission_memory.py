"""What one request may hold in memory: the largest race's reply is made once and let go, and a stream holds one
chunk of frames at a time, however long it is. Measured with tracemalloc (Python objects and NumPy arrays) around
the app called as uvicorn calls it, with a client that reads and drops every byte; each bound has a wide margin
over what was measured (in the docstrings)."""

from __future__ import annotations

import asyncio
import gc
import json
import tracemalloc
from typing import Any

from server.app import app
from tests.server.conftest import run_event_loop

MB = 1_000_000
LARGEST = {"steps": 20_000, "racers": [{"optimizer": name} for name in ("sgd", "momentum", "rmsprop", "adam")] * 4}


async def serve_once(method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """One request through the whole app; the status and the bytes sent, none of them kept."""
    status, sent = 0, 0
    requests = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive() -> dict[str, Any]:
        message = next(requests, None)
        if message is None:
            await asyncio.Event().wait()  # the client stays to the end
        return message

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, sent
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            sent += len(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return status, sent


def peak_of(path: str, scene: dict[str, Any], gzip: bool = False) -> tuple[int, int, int]:
    """(status, bytes sent, peak bytes traced) of POSTing ``scene`` to ``path``."""
    headers = [(b"content-type", b"application/json")] + ([(b"accept-encoding", b"gzip")] if gzip else [])
    gc.collect()
    tracemalloc.start()
    try:
        status, sent = run_event_loop(serve_once("POST", path, json.dumps(scene).encode(), headers))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return status, sent, peak


def test_the_largest_race_is_answered_within_200_mb() -> None:
    """16 racers × 20 000 steps: 21.5 MB of JSON, made from the race's lists once; measured peak 95-97 MB."""
    status, sent, peak = peak_of("/api/race", LARGEST)
    assert status == 200 and sent > 20 * MB
    assert peak < 200 * MB, f"{peak / MB:.0f} MB"


def test_a_streams_memory_does_not_grow_with_its_length() -> None:
    """Ten times the steps, not much more memory: each chunk of frames is sent and dropped before the next is made.
    Measured, 4 racers: 1.2 MB at 2 000 steps, 3.4 MB at 20 000 (the engine's per-step learning rates); with the
    frames kept, 19 MB. The largest stream (16 × 20 000) peaks at 10 MB."""
    racers = LARGEST["racers"][:4]
    peak_of("/api/race/stream", {"steps": 10, "racers": racers})  # what a first stream sets up once
    _, short_sent, short_peak = peak_of("/api/race/stream", {"steps": 1000, "racers": racers})
    status, long_sent, long_peak = peak_of("/api/race/stream", {"steps": 10_000, "racers": racers})
    assert status == 200 and long_sent > 9 * short_sent
    assert long_peak < 2 * short_peak + 4 * MB, f"{short_peak / MB:.1f} MB, then {long_peak / MB:.1f} MB"
