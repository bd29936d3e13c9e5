"""Serving: gzip (streams by their own route), ETag/Cache-Control/304 on deterministic GETs, CORS, security headers."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from server.middleware import SecurityHeadersMiddleware
from tests.server.conftest import strict_json

CACHED_GETS = [
    "/api/landscapes",
    "/api/landscapes/bowl",
    "/api/landscapes/bowl/contours?levels=4&resolution=16&condition=30",
    "/api/optimizers",
    "/api/schedules",
    "/api/race?steps=20&racer=adam;lr=0.1",
]
GZIP = {"accept-encoding": "gzip"}
SLIDES = "https://slides.example.org"


# --- gzip -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/optimizers"), ("POST", "/api/race")])
def test_json_replies_are_gzipped_when_asked(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=GZIP, json={} if method == "POST" else None)
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content)  # httpx has unzipped it
    strict_json(response.content)


def test_small_replies_are_not_gzipped(client: TestClient) -> None:
    assert "content-encoding" not in client.get("/healthz", headers=GZIP).headers


def test_streams_are_gzipped_once_by_their_route_not_by_the_middleware(client: TestClient) -> None:
    """The middleware would hold a stream's small writes back; the route flushes every frame itself."""
    response = client.post("/api/race/stream", json={"steps": 2000}, headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"  # one coding, decoded once below
    assert [json.loads(line)["type"] for line in response.text.splitlines()][::10][:2] == ["header", "chunk"]


# --- caching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CACHED_GETS)
def test_deterministic_gets_carry_an_etag_and_cache_control(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert client.get(path).headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize("path", CACHED_GETS)
def test_a_matching_if_none_match_gets_a_bodyless_304(client: TestClient, path: str) -> None:
    etag = client.get(path).headers["etag"]
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(path, headers={"if-none-match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == etag


def test_a_stale_etag_gets_the_reply(client: TestClient) -> None:
    response = client.get("/api/optimizers", headers={"if-none-match": '"0123"'})
    assert response.status_code == 200 and response.content


def test_the_etag_follows_the_content(client: TestClient) -> None:
    first = client.get("/api/landscapes/bowl/contours?levels=4&resolution=16&condition=30").headers["etag"]
    other = client.get("/api/landscapes/bowl/contours?levels=4&resolution=16&condition=31").headers["etag"]
    assert first != other


def test_posted_races_are_not_marked_cacheable(client: TestClient) -> None:
    response = client.post("/api/race", json={"steps": 5})
    assert "etag" not in response.headers and "cache-control" not in response.headers


# --- CORS ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/landscapes", "/api/race?steps=5", "/healthz"])
def test_any_origin_may_read_the_api(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"origin": SLIDES})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "etag" in response.headers["access-control-expose-headers"].lower() or path == "/healthz"


def test_another_origin_may_read_when_to_retry_a_busy_export(client: TestClient) -> None:
    response = client.get("/api/landscapes", headers={"origin": SLIDES})
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()


def test_a_preflight_for_a_posted_race_is_allowed(client: TestClient) -> None:
    headers = {
        "origin": SLIDES,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    response = client.options("/api/race/stream", headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


# --- security headers ---------------------------------------------------------------------------------


def test_json_replies_are_nosniff_and_carry_no_page_policy(client: TestClient) -> None:
    response = client.get("/api/optimizers")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/docs", "/embed"])
def test_pages_forbid_inline_script_and_frame_only_the_embed(client: TestClient, path: str) -> None:
    response = client.get(path)
    if response.status_code == 404:
        pytest.skip(f"{path} is not served yet")
    assert response.headers["content-type"].startswith("text/html")
    policy = _directives(response.headers["content-security-policy"])
    assert policy["script-src"] == "script-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    if path == "/embed":
        assert "frame-ancestors" not in policy  # any deck may frame it, one opened from file:// too
        assert "x-frame-options" not in response.headers
    else:
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/", "/docs", "/embed"])
def test_pages_hold_no_inline_script_and_load_nothing_from_elsewhere(client: TestClient, path: str) -> None:
    response = client.get(path)
    if response.status_code == 404:
        pytest.skip(f"{path} is not served yet")
    html = response.text
    for attributes in re.findall(r"<script\b([^>]*)>", html):
        if "src=" not in attributes:  # only data blocks may sit inline: the CSP would block code
            assert re.search(r'type="application/(ld\+)?json"', attributes), attributes
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"(https?:)?//", url), f"{path} loads {url}"
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url


def _page_app() -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse("<p>page</p>")

    return Starlette(routes=[Route(path, page) for path in ("/", "/embed", "/embed/deck", "/embedded")])


@pytest.mark.parametrize(
    ("path", "frameable"), [("/", False), ("/embed", True), ("/embed/deck", True), ("/embedded", False)]
)
def test_only_the_embed_and_below_may_be_framed(path: str, frameable: bool) -> None:
    client = TestClient(SecurityHeadersMiddleware(_page_app()))
    response = client.get(path)
    ancestors = _directives(response.headers["content-security-policy"]).get("frame-ancestors")
    assert ancestors == (None if frameable else "frame-ancestors 'none'")
    assert ("x-frame-options" in response.headers) is not frameable


def test_the_docs_are_served_from_here(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui" in html
    assert client.get("/openapi.json").status_code == 200
