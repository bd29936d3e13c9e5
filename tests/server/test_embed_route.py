"""GET /embed: the slide embed's page, its headers, its inlined data, its options and a bad scene."""

from __future__ import annotations

import json
import math
import re

import pytest
from fastapi.testclient import TestClient

from core.scene_url import scene_from_query, scene_to_query
from server.routes.pages import STREAM_ABOVE

SCENE = "landscape=bowl&steps=40&racer=sgd;lr=0.1&racer=adam;lr=0.2;label=A%26B%20%3C%2Fscript%3E"


def data_of(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="embed-data">(.*?)</script>', html, re.S)
    assert block, "no embed-data block"
    return json.loads(block.group(1))


def test_embed_is_html_that_any_page_may_frame(client: TestClient) -> None:
    reply = client.get(f"/embed?{SCENE}")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    csp = reply.headers["content-security-policy"]
    assert "frame-ancestors" not in csp  # any deck, file:// included ('*' would leave file:// out)
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "x-frame-options" not in reply.headers


def test_embed_has_no_inline_script_or_style(client: TestClient) -> None:
    html = client.get(f"/embed?{SCENE}").text
    assert not re.search(r"<script(?![^>]*\b(type=\"application/json\"|src=))", html)
    assert "<style" not in html and " style=" not in html
    assert '<script type="module" src="/static/embed.js"></script>' in html


def test_embed_inlines_the_race_contours_and_landscape(client: TestClient) -> None:
    data = data_of(client.get(f"/embed?{SCENE}").text)
    assert data["landscape"]["name"] == "bowl"
    assert set(data["landscape"]["domain"]) == {"x", "y"}
    assert data["race"]["scene"]["steps"] == 40
    assert [r["label"] for r in data["race"]["racers"]] == ["SGD", "A&B </script>"]
    assert len(data["race"]["racers"][0]["path"]) == 41
    assert data["contours"]["grid"]["nx"] * data["contours"]["grid"]["ny"] == len(data["contours"]["grid"]["z"])
    assert data["query"] == scene_to_query(scene_from_query(SCENE))


def test_the_data_block_cannot_end_early(client: TestClient) -> None:
    html = client.get(f"/embed?{SCENE}").text
    block = html.split('id="embed-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block


def test_embed_options_are_not_part_of_the_scene(client: TestClient) -> None:
    plain = client.get(f"/embed?{SCENE}").text
    with_options = client.get(f"/embed?{SCENE}&autoplay=1&loop=1&controls=0&theme=dark&speed=2").text
    assert data_of(with_options) == data_of(plain)
    assert f'href="/?{data_of(plain)["query"].replace("&", "&amp;")}"' in with_options


def test_bad_option_values_do_not_stop_the_embed(client: TestClient) -> None:
    reply = client.get(f"/embed?{SCENE}&autoplay=maybe&speed=99&theme=purple&controls=")
    assert reply.status_code == 200  # the page warns in the console and uses the defaults
    assert '<html lang="en" data-theme="light">' in reply.text


@pytest.mark.parametrize(
    ("theme", "attribute"),
    [("dark", ' data-theme="dark"'), ("light", ' data-theme="light"'), ("auto", ""), (None, ' data-theme="light"')],
)
def test_the_theme_is_set_before_any_script_runs(client: TestClient, theme: str | None, attribute: str) -> None:
    html = client.get(f"/embed?{SCENE}" + (f"&theme={theme}" if theme else "")).text
    assert f'<html lang="en"{attribute}>' in html


def test_the_link_back_opens_the_full_page_with_the_same_scene(client: TestClient) -> None:
    html = client.get(f"/embed?{SCENE}&autoplay=1").text
    link = re.search(r'<a class="open" id="open" href="([^"]+)" target="_blank" rel="noopener"', html)
    assert link
    assert link.group(1).replace("&amp;", "&") == "/?" + scene_to_query(scene_from_query(SCENE))


def test_modules_are_preloaded(client: TestClient) -> None:
    html = client.get(f"/embed?{SCENE}").text
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/([\w-]+\.js)">', html)
    assert {"embed.js", "player.js", "race.js", "animate.js", "plot.js", "embed-snippet.js"} <= set(preloaded)


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("landscape=nope", "landscape", "unknown landscape"),
        ("racer=adam;lr=-1", "racers.0", "adam.lr"),
        ("steps=lots", "steps", "integer"),
        ("colour=red", "colour", "unknown query key"),
    ],
)
def test_a_bad_scene_answers_422_html_naming_the_field(client: TestClient, query: str, field: str, words: str) -> None:
    reply = client.get(f"/embed?{query}&theme=dark")
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("text/html")
    assert "frame-ancestors" not in reply.headers["content-security-policy"]
    message = re.search(r'<p class="message">(.*?)</p>', reply.text, re.S)
    assert message and field in message.group(1) and words in message.group(1), reply.text
    assert "Value error," not in message.group(1)
    assert "embed-data" not in reply.text and "/static/embed.js" not in reply.text
    assert '<html lang="en" data-theme="dark">' in reply.text
    # the link to the full page keeps the scene, not the embed's options
    link = re.search(r'<a href="([^"]+)" target="_blank"', reply.text)
    assert link and "theme" not in link.group(1) and link.group(1).startswith("/?")


