"""HTML pages: the race page (/), the slide embed (/embed) and the API docs (/docs)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from server.paths import TEMPLATES

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI from static/vendor, pointed at the OpenAPI schema."""
    return templates.TemplateResponse(request, "docs.html", {"openapi_url": request.app.openapi_url})
