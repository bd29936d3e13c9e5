"""Server settings: limits and caching, from the environment (OPTIRACE_*), cached, overridable in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Limits that keep any one request bounded in time and memory.

    ``export_slots`` and ``export_wait_seconds`` bound the exports (GET /export/race.*), about a second of CPU
    each for a GIF: at most ``export_slots`` render at once in each worker process (0 refuses every export); a
    further one waits up to ``export_wait_seconds`` for a slot, then gets 503 with a Retry-After header. Races
    are not counted, so a class exporting at once cannot starve them.

    Short links (server/links.py, server/routes/links.py): ``data_dir`` holds the SQLite file (default: the
    user's data directory, e.g. ~/.local/share/optirace; created on first use); ``database_url``
    (``postgresql://user:pass@host/db``) puts them in PostgreSQL instead, shared by every server behind a load
    balancer; ``public_url`` (``https://optirace.example.org``) is the base of the short URLs and QR codes when
    the server stands behind a proxy (default: the request's own scheme and host). A client creates at most
    ``links_burst`` new links at once and ``links_per_minute`` after that (per worker process); a scene's
    query string is at most ``links_max_scene_bytes``; all links together take at most
    ``links_max_storage_bytes`` (each counts its query plus 64 bytes), then creation is refused with 507.
    """

    max_body_bytes: int = 256 * 1024
    max_query_bytes: int = 8 * 1024
    max_json_depth: int = 16
    max_evaluate_points: int = 10_000
    cache_seconds: int = 3600
    stream_chunk_steps: int = 100  # steps per NDJSON line: the first reaches the page after ~100 steps of work
    export_slots: int = 2  # exports rendering at once, per worker process
    export_wait_seconds: float = 5.0  # how long a further export waits for a free slot before its 503
    data_dir: str = ""  # OPTIRACE_DATA_DIR; empty: platformdirs' user data directory for "optirace"
    database_url: str = ""  # OPTIRACE_DATABASE_URL; empty: SQLite at <data_dir>/links.sqlite3
    public_url: str = ""  # OPTIRACE_PUBLIC_URL; empty: the request's scheme and host
    links_per_minute: float = 30.0  # new links a client may create per minute, after its burst
    links_burst: int = 20  # new links a client may create at once
    links_max_scene_bytes: int = 8 * 1024  # a link's canonical query string (at most max_query_bytes)
    links_max_storage_bytes: int = 1024**3  # all links together, then 507


@lru_cache
def get_settings() -> Settings:
    """The settings, read once from OPTIRACE_MAX_BODY_BYTES, OPTIRACE_CACHE_SECONDS, ... if set.

    Each is read as its default's type: OPTIRACE_EXPORT_SLOTS=4, OPTIRACE_EXPORT_WAIT_SECONDS=0.5.
    """
    overrides = {
        field.name: type(field.default)(os.environ[f"OPTIRACE_{field.name.upper()}"])
        for field in fields(Settings)
        if f"OPTIRACE_{field.name.upper()}" in os.environ
    }
    return Settings(**overrides)
