"""Short links over HTTP: POST /api/links, GET /api/links/{id}, GET /s/{id} (and .svg, .png), GET /api/qr.*.

Each test gets an app of its own (so a rate limiter of its own) on an empty database of each dialect
(test_links_store.py's ``database`` fixture: SQLite, and PostgreSQL from OPTIRACE_TEST_POSTGRES_URL). QR codes
are decoded with zxing-cpp: the PNG as served, the SVG after drawing its one path of module rows.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from core.scene import Scene
from core.scene_url import scene_from_query, scene_to_query
from server.app import create_app
from server.links import ROW_OVERHEAD_BYTES, candidate_ids, close_stores, open_store
from server.local import serving
from server.settings import get_settings
from tests.server.conftest import assert_error, strict_json
from tests.server.test_links_store import database  # noqa: F401  (the fixture: an empty database of each dialect)

SCENE = {"landscape": {"name": "bowl", "params": {"condition": 50}}, "steps": 200, "racers": [{"optimizer": "adam"}]}
QUERY = scene_to_query(Scene.model_validate(SCENE))
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``configure(links_burst=3, public_url=...)``: settings for this test, through OPTIRACE_* variables."""

    def set_values(**values: Any) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"OPTIRACE_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield set_values
    get_settings.cache_clear()


@pytest.fixture
def client(database: str, configure: Callable[..., None]) -> Iterator[TestClient]:  # noqa: F811
    """A new app whose links live in ``database``."""
    configure(database_url=database)
    with TestClient(create_app()) as test_client:
        yield test_client
    close_stores()


def create(client: TestClient, scene: dict[str, Any] = SCENE) -> dict[str, Any]:
    response = client.post("/api/links", json=scene)
    assert response.status_code == 200, response.text
    return strict_json(response.content)


