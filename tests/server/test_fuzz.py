"""Schemathesis against the app's own OpenAPI schema: no 5xx, and every reply as documented.

Each operation gets its documented examples, the boundary cases of its schema and a bounded number of
generated requests, valid and invalid, derandomized so a run is the same on every machine: 30 for the JSON
API; for the exports, their examples and 10 generated requests (each GIF is rendered, and their own tests live
in test_exports.py: here they are only held to the schema). The boundary-case phase skips the operations that
race or draw (NO_COVERAGE): the scene's boundaries are those of POST /api/scene/query, which has it. Every reply
must carry a documented status and content type and match that status's schema (the 200 models of
server/schemas.py, the ErrorReply of every 4xx); the NDJSON stream is read line by line for that.

The schema is exact (server/schemas.py): every landscape, optimizer and schedule is a variant of its union,
with its own parameters and ranges. So ``positive_data_acceptance`` is checked too, with one allowance: a
schema-valid request may be refused only by one of the cross-field rules its operation's description lists
(the start inside the chosen landscape's domain, a schedule suiting the run's steps, lr_min < lr_max, …),
each detail of the 422 matching a listed rule; any other refusal of a valid request fails the test.
tests/server/test_openapi.py checks that every documented example is accepted.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import positive_data_acceptance

from core.scene import MAX_STEPS
from server.app import app
from server.schemas import rules_of

# The coverage phase (boundary values of every field) enumerates every variant of the scene's unions: about 8000
# requests per scene-bearing operation. It runs on POST /api/scene/query, which validates the scene exactly as the
# races do without racing it; the operations that race (and the exports, which draw) get their examples and the
# generated requests only.
NO_COVERAGE = "^/export/|^/api/race|^/api/sweep|^/api/map|^/api/tune"
# A request its schema rejects gets a 4xx; besides schemathesis' usual ones, 413 and 414 (a body or query past the
# server's size limits, which is how a schema-violating 10 001 points are refused before they are read).
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTED}},
        "operations": [{"include-path-regex": NO_COVERAGE, "phases": {"coverage": {"enabled": False}}}],
    }
)
TIMEOUT = 120  # seconds per request: a loaded CI machine must not turn a slow race into a failure
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)

# Cost knobs (for every operation: the subsets below share the hook), capped when valid so that a hundred races
# and grids stay within seconds; values outside the documented range are left alone, so a request meant to be
# rejected still is.
CAPS: dict[str, tuple[int, int, int]] = {  # name: (lowest valid, highest valid, cap)
    "steps": (1, MAX_STEPS, 120),
    "count": (2, 256, 6),
    "map.x.count": (2, 128, 6),  # the query form of a map
    "map.y.count": (2, 128, 6),
    "refine": (0, 32, 3),  # a tune's second round
    "tune.count": (3, 64, 6),  # the query form of a tune
    "tune.refine": (0, 32, 3),
    "resolution": (16, 512, 48),
    "levels": (2, 200, 12),
    "frames": (2, 300, 12),  # exports
    "width": (160, 1920, 320),
    "height": (160, 1920, 240),
}


def _cap(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _cap_one(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cap(item) for item in value]
    return value


def _cap_one(key: str, value: Any) -> Any:
    if key in CAPS and isinstance(value, int) and not isinstance(value, bool):
        low, high, cap = CAPS[key]
        return min(value, cap) if low <= value <= high else value
    return _cap(value)


@schema.hook
def map_case(context: Any, case: Any) -> Any:
    if isinstance(case.body, dict):
        case.body = _cap(case.body)
    if isinstance(case.query, dict):
        case.query = _cap(case.query)
    return case


@schemathesis.deserializer("application/x-ndjson")
def _ndjson_lines(context: Any, response: Any) -> list[Any]:
    """The stream as the array its schema describes: one JSON value per line."""
    return [json.loads(line) for line in response.content.split(b"\n") if line]


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} in a JSON reply")


def finite_json(ctx: Any, response: Any, case: Any) -> None:
    """Every JSON reply parses with NaN and ±Infinity refused (Python's json module would accept them)."""
    content_type = response.headers.get("content-type", [""])[0]
    if "json" in content_type:
        for line in response.content.split(b"\n"):
            if line:
                json.loads(line, parse_constant=_reject_constant)


def refused_only_by_listed_rules(ctx: Any, response: Any, case: Any) -> None:
    """positive_data_acceptance, but a 4xx whose every problem is one of the operation's listed rules passes."""
    try:
        positive_data_acceptance(ctx, response, case)
    except Failure:
        rules = rules_of(case.operation.definition.raw.get("description", ""))
        try:
            detail = json.loads(response.content)["detail"]
        except (ValueError, KeyError, TypeError):
            raise
        media_type = (case.media_type or "").partition(";")[0]
        if not (rules and detail and all(any(rule.matches(d, media_type) for rule in rules) for d in detail)):
            raise


FUZZ_SETTINGS = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
}
# exclude(), as include() would be OR-ed with the filter the CONFIG's [[operations]] entry installs
api = schema.exclude(path_regex="^/export/")
exports = schema.exclude(path_regex="^/(?!export/)")


@api.parametrize()
@settings(max_examples=30, **FUZZ_SETTINGS)
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(
        additional_checks=[finite_json, refused_only_by_listed_rules],
        excluded_checks=[positive_data_acceptance],
        timeout=TIMEOUT,
    )


@exports.parametrize()
@settings(max_examples=10, **FUZZ_SETTINGS)
def test_exports_conform_to_their_schema(case: Any) -> None:
    case.call_and_validate(
        additional_checks=[refused_only_by_listed_rules], excluded_checks=[positive_data_acceptance], timeout=TIMEOUT
    )
