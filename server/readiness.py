"""Whether this worker process can take work now: the engine warm, and room for a small race.

``engine_warm`` is the one place that says whether the race engine is ready to run a race at full speed.
The engine computes on plain Python and NumPy today, which need no warming, so it is True from the start;
a compiled engine that warms up after start-up (core's warm-up and its "warm" flag) plugs in here.
"""

from __future__ import annotations

from typing import Any

from server.admission import lanes


def engine_warm() -> bool:
    """True once the race engine can run a race without first compiling or loading anything."""
    return True


def readiness() -> dict[str, Any]:
    """{"ready", "engine_warm", "lanes"}: ready when the engine is warm and a small race (a page's) would
    start at once, without waiting for room; each lane's room now, as server/admission.py counts it."""
    warm = engine_warm()
    now = lanes()
    small = now["small"]
    return {"ready": warm and small["busy"] < small["capacity"], "engine_warm": warm, "lanes": now}
