"""Every caption's every claim holds against the real race; every sentence of a caption is backed by a claim."""

from __future__ import annotations

import re

import pytest

from core import measures
from core.presets import CHECKS, PRESETS, STORIES, check, check_preset, claim_scene, get_preset, scene_of
from core.race import run
from core.scene_url import scene_to_query


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.id)
def test_every_claim_of_the_caption_holds_in_the_race(preset) -> None:
    failures = [f"{claim['says']!r}: {detail}" for claim, ok, detail in check_preset(preset) if not ok]
    assert not failures, f"{preset.id}: " + "; ".join(failures)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.id)
def test_every_claim_quotes_its_caption(preset) -> None:
    for claim in preset.claims:
        assert claim["says"] in preset.caption, claim["says"]
        assert claim["check"] in CHECKS


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.id)
def test_every_sentence_of_the_caption_is_backed_by_a_claim(preset) -> None:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", preset.caption) if s]
    for sentence in sentences:
        assert any(claim["says"] in sentence for claim in preset.claims), f"{preset.id}: no claim behind {sentence!r}"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.id)
def test_claims_name_racers_of_the_scene(preset) -> None:
    labels = {racer.label for racer in preset.scene().racers}
    for claim in preset.claims:
        for key in ("racer", "than", "to_racer"):
            if key in claim:
                assert claim[key] in labels, f"{preset.id}: {claim[key]!r} not in {labels}"
        for label in claim.get("racers", ()):
            assert label in labels


def test_each_story_of_the_lecture_has_exactly_one_preset() -> None:
    assert sorted(p.story for p in PRESETS) == sorted(STORIES)
    assert len({p.id for p in PRESETS}) == len(PRESETS)


def test_the_four_races_use_the_lecture_optimizers_in_their_default_colours() -> None:
    for story in ("race-beale", "race-rosenbrock", "race-saddle"):
        preset = next(p for p in PRESETS if p.story == story)
        racers = preset.scene().racers
        assert [r.optimizer for r in racers] == ["sgd", "momentum", "rmsprop", "adam"]
        assert "color=" not in preset.query  # the optimizers' own colours (SGD red, Momentum blue, …)


def test_a_claim_that_is_false_is_reported_false() -> None:
    preset = get_preset("lr-too-large")
    result = run(preset.scene())
    assert check({"says": "", "check": "status", "racer": "SGD", "is": "arrived"}, result) == (False, "SGD: diverged")
    ok, _ = check({"says": "", "check": "arrives_first", "racer": "SGD"}, result)
    assert not ok
    ok, _ = check({"says": "", "check": "gap_order", "racers": ["SGD", "Adam"]}, result)
    assert not ok  # a diverged racer's gap is infinite: it can only come last


def test_variants_scale_every_lr_and_replace_query_keys() -> None:
    preset = get_preset("rotated")
    claim = {"says": "", "check": "status", "racer": "SGD", "is": "running", "with": {"landscape.angle": "0"}}
    assert claim_scene(preset, claim).landscape.params["angle"] == 0
    halved = scene_of(preset.query, lr_scale=0.5)
    assert [r.params["lr"] for r in halved.racers] == [r.params["lr"] * 0.5 for r in preset.scene().racers]


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown preset 'nope'; expected one of: race-beale"):
        get_preset("nope")


def test_to_json_writes_the_scene_out_in_full() -> None:
    preset = get_preset("valley")
    data = preset.to_json()
    assert data["query"] == scene_to_query(preset.scene())
    assert data["claims"] and data["story"] == "valley"
    assert "claims" not in preset.to_json(with_claims=False)


# --- the measures, by hand ---------------------------------------------------------------------------

ZIGZAG = [[0, 1], [1, -1], [2, 1], [3, -1], [4, 1]]


def test_reversals_count_turns_of_more_than_90_degrees() -> None:
    assert measures.reversals(ZIGZAG) == 3  # (1,-2)·(1,2) < 0 at every turn
    assert measures.reversals([[0, 0], [1, 0], [2, 0]]) == 0
    assert measures.reversals([[0, 0], [1, 0], [0, 0], [1, 0]]) == 2


def test_cross_flips_and_travel_measure_the_zigzag_across_a_valley() -> None:
    assert measures.cross_flips(ZIGZAG, (0, 1)) == 3
    assert measures.cross_flips(ZIGZAG, (1, 0)) == 0
    assert measures.cross_travel(ZIGZAG, (0, 1)) == 8
    assert measures.cross_flips(ZIGZAG, (0, 1), window=(0, 1)) == 1  # steps 0 and 1 only


def test_path_ratio_is_one_for_a_straight_line() -> None:
    assert measures.path_ratio([[0, 0], [1, 1], [2, 2]]) == pytest.approx(1.0)
    assert measures.path_ratio(ZIGZAG) == pytest.approx(4 * 5**0.5 / 4)
