"""GET /api/presets: the lecture's demos with their claims; each demo's scene runs."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from core.presets import PRESETS, STORIES
from core.scene_url import scene_from_query, scene_to_query


def test_presets_list_every_story_with_its_caption_scene_and_claims(client: TestClient) -> None:
    reply = client.get("/api/presets")
    assert reply.status_code == 200
    presets = reply.json()["presets"]
    assert [p["id"] for p in presets] == [p.id for p in PRESETS]
    assert sorted(p["story"] for p in presets) == sorted(STORIES)
    for preset in presets:
        assert preset["title"] and preset["caption"]
        # the query is written out in full: reading and writing it again gives it back
        assert scene_to_query(scene_from_query(preset["query"])) == preset["query"]
        assert preset["claims"] and all(claim["says"] in preset["caption"] for claim in preset["claims"])


def test_one_preset_by_id(client: TestClient) -> None:
    reply = client.get("/api/presets/valley")
    assert reply.status_code == 200
    assert reply.json()["story"] == "valley"


def test_an_unknown_preset_is_a_404_naming_the_known_ones(client: TestClient) -> None:
    reply = client.get("/api/presets/nope")
    assert reply.status_code == 404
    assert "expected one of: race-beale, lr, valley" in reply.json()["error"]


def test_every_preset_query_runs_as_a_race(client: TestClient) -> None:
    for preset in client.get("/api/presets").json()["presets"]:
        race = client.get(f"/api/race?{preset['query']}")
        assert race.status_code == 200, preset["id"]


def test_presets_are_cached_by_etag(client: TestClient) -> None:
    first = client.get("/api/presets")
    again = client.get("/api/presets", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_the_page_and_the_embed_take_a_demo_by_id(client: TestClient) -> None:
    valley = client.get("/api/presets/valley").json()
    page = html.unescape(client.get("/?preset=valley").text)
    assert f'href="/api/race?{valley["query"]}"' in page  # the demo's race is preloaded
    embed = client.get("/embed?preset=valley&steps=80")  # a scene key beside it replaces the demo's
    assert embed.status_code == 200
    assert valley["query"].replace("steps=150", "steps=80") in html.unescape(embed.text)


def test_an_unknown_demo_in_the_embed_is_a_422_naming_the_known_ones(client: TestClient) -> None:
    reply = client.get("/embed?preset=nope")
    assert reply.status_code == 422
    assert "unknown preset &#39;nope&#39;; expected one of: race-beale" in reply.text
