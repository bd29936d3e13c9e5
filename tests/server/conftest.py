"""Helpers for the API tests: strict JSON, error checks and settings overrides."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from server.local import serving
from server.settings import get_settings


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str | bytes) -> Any:
    """``json.loads`` that refuses NaN and ±Infinity, which Python's parser would otherwise accept."""
    return json.loads(text, parse_constant=_refuse_constant)


def ndjson_lines(response: httpx.Response) -> list[Any]:
    """Every line of an NDJSON reply, each parsed strictly; lines end at ``\\n`` only."""
    body = response.content
    assert body.endswith(b"\n"), "an NDJSON reply ends with a newline"
    return [strict_json(line) for line in body.split(b"\n")[:-1]]


def assert_error(response: httpx.Response, status: int, *words: str, loc: list[Any] | None = None) -> dict[str, Any]:
    """A 4xx in the API's error shape whose message holds every one of ``words``; returns the reply."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    reply = strict_json(response.content)
    assert set(reply) == {"error", "detail"}
    assert reply["detail"] and all({"loc", "msg", "type"} <= set(d) for d in reply["detail"])
    for word in words:
        assert word in reply["error"], f"{word!r} not in {reply['error']!r}"
    if loc is not None:
        assert loc in [d["loc"] for d in reply["detail"]], reply["detail"]
    return reply


@pytest.fixture
def settings_override(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``settings_override(max_body_bytes=1000)``: other limits for one test, through OPTIRACE_* variables."""

    def override(**values: int) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"OPTIRACE_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield override
    get_settings.cache_clear()  # the variables are restored after this; the next call reads them afresh


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """``optirace serve`` (``python -m server.cli serve``) on 127.0.0.1 and a free port; yields its base URL."""
    with serving() as server:
        yield server.url


T = TypeVar("T")


def run_event_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)`` in a thread of its own: in this one, Playwright's sync API (the browser tests,
    earlier in the same run) may have left an event loop running, and asyncio.run refuses to start inside it."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
