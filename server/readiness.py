"""Whether this worker process can take work now: the engine warm, and room for a small race.

``engine_warm`` is the one place that says whether the race engine is ready to run a race at full speed:
core.race's compiled loop, which each worker compiles or loads from the on-disk cache at start-up
(core.race.warm_up, run by the app's lifespan; ``optirace serve`` fills the cache before the port opens).
"""

from __future__ import annotations

from typing import Any

from core.race import is_warm
from server.admission import lanes


def engine_warm() -> bool:
    """True once the race engine can run a race without first compiling or loading anything."""
    return is_warm()


def readiness() -> dict[str, Any]:
    """{"ready", "engine_warm", "lanes"}: ready when the engine is warm and a small race (a page's) would
    start at once, without waiting for room; each lane's room now, as server/admission.py counts it."""
    warm = engine_warm()
    now = lanes()
    small = now["small"]
    return {"ready": warm and small["busy"] < small["capacity"], "engine_warm": warm, "lanes": now}
