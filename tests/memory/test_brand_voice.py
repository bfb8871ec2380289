"""Brand voice: training from good/bad examples + guidelines, and scoring held-out drafts.

The data (tests/memory/data/brand_voice_quillmoss.json) is a FICTIONAL brand written for this
test: 55 training examples and 50 held-out drafts, the off-brand ones spanning hype, hard
selling, a competitor-like corporate voice, off-topic posts, hashtag spam and snark.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from brandcrew.errors import UserError
from brandcrew.memory import (
    BrandVoiceProfile,
    DimensionMismatchError,
    Draft,
    HashingEmbedder,
    MiniLMEmbedder,
    VectorMemoryStore,
    VoiceExample,
    load_brand_voice,
    roc_auc,
    save_brand_voice,
    score_drafts,
    train_brand_voice,
)

DATA = json.loads((Path(__file__).parent / "data" / "brand_voice_quillmoss.json").read_text(encoding="utf-8"))


def _held_out_auc(profile: BrandVoiceProfile, embedder: Any) -> tuple[float, list[Any]]:
    drafts = [Draft(content=d["content"], platform=d["platform"]) for d in DATA["held_out"]]
    scores = score_drafts(profile, drafts, embedder=embedder)
    return roc_auc([s.score for s in scores], [d["on_brand"] for d in DATA["held_out"]]), scores


def test_dataset_is_big_enough_and_held_out_is_unseen() -> None:
    train, held = DATA["train"], DATA["held_out"]
    assert len(train) >= 40 and len(held) >= 40
    assert {d["is_good"] for d in train} == {True, False} and {d["on_brand"] for d in held} == {True, False}
    assert not {d["content"] for d in train} & {d["content"] for d in held}
    kinds = {d["kind"] for d in held if not d["on_brand"]}
    assert {"hype", "hard_sell", "competitor_voice", "off_topic", "hashtag_spam"} <= kinds


@pytest.fixture(scope="module")
def minilm_profile(minilm: MiniLMEmbedder) -> BrandVoiceProfile:
    return train_brand_voice(DATA["train"], DATA["guidelines"], embedder=minilm)


def test_minilm_voice_separates_held_out_drafts(
    minilm_profile: BrandVoiceProfile, minilm: MiniLMEmbedder
) -> None:
    auc, scores = _held_out_auc(minilm_profile, minilm)
    print(f"brand-voice held-out AUC with MiniLM: {auc:.3f}")
    assert auc >= 0.9
    assert all(0.0 <= s.score <= 1.0 for s in scores)
    on = sorted(s.score for s, d in zip(scores, DATA["held_out"], strict=True) if d["on_brand"])
    off = sorted(s.score for s, d in zip(scores, DATA["held_out"], strict=True) if not d["on_brand"])
    assert on[len(on) // 2] > 0.5 > off[len(off) // 2]  # calibrated around 0.5: medians on either side


def test_hashing_voice_is_reported(hashing: HashingEmbedder) -> None:
    profile = train_brand_voice(DATA["train"], DATA["guidelines"], embedder=hashing)
    auc, _ = _held_out_auc(profile, hashing)
    print(f"brand-voice held-out AUC with the hashing embedder: {auc:.3f}")
    assert auc > 0.75  # a sanity floor, not the 0.9 goal (that is MiniLM's)


def test_reasons_name_what_is_off(minilm_profile: BrandVoiceProfile, minilm: MiniLMEmbedder) -> None:
    spam = minilm_profile.score(
        "Pressing day at the mill #paper #handmade #slowliving #cotton #sustainable #ecofriendly",
        platform="x",
        embedder=minilm,
    )
    assert not spam.passed
    assert any("6 hashtags; the brand uses at most 2" in r for r in spam.reasons)
    assert spam.components["hashtags"] < 0

    hype = minilm_profile.score(
        "LAST CHANCE!!! This notebook is INSANE 🔥🔥🔥 don't miss out", platform="x", embedder=minilm
    )
    text = " | ".join(hype.reasons)
    assert hype.score < 0.05
    for expected in ("last chance", "insane", "don't miss out", "3 emoji", "exclamation", "capitals"):
        assert expected in text

    good = minilm_profile.score(
        "Tomasz is resewing a customer's old journal this afternoon. The thread was tired; the paper is fine.",
        platform="x",
        embedder=minilm,
    )
    assert good.passed and good.score > 0.7
    assert good.reasons and "on-brand" in good.reasons[-1]


def test_guidelines_become_checkable_rules(minilm_profile: BrandVoiceProfile) -> None:
    p = minilm_profile
    assert p.tone[:4] == ["warm", "calm", "curious", "wry"]
    assert {"game-changer", "limited time", "don't miss out", "hustle"} <= set(p.banned_phrases)
    assert (p.max_emoji, p.max_hashtags, p.brand_hashtags, p.only_brand_hashtags) == (
        1,
        2,
        ["quillmoss", "slowwriting"],
        True,
    )
    assert (p.length["x"].limit_max, p.length["linkedin"].limit_min, p.length["linkedin"].limit_max) == (
        260,
        400,
        1200,
    )
    assert p.examples == {"good": 30, "bad": 25}
    assert "mill" in p.vocabulary and p.off_brand_terms
    assert len(p.centroid_good) == 384 and p.centroid_bad is not None


def test_profile_round_trips_as_json_and_scores_the_same(
    minilm_profile: BrandVoiceProfile, minilm: MiniLMEmbedder
) -> None:
    again = BrandVoiceProfile.model_validate_json(minilm_profile.model_dump_json())
    draft = "Letter club is on Thursday. Bring a pen and someone to write to."
    assert again.score(draft, embedder=minilm).score == minilm_profile.score(draft, embedder=minilm).score


def test_profile_is_kept_in_the_store_per_workspace(
    minilm_profile: BrandVoiceProfile, vec_path: Path, minilm: MiniLMEmbedder
) -> None:
    store = VectorMemoryStore.sqlite(vec_path, embedder=minilm)
    save_brand_voice(store, "ws_1", minilm_profile, voice_id="main")
    assert load_brand_voice(store, "ws_1", voice_id="main") == minilm_profile
    assert load_brand_voice(store, "ws_2", voice_id="main") is None


def test_seed_train_payload_and_misuse(hashing: HashingEmbedder, minilm_profile: BrandVoiceProfile) -> None:
    # POST /api/ai/train sends {content, platform, isGoodExample}
    payload = [
        {"content": "Warm note from the mill.", "platform": "x", "isGoodExample": True},
        {"content": "Another calm, honest update about paper.", "platform": "x", "isGoodExample": True},
    ]
    profile = train_brand_voice(payload, "Tone: warm, calm", embedder=hashing)
    assert profile.centroid_bad is None and profile.examples == {"good": 2, "bad": 0}
    assert 0.0 <= profile.score("A warm update from the mill.", embedder=hashing).score <= 1.0
    assert VoiceExample.model_validate(payload[0]).is_good
    with pytest.raises(UserError, match="two good examples"):
        train_brand_voice(payload[:1], embedder=hashing)
    with pytest.raises(DimensionMismatchError):
        minilm_profile.score("hello", embedder=HashingEmbedder(64))
    with pytest.raises(UserError, match="same embedder"):
        minilm_profile.score("hello", embedder=hashing)


def test_roc_auc_counts_ties_as_half() -> None:
    assert roc_auc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    with pytest.raises(ValueError):
        roc_auc([0.1], [True])
