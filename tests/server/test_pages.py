"""The race page's HTML: the first requests it will make are preloaded, whatever view keys its address has."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from core.scene_url import scene_from_query, scene_to_query

SCENE = "landscape=bowl&steps=60&racer=sgd;lr=1&racer=adam;lr=0.4"


def preloaded(client: TestClient, query: str) -> list[str]:
    html = client.get(f"/?{query}").text
    return re.findall(r'<link rel="preload" href="([^"]+)"', html)


def test_presenter_mode_and_the_lr_multiplier_keep_the_preloads(client: TestClient) -> None:
    plain = preloaded(client, SCENE)
    assert any(url.startswith("/api/race?") for url in plain)
    assert preloaded(client, f"{SCENE}&lrscale=2&present=1&qr=1") == plain
    # the race preloaded is the scene's, with the lrs the page will send (lrscale is not part of it)
    race = next(url for url in plain if url.startswith("/api/race?"))
    assert race.replace("&amp;", "&") == f"/api/race?{scene_to_query(scene_from_query(SCENE))}"


def test_page_data_carries_markers_suggested_lrs_and_saddles(client: TestClient) -> None:
    html = client.get("/").text
    assert '"marker":"diamond"' in html and '"suggested_lr":{' in html and '"saddles":[[0,0]]' in html
