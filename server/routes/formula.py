"""A typed formula, checked: POST /api/landscapes/custom/check (the page's live validation of the formula field).

The reply is what the page shows beside a formula that passes: f and its derivatives as text and LaTeX,
the domain, minima, saddles and default start that the race will use. A formula that does not pass is
a 422 naming ``body.f`` and, in the message, the position of the problem ("unknown name 'os' at 1").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from core import formula
from core.landscapes import CUSTOM_PARAMS, CUSTOM_RANGE, LANDSCAPES, FormulaLandscape, Landscape
from server.responses import POST_ERRORS, error_body, json_reply, ok
from server.schemas import CUSTOM_LANDSCAPE, FormulaCheckReply, states
from server.strict import strict_json

router = APIRouter(prefix="/api/landscapes/custom", tags=["landscapes"])

Bound = Annotated[float, Field(ge=-CUSTOM_RANGE, le=CUSTOM_RANGE)]
_DEFAULTS = {spec.name: spec.default for spec in CUSTOM_PARAMS}


class FormulaCheck(BaseModel):
    """A formula f(x, y) and, optionally, its domain (default: x and y in [-3, 3])."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    f: str = Field(max_length=formula.MAX_LENGTH, examples=["x^2 + 10*y^2"])
    x: tuple[Bound, Bound] = Field(_DEFAULTS["x"], description="the domain's x range, low < high")
    y: tuple[Bound, Bound] = Field(_DEFAULTS["y"], description="the domain's y range, low < high")


def checked(entry: Landscape) -> dict[str, Any]:
    """The check's reply for a custom landscape's entry."""
    assert isinstance(entry, FormulaLandscape) and entry.compiled is not None
    compiled = entry.compiled
    d = entry.domain
    return {
        "f": entry.formula,
        "canonical": compiled.canonical,
        "text": compiled.text_forms(),
        "latex": compiled.latex_forms(),
        "domain": {"x": [d.xmin, d.xmax], "y": [d.ymin, d.ymax]},
        "start": list(entry.start),
        "minima": [{"point": list(m.point), "value": m.value, "kind": m.kind} for m in entry.minima],
        "saddles": [list(point) for point in entry.saddles],
        "tolerance": entry.tolerance,
        "radius": entry.radius,
        "log_scale": entry.log_scale,
        "instructions": compiled.program.size,
    }


@router.post(
    "/check",
    dependencies=[strict_json(FormulaCheck)],
    summary="Check a formula for the custom landscape",
    responses={**ok(checked(LANDSCAPES["custom"]), FormulaCheckReply), **POST_ERRORS},
)
@states(CUSTOM_LANDSCAPE)
def check(
    request: Annotated[FormulaCheck, Body(examples=[{"f": "(1 - x)^2 + 100*(y - x^2)^2", "x": [-2, 2], "y": [-1, 3]}])],
) -> Response:
    """Parse and differentiate ``f``, find its minima and saddles on the domain: what ``landscape=custom`` will race on.

    A refusal is a 422 whose message names the problem and its 1-based position in ``f``.
    """
    params = {"f": request.f, "x": request.x, "y": request.y}
    try:
        entry = LANDSCAPES["custom"].resolve(params)
    except ValueError as error:
        body = error_body(str(error), ["body", _field(str(error))], "formula_error", request.f)
        return JSONResponse(status_code=422, content=body)
    return json_reply(checked(entry))


def _field(message: str) -> str:
    """The parameter a refusal is about: custom.x or custom.y, else the formula."""
    return "x" if "custom.x" in message else "y" if "custom.y" in message else "f"
