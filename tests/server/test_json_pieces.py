"""Replies are written by orjson a piece at a time (so that no call holds the GIL for long), and the pieces join
to exactly the bytes one orjson call writes."""

from __future__ import annotations

import math

import orjson
import pytest

from core.race import run
from core.scene import Scene
from server.responses import dumps


@pytest.mark.parametrize(
    "content",
    [
        {},
        [],
        {"a": []},
        {"a": [1]},
        {'é "quoted" \\ key': ["ü", None, True, 1.5e-300, -0.0, math.nan, math.inf]},
        {"racers": [{"path": [[0.1, 0.2], [math.nan, 1e308]], "status": "diverged"}, {"x": {"y": {"z": [1, 2]}}}]},
        [[[[1, 2], [3]], {"k": 1}], "s", 7],
        {1: "an int key orjson refuses"},
    ],
)
def test_the_pieces_join_to_the_bytes_of_one_orjson_call(content: object) -> None:
    try:
        whole = orjson.dumps(content)
    except TypeError:
        with pytest.raises(TypeError):
            dumps(content)
        return
    assert dumps(content) == whole


def test_a_large_race_reply_is_byte_for_byte_one_orjson_call() -> None:
    racers = [{"optimizer": "adam"}, {"optimizer": "sgd", "params": {"lr": 10.0}}]  # the second diverges
    reply = run(Scene.model_validate({"racers": racers, "steps": 3000}))
    assert [r["status"] for r in reply["racers"]][1] == "diverged"
    assert dumps(reply) == orjson.dumps(reply)