def test_a_bad_scene_is_escaped_in_the_message(client: TestClient) -> None:
    reply = client.get("/embed?landscape=%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert reply.status_code == 422
    assert "<img" not in reply.text and "&lt;img" in reply.text


# --- large races: streamed, not inlined ------------------------------------------------------------------------

# The largest race a scene may ask for: 16 racers × 20 000 steps. Inlined, its embed was 10.9 MB of HTML.
RACERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax", "lion")
LARGEST = "landscape=rosenbrock&steps=20000" + "".join(f"&racer={RACERS[i % len(RACERS)]}" for i in range(16))
# Contours (~130 kB) and markup; the stream's header for 16 racers is a few kB more.
LARGE_PAGE_BYTES = 250_000


def test_a_large_race_is_not_inlined_and_its_page_stays_small(client: TestClient) -> None:
    reply = client.get(f"/embed?{LARGEST}")
    assert reply.status_code == 200
    assert len(reply.content) < LARGE_PAGE_BYTES, len(reply.content)
    data = data_of(reply.text)
    assert data["race"] is None
    assert '"path"' not in reply.text and '"loss"' not in reply.text
    header = data["header"]
    assert header["type"] == "header"
    assert header["scene"]["steps"] == 20_000 and len(header["racers"]) == 16
    assert data["landscape"]["name"] == "rosenbrock" and data["contours"]["lines"]
    assert data["query"] == scene_to_query(scene_from_query(LARGEST))


HALF = math.ceil(STREAM_ABOVE / 2)


@pytest.mark.parametrize(("steps", "streamed"), [(HALF - 1, False), (HALF, True)])
def test_races_of_the_pages_stream_threshold_are_streamed(client: TestClient, steps: int, streamed: bool) -> None:
    """Two racers: the page's STREAM_ABOVE racer-steps and more are streamed, fewer inlined (as the page does)."""
    data = data_of(client.get(f"/embed?landscape=bowl&steps={steps}&racer=sgd&racer=adam").text)
    assert (data["race"] is None) == streamed
    assert ("header" in data) == streamed


def test_the_inlined_header_is_the_streams_own_first_line(client: TestClient) -> None:
    """The embed builds its empty race from the inlined header and posts the header's scene to the stream."""
    data = data_of(client.get("/embed?landscape=bowl&steps=3000&racer=sgd;lr=0.1&racer=adam;label=A%20%3C%2Fb%3E").text)
    reply = client.post("/api/race/stream", json=data["header"]["scene"])
    assert reply.status_code == 200
    assert json.loads(reply.content.split(b"\n", 1)[0]) == data["header"]
    assert data["landscape"]["minima"] == data["header"]["minima"]
    assert data["landscape"]["start"] == data["header"]["scene"]["start"]


def test_the_embeds_policy_lets_it_fetch_its_race(client: TestClient) -> None:
    csp = client.get("/embed?landscape=bowl&steps=3000&racer=sgd&racer=adam").headers["content-security-policy"]
    assert "connect-src 'self'" in csp