# --- creating and opening -------------------------------------------------------------------------------
def test_a_scene_gets_a_short_link_to_its_page(client: TestClient) -> None:
    reply = create(client)
    assert set(reply) == {"id", "url", "query", "created"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,10}", reply["id"])
    assert reply["url"] == f"http://testserver/s/{reply['id']}"
    assert reply["query"] == QUERY
    assert reply["created"] is True
    response = client.get(f"/s/{reply['id']}", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == f"/?{QUERY}"
    assert scene_from_query(response.headers["location"][2:]).filled() == Scene.model_validate(SCENE).filled()


def test_the_embed_option_opens_the_slide_embed(client: TestClient) -> None:
    link_id = create(client)["id"]
    response = client.get(f"/s/{link_id}?embed=1&autoplay=1&theme=dark&qr=1", follow_redirects=False)
    assert response.headers["location"] == f"/embed?{QUERY}&autoplay=1&theme=dark&qr=1"
    assert client.get(response.headers["location"]).status_code == 200


def test_the_link_returns_its_scene(client: TestClient) -> None:
    link_id = create(client)["id"]
    response = client.get(f"/api/links/{link_id}")
    assert response.status_code == 200
    reply = strict_json(response.content)
    assert reply == {
        "id": link_id,
        "url": f"http://testserver/s/{link_id}",
        "query": QUERY,
        "scene": Scene.model_validate(SCENE).filled().model_dump(mode="json"),
    }
    assert client.get(f"/api/links/{link_id}", headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_the_same_scene_gets_the_same_id_as_json_as_a_query_and_as_a_page_url(client: TestClient) -> None:
    first = create(client)
    as_query = client.post("/api/links", content=QUERY, headers=TEXT).json()
    as_form = client.post(
        "/api/links", content=QUERY, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).json()
    as_url = client.post("/api/links", content=f"http://elsewhere:9/?{QUERY}&qr=1", headers=TEXT).json()
    short = client.post(  # the same scene with its defaults left out
        "/api/links", content="landscape=bowl&landscape.condition=50&steps=200&racer=adam", headers=TEXT
    ).json()
    assert first["created"] and not any(r["created"] for r in (as_query, as_form, as_url, short))
    assert {r["id"] for r in (first, as_query, as_form, as_url, short)} == {first["id"]}
    assert create(client, {**SCENE, "seed": 1})["id"] != first["id"]


def test_a_page_url_naming_a_demo_links_the_demos_scene(client: TestClient) -> None:
    from core.presets import PRESETS

    preset = PRESETS[0]
    by_url = client.post("/api/links", content=f"http://127.0.0.1:8000/?preset={preset.id}&qr=1", headers=TEXT)
    assert by_url.status_code == 200, by_url.text
    assert by_url.json()["id"] == client.post("/api/links", content=preset.query, headers=TEXT).json()["id"]
    assert_error(client.post("/api/links", content="http://x/?preset=nope", headers=TEXT), 422, "nope")


def test_a_link_survives_a_restart(client: TestClient, database: str) -> None:  # noqa: F811
    link_id = create(client)["id"]
    close_stores()  # the process ends: its connections go
    with TestClient(create_app()) as restarted:
        assert restarted.get(f"/s/{link_id}", follow_redirects=False).headers["location"] == f"/?{QUERY}"
        assert restarted.post("/api/links", json=SCENE).json() == {
            "id": link_id,
            "url": f"http://testserver/s/{link_id}",
            "query": QUERY,
            "created": False,
        }


def test_fifty_concurrent_clients_creating_one_scene_make_one_link(client: TestClient, database: str) -> None:  # noqa: F811
    start = threading.Barrier(50)

    def post(n: int) -> dict[str, Any]:
        with TestClient(client.app, client=(f"10.0.0.{n}", 40000)) as own:
            start.wait(timeout=60)
            return own.post("/api/links", json=SCENE).json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(post, range(50)))
    assert {r["id"] for r in replies} == {candidate_ids(QUERY)[0]}
    assert sum(r["created"] for r in replies) == 1
    store = open_store(database)
    assert store.count() == 1
    assert store.usage().links == 1


def test_fifty_concurrent_clients_of_a_live_server_make_one_link(
    database: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against ``optirace serve --workers 2``: two processes, fifty connections at once, one row."""
    monkeypatch.setenv("OPTIRACE_DATABASE_URL", database)
    monkeypatch.setenv("OPTIRACE_LINKS_BURST", "100")  # all from 127.0.0.1: each may find no link and take a token
    with serving(workers=2) as server:
        start = threading.Barrier(50)

        def post(_: int) -> dict[str, Any]:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                start.wait(timeout=60)
                response = http.post("/api/links", json=SCENE)
                assert response.status_code == 200, response.text
                return response.json()

        with ThreadPoolExecutor(max_workers=50) as pool:
            replies = list(pool.map(post, range(50)))
        with httpx.Client(base_url=server.url) as http:
            opened = http.get(f"/s/{replies[0]['id']}", follow_redirects=False)
    assert {r["id"] for r in replies} == {candidate_ids(QUERY)[0]}
    assert sum(r["created"] for r in replies) == 1
    assert opened.headers["location"] == f"/?{QUERY}"
    close_stores()
    assert open_store(database).count() == 1


# --- limits -----------------------------------------------------------------------------------------------
def test_creation_is_rate_limited_per_client(client: TestClient, configure: Callable[..., None]) -> None:
    configure(links_burst=3, links_per_minute=1)
    for seed in range(3):
        assert create(client, {**SCENE, "seed": seed})["created"]
    response = client.post("/api/links", json={**SCENE, "seed": 3})
    assert_error(response, 429, "too many new links", "try again in")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert strict_json(response.content)["detail"][0]["type"] == "rate_limited"
    assert create(client, {**SCENE, "seed": 0})["created"] is False  # asking again for a link costs nothing
    with TestClient(client.app, client=("10.1.2.3", 50000)) as other:
        assert create(other, {**SCENE, "seed": 3})["created"]  # another client has a bucket of its own


def test_a_scene_too_large_for_a_link_is_refused(client: TestClient, configure: Callable[..., None]) -> None:
    configure(links_max_scene_bytes=len(QUERY) - 1)
    assert_error(client.post("/api/links", json=SCENE), 413, f"{len(QUERY)} bytes", str(len(QUERY) - 1), loc=["body"])
    configure(links_max_scene_bytes=len(QUERY))
    assert create(client)["created"]


def test_full_storage_refuses_new_links_with_507(client: TestClient, configure: Callable[..., None]) -> None:
    configure(links_max_storage_bytes=len(QUERY) + ROW_OVERHEAD_BYTES)
    link_id = create(client)["id"]
    response = client.post("/api/links", json={**SCENE, "seed": 1})
    assert_error(response, 507, "link storage is full")
    assert client.get(f"/s/{link_id}", follow_redirects=False).status_code == 302  # links made still open
    assert create(client)["id"] == link_id


# --- bad input ----------------------------------------------------------------------------------------------
BAD_IDS = ["short", "waytoolongtobeanid", "AbCd%21f12", "..%2F..%2Fetc", "%2e%2e%2f%2e%2e", "AAAAAAAA", "AAAA.AAAA"]


@pytest.mark.parametrize("bad_id", BAD_IDS)
@pytest.mark.parametrize("route", ["/s/{}", "/s/{}.svg", "/s/{}.png", "/api/links/{}"])
def test_an_unknown_or_malformed_id_is_404(client: TestClient, route: str, bad_id: str) -> None:
    create(client)
    response = client.get(route.format(bad_id), follow_redirects=False)
    assert_error(response, 404)
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("body", "headers", "loc", "words"),
    [
        ({"racers": [{"optimizer": "adam", "params": {"lr": -1}}]}, None, ["body", "racers", 0], ["lr", "[0, inf)"]),
        ({"landscape": {"name": "nowhere"}}, None, ["body", "landscape"], ["unknown landscape", "rosenbrock"]),
        ({"steps": "500"}, None, ["body", "steps"], ["integer"]),
        ({"stepz": 5}, None, ["body", "stepz"], ["Extra inputs"]),
        ("racer=adam;lr=x", TEXT, ["body", "racers", 0], ["adam.lr"]),
        ("landscape=bowl&width=3", TEXT, ["body"], ["unknown query key 'width'"]),
        ("steps=many", TEXT, ["body"], ["steps must be an integer"]),
    ],
)
def test_a_bad_scene_is_422_naming_the_field(
    client: TestClient, body: Any, headers: dict[str, str] | None, loc: list[Any], words: list[str]
) -> None:
    if headers:
        response = client.post("/api/links", content=body, headers=headers)
    else:
        response = client.post("/api/links", json=body)
    assert_error(response, 422, *words, loc=loc)
    assert client.post("/api/links", json=SCENE).json()["created"]  # nothing of the bad one was kept


def test_a_body_that_is_not_a_scene_is_415(client: TestClient) -> None:
    response = client.post("/api/links", content=b"\x89PNG", headers={"Content-Type": "image/png"})
    assert_error(response, 415, "application/json", "text/plain", "'image/png'", loc=["header", "content-type"])


# --- no open redirect ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/s//evil.example",
        "/s/%2F%2Fevil.example",
        "/s/http:%2F%2Fevil.example",
        "/s/@evil.example",
        "/s/AAAAAAAA/..%2F..%2Fevil",
        "/s/\\evil.example",
    ],
)
def test_hostile_short_paths_are_404_and_redirect_nowhere(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers


def test_the_redirect_goes_to_this_servers_page_whatever_the_request_says(client: TestClient) -> None:
    link_id = create(client)["id"]
    hostile = (
        f"/s/{link_id}?next=https://evil.example&url=//evil.example&embed=1&theme=//evil.example"
        "&speed=https://evil.example&qr=javascript:alert(1)&autoplay=1"
    )
    headers = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "203.0.113.9"}
    response = client.get(hostile, headers=headers, follow_redirects=False)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location == f"/embed?{QUERY}&autoplay=1"  # relative: this server; only a harmless option kept
    assert "evil" not in location


def test_the_public_url_makes_absolute_links_behind_a_proxy(client: TestClient, configure: Callable[..., None]) -> None:
    configure(public_url="https://optirace.example.org/class/")
    reply = create(client)
    assert reply["url"] == f"https://optirace.example.org/class/s/{reply['id']}"
    response = client.get(f"/s/{reply['id']}", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.headers["location"] == f"https://optirace.example.org/class/?{QUERY}"
    assert decode_png(client.get(f"/s/{reply['id']}.png").content) == reply["url"]


def test_a_public_url_that_is_not_one_is_named(client: TestClient, configure: Callable[..., None]) -> None:
    configure(public_url="javascript:alert(1)")
    assert_error(client.post("/api/links", json=SCENE), 503, "OPTIRACE_PUBLIC_URL")


def test_an_unusable_database_is_503_naming_it(client: TestClient, configure: Callable[..., None]) -> None:
    configure(database_url="mysql://someone@db/links")
    response = client.post("/api/links", json=SCENE)
    assert_error(response, 503, "link storage is unavailable", "OPTIRACE_DATABASE_URL")
    assert_error(client.get("/s/AAAAAAAA"), 503, "OPTIRACE_DATABASE_URL")


# --- QR codes -------------------------------------------------------------------------------------------------
def decode_png(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def rasterize_svg(svg: bytes, scale: int = 8) -> Image.Image:
    """segno's SVG drawn as it is written: a viewBox, a white background, and one path of module rows, each a
    stroke one module wide along ``y + 0.5`` (``M``/``m`` moves, ``h`` runs). Anything else fails the test."""
    text = svg.decode()
    width, height = (int(v) for v in re.search(r'viewBox="0 0 (\d+) (\d+)"', text).groups())
    (path,) = re.findall(r'<path stroke="#000" d="([^"]+)"', text)
    image = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHh])([^MmHh]*)", path):
        values = [float(v) for v in numbers.replace(",", " ").split()]
        if command in "Mm":
            dx, dy = values
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        else:
            (run,) = values
            end = run if command == "H" else x + run
            top = (y - 0.5) * scale
            draw.rectangle([min(x, end) * scale, top, max(x, end) * scale - 1, top + scale - 1], fill=0)
            x = end
    return image


def decode_svg(svg: bytes) -> str:
    buffer = io.BytesIO()
    rasterize_svg(svg).save(buffer, format="PNG")
    return decode_png(buffer.getvalue())


def test_the_svg_qr_code_decodes_to_the_short_url(client: TestClient) -> None:
    reply = create(client)
    response = client.get(f"/s/{reply['id']}.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert decode_svg(response.content) == reply["url"]


def test_the_png_qr_code_decodes_to_the_short_url(client: TestClient) -> None:
    reply = create(client)
    response = client.get(f"/s/{reply['id']}.png?scale=4")
    assert response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (37 * 4, 37 * 4)  # version 3: 29 modules + 2 × 4 border
    assert decode_png(response.content) == reply["url"]


@pytest.mark.parametrize("page", ["/?landscape=bowl&steps=90", "/embed?landscape=saddle&autoplay=1", "/"])
def test_any_page_of_this_server_has_a_qr_code(client: TestClient, page: str) -> None:
    svg = client.get("/api/qr.svg", params={"url": page})
    assert svg.status_code == 200, svg.text
    assert decode_svg(svg.content) == f"http://testserver{page}"
    png = client.get("/api/qr.png", params={"url": f"http://testserver{page}", "scale": 3})
    assert decode_png(png.content) == f"http://testserver{page}"


def test_a_short_links_qr_code_is_one_of_this_servers_pages(client: TestClient) -> None:
    reply = create(client)
    assert decode_svg(client.get("/api/qr.svg", params={"url": reply["url"]}).content) == reply["url"]
    assert_error(client.get("/api/qr.svg", params={"url": "/s/AAAAAAAA"}), 404, "no short link")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "//evil.example/",
        "http://testserver@evil.example/",
        "http://testserver.evil.example/",
        "https://testserver/",  # another scheme is another origin
        "/docs",
        "/export/race.gif",
        "/\\evil.example",
        "/s/AAAA/../../x",
        "javascript:alert(1)",
        "/?a=1#fragment",
        "http://testserver\uff0fevil.example/",  # a fullwidth '/' that NFKC normalization makes a real one
        "http://a\uff03b/",
        "http://\u2100/",
    ],
)
def test_the_qr_code_of_any_other_url_is_refused(client: TestClient, url: str) -> None:
    assert_error(client.get("/api/qr.svg", params={"url": url}), 422, "url", loc=["query", "url"])


def test_a_url_too_long_for_a_qr_code_says_to_make_a_short_link(client: TestClient) -> None:
    long_page = "/?" + "&".join(f"racer=adam;lr=0.{i:04d}" for i in range(170))
    assert_error(client.get("/api/qr.svg", params={"url": long_page}), 422, "short link", loc=["query", "url"])


def test_reading_a_link_never_writes(client: TestClient, database: str) -> None:  # noqa: F811
    from sqlalchemy import event

    link_id = create(client)["id"]
    statements: list[str] = []
    event.listen(open_store(database).engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for path in (f"/s/{link_id}", f"/s/{link_id}.svg", f"/s/{link_id}.png", f"/api/links/{link_id}", "/s/AAAAAAAA"):
        client.get(path, follow_redirects=False)
    client.post("/api/links", json=SCENE)  # exists: a read
    assert statements
    assert [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "BEGIN"))] == []


def test_the_data_directory_is_made_on_first_use(configure: Callable[..., None], tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "optirace"
    configure(data_dir=data_dir, database_url="")
    with TestClient(create_app()) as fresh:
        fresh.get("/healthz")
        fresh.get("/?" + quote(QUERY, safe="=&;,"))
        assert not data_dir.exists()  # nothing about links asked yet
        assert create(fresh)["created"]
    assert (data_dir / "links.sqlite3").is_file()
    close_stores()
