"""Server settings: limits and caching, from the environment (OPTIRACE_*), cached, overridable in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Limits that keep any one request, and any one worker process, bounded in time and memory.

    Every limit is per worker process (``optirace serve --workers N`` has N of each).

    Work (races, query races, streams, sweeps; server/admission.py) is weighed in racer-steps, racers × steps
    (× learning rates for a sweep). A request of at most ``small_work`` racer-steps (a race the page fetches
    whole) takes one of ``small_slots`` slots; a larger one takes its racer-steps out of ``large_work``, shared
    by the large requests computing at once, at most ``large_slots`` of them. So small races never queue behind
    big ones. A request that finds no room waits, on the event loop and holding no thread, up to
    ``work_wait_seconds``, with at most ``max_waiting`` others in its lane, then gets 503 with a Retry-After
    header. A stream holds its room while it computes, until it ends or its client leaves.

    ``export_slots`` and ``export_wait_seconds`` bound the exports (GET /export/race.*), about a second of CPU
    each for a GIF, in the same way: at most ``export_slots`` render at once (0 refuses every export); a
    further one waits up to ``export_wait_seconds`` for a slot, then gets 503 with a Retry-After header.

    Short links (server/links.py, server/routes/links.py): ``data_dir`` holds the SQLite file (default: the
    user's data directory, e.g. ~/.local/share/optirace; created on first use); ``database_url``
    (``postgresql://user:pass@host/db``) puts them in PostgreSQL instead, shared by every server behind a load
    balancer; ``public_url`` (``https://optirace.example.org``) is the base of the short URLs and QR codes when
    the server stands behind a proxy (default: the request's own scheme and host). A client creates at most
    ``links_burst`` new links at once and ``links_per_minute`` after that (per worker process); a scene's
    query string is at most ``links_max_scene_bytes``; all links together take at most
    ``links_max_storage_bytes`` (each counts its query plus 64 bytes), then creation is refused with 507.

    The edge (``optirace serve``; server/protocol.py): ``keep_alive_seconds`` an idle kept-alive connection is
    kept; ``read_timeout_seconds`` from a request's first byte (or a connection's opening) to its last, or the
    connection is closed (408 if nothing was answered yet); ``max_connections`` open at once, past which
    requests get 503; a request's head (request line and headers) at most ``max_header_bytes`` bytes and
    ``max_headers`` header lines, or 431. ``trusted_hosts``: the Host names served, comma-separated
    (``*.example.org`` matches subdomains; ``*`` any), others get 400; /healthz and /readyz answer any Host.
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
    small_work: int = 6000  # racer-steps: at most this is small work (the page fetches these whole, streams larger)
    small_slots: int = 2  # small requests computing at once, per worker process
    large_work: int = 640_000  # racer-steps of larger requests computing at once (two 16 × 20 000 races)
    large_slots: int = 4  # larger requests computing at once, whatever their size
    work_wait_seconds: float = 1.0  # how long a request waits for room before its 503
    max_waiting: int = 64  # requests waiting for room in one lane; past that, 503 at once
    keep_alive_seconds: int = 5
    read_timeout_seconds: float = 15.0
    max_connections: int = 400
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    trusted_hosts: str = "*"

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, (int, float)) and value < 0:
                raise ValueError(f"OPTIRACE_{field.name.upper()} must be at least 0, got {value}")


@lru_cache
def get_settings() -> Settings:
    """The settings, read once from OPTIRACE_MAX_BODY_BYTES, OPTIRACE_CACHE_SECONDS, ... if set.

    Each is read as its default's type: OPTIRACE_EXPORT_SLOTS=4, OPTIRACE_EXPORT_WAIT_SECONDS=0.5,
    OPTIRACE_TRUSTED_HOSTS=optirace.example.org,localhost.
    """
    overrides = {}
    for field in fields(Settings):
        name = f"OPTIRACE_{field.name.upper()}"
        if name in os.environ:
            kind = type(field.default)
            try:
                overrides[field.name] = kind(os.environ[name])
            except ValueError:
                raise ValueError(
                    f"{name} must be {'an' if kind is int else 'a'} {kind.__name__}, got {os.environ[name]!r}"
                ) from None
    return Settings(**overrides)
