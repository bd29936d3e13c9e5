"""Server settings: limits and caching, from the environment (OPTIRACE_*), cached, overridable in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Limits that keep any one request bounded in time and memory."""

    max_body_bytes: int = 256 * 1024
    max_query_bytes: int = 8 * 1024
    max_json_depth: int = 16
    max_evaluate_points: int = 10_000
    cache_seconds: int = 3600
    stream_chunk_steps: int = 100  # steps per NDJSON line: the first reaches the page after ~100 steps of work


@lru_cache
def get_settings() -> Settings:
    """The settings, read once from OPTIRACE_MAX_BODY_BYTES, OPTIRACE_CACHE_SECONDS, ... if set."""
    overrides = {
        name: int(os.environ[f"OPTIRACE_{name.upper()}"])
        for name in Settings.__dataclass_fields__
        if f"OPTIRACE_{name.upper()}" in os.environ
    }
    return Settings(**overrides)
