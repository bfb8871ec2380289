"""Influencer discovery over a sandbox brand's stored mentions: relevance, engagement for the size,
authenticity signals with their values, tiers and filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.services.influencers import (
    AuthorProfile,
    ProfilePost,
    discover,
    discover_with_profiles,
    rank_authors,
    tier_of,
)
from brandcrew.services.influencers._signals import expected_engagement_rate
from brandcrew.services.workspaces import ensure_workspace
from brandcrew.store.tables import Mention
from brandcrew.store.tables.sandbox import SandboxAccountRow
from tests.utils.domain import make_workspace
from tests.utils.influencers import COFFEE, EMBEDDER, ON_TOPIC, constructed_authors, mention, store
from tests.utils.listening import T0, make_listening_world


@pytest.fixture
def brand_world(sqlite_engine: Any) -> Any:
    """The sandbox brand 'northwind' after a day of polled mentions, with the three constructed authors."""
    import asyncio

    lw = make_listening_world(sqlite_engine)
    asyncio.run(lw.round())
    with Session(sqlite_engine) as session:
        ensure_workspace(session, COFFEE)
        store(session, lw.workspace_id, constructed_authors(T0 - timedelta(days=8)))
        session.commit()
    return lw


def _by_name(found: list[Any]) -> dict[str, Any]:
    return {c.username: c for c in found}


def _signal(candidate: Any, name: str) -> Any:
    return next(s for s in candidate.signals if s.name == name)


def test_relevant_authentic_author_ranks_above_big_off_topic_and_bought_ones(brand_world: Any) -> None:
    with Session(brand_world.engine) as session:
        authors = set(session.exec(select(Mention.author_username)).all())
        found = discover(session, workspace_id=brand_world.workspace_id, limit=500, embedder=EMBEDDER)
    people = _by_name(found)
    sandbox_authors = authors - {"brewnerd", "megastar", "growfast"}
    assert sandbox_authors and sandbox_authors <= set(people), (
        "the sandbox's own mention authors are candidates"
    )
    good, big, bought = people["brewnerd"], people["megastar"], people["growfast"]
    rank = [c.username for c in found]
    assert rank.index("brewnerd") < rank.index("megastar")
    assert rank.index("brewnerd") < rank.index("growfast")

    # The off-topic star: huge reach, not relevant; nothing inauthentic about it.
    assert big.tier == "mega" and good.tier == "micro"
    assert big.relevance < 0.2 < 0.5 < good.relevance
    assert big.keyword_hit_rate == 0.0 and good.keyword_hit_rate == 1.0
    assert big.semantic_similarity < good.semantic_similarity
    assert big.flags == [] and good.flags == []
    reach = {c.username: next(x for x in c.components if x.name == "reach").value for c in (good, big)}
    assert reach["megastar"] > reach["brewnerd"]

    # The bought account: each signal with its measured value against its threshold.
    jump = _signal(bought, "follower_jump")
    assert jump.flagged and jump.value == pytest.approx(45_000 / 3_050 - 1, rel=1e-4)
    assert jump.threshold == 0.25 and jump.flagged_when == "above"
    assert "3,050 -> 45,000" in jump.detail
    low = _signal(bought, "low_engagement_for_size")
    assert low.flagged and low.value is not None and low.value < low.threshold == 0.2
    burst = _signal(bought, "engagement_concentration")
    assert burst.flagged and burst.value is not None and burst.value > 0.9 and burst.sample == 6
    assert set(bought.flags) == {"follower_jump", "low_engagement_for_size", "engagement_concentration"}
    assert bought.authenticity == pytest.approx(0.7 * 0.65 * 0.8)
    assert bought.score == pytest.approx(bought.base_score * bought.authenticity, abs=0.02)
    # Its texts are as relevant as the good author's: the authenticity signals alone rank it down.
    assert bought.relevance == pytest.approx(good.relevance, abs=0.05)

    # The good author's signals were measured and stay under their thresholds.
    for name in ("follower_jump", "low_engagement_for_size", "engagement_concentration"):
        s = _signal(good, name)
        assert s.measured and not s.flagged, (name, s)
    # Mentions keep only engagement totals: the comment-to-like check says so instead of guessing.
    ratio = _signal(good, "low_comment_to_like_ratio")
    assert not ratio.measured and ratio.value is None and "likes and comments" in ratio.detail

    # The score is its components: weights sum to 1 and contributions add up to the base score.
    assert sum(c.weight for c in good.components) == pytest.approx(1.0)
    assert good.base_score == pytest.approx(100 * sum(c.contribution for c in good.components), abs=0.01)
    assert good.sentiment == pytest.approx(0.6)


def test_follower_range_platform_and_limit_filter_candidates(brand_world: Any) -> None:
    other = make_workspace(brand_world.engine, slug="southwind")
    with Session(brand_world.engine) as session:
        ws = brand_world.workspace_id
        mid = discover(
            session, workspace_id=ws, min_followers=10_000, max_followers=100_000, embedder=EMBEDDER
        )
        top2 = discover(session, workspace_id=ws, limit=2, embedder=EMBEDDER)
        elsewhere = discover(session, workspace_id=ws, platform="instagram", embedder=EMBEDDER)
        store(
            session, other.id, [mention("teaperson", 0, "Oolong notes", followers=20_000, likes=300, at=T0)]
        )
        theirs = discover(session, workspace_id=other.id, embedder=EMBEDDER)
        ours = discover(session, workspace_id=ws, limit=1_000, embedder=EMBEDDER)
    assert mid and all(10_000 <= c.followers <= 100_000 for c in mid)
    assert {"brewnerd", "growfast"} <= {c.username for c in mid}
    assert "megastar" not in {c.username for c in mid}
    assert len(top2) == 2 and top2[0].score >= top2[1].score
    assert elsewhere == []
    assert [c.username for c in theirs] == ["teaperson"] and "teaperson" not in {c.username for c in ours}


def test_topic_replaces_the_brand_profile_as_the_relevance_reference(brand_world: Any) -> None:
    with Session(brand_world.engine) as session:
        found = _by_name(
            discover(
                session,
                workspace_id=brand_world.workspace_id,
                topic="crypto football gaming",
                limit=500,
                embedder=EMBEDDER,
            )
        )
    assert found["megastar"].relevance > found["brewnerd"].relevance
    assert "topic 'crypto football gaming'" in found["megastar"].components[0].detail


def test_profile_posts_measure_comment_ratio_and_duplicate_comments() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=T0.tzinfo)
    rows = [
        Mention(
            workspace_id="w",
            platform="instagram",
            platform_mention_id=f"m{i}",
            author_id="1",
            author_username=name,
            author_followers=40_000,
            content=ON_TOPIC[i],
            engagement=900,
            sentiment_score=0.2,
            created_at=now - timedelta(days=i),
        )
        for name in ("podpeople", "realone")
        for i in range(3)
    ]
    posts = [
        ProfilePost(text=t, created_at=now - timedelta(days=i), likes=1_000, comments=4)
        for i, t in enumerate(ON_TOPIC)
    ]
    honest = [
        ProfilePost(text=t, created_at=now - timedelta(days=i), likes=1_000, comments=45)
        for i, t in enumerate(ON_TOPIC)
    ]
    pod_comments = [
        "Great post!! 🔥🔥",
        "great post 🔥",
        "Great post!",
        "Amazing content",
        "amazing content!!",
    ] * 3
    real_comments = [
        "What grind size do you use for the 15g dose? I get sour cups",
        "Tried this recipe this morning, way less bitter than my usual",
        "Is the Guji better as espresso or filter in your opinion?",
        "My V60 drains so slowly with this bean, any tips",
        "Love the bloom shot, the video lighting is gorgeous",
        "Where do you buy your filters?",
        "40 second bloom seems long, does it change much",
        "Ordered a bag after this post, excited",
        "Do you weigh the water or eyeball it after the first pour",
        "The grinder looks nice but is it loud?",
        "Natural process is too funky for me honestly",
        "Please do a cold brew version next week",
    ]
    profiles = {
        ("instagram", "podpeople"): AuthorProfile(
            platform="instagram", username="podpeople", followers=40_000, verified=False,
            observed_at=now, posts=posts, comments=pod_comments,
        ),
        ("instagram", "realone"): AuthorProfile(
            platform="instagram", username="realone", followers=40_000, verified=True,
            observed_at=now, posts=honest, comments=real_comments,
        ),
    }  # fmt: skip
    found = _by_name(rank_authors(rows, brand=COFFEE, profiles=profiles, embedder=EMBEDDER))
    pod, real = found["podpeople"], found["realone"]
    ratio = _signal(pod, "low_comment_to_like_ratio")
    assert ratio.flagged and ratio.value == pytest.approx(24 / 6_000) and ratio.threshold == 0.01
    dupes = _signal(pod, "duplicate_comments")
    assert dupes.flagged and dupes.value == pytest.approx(1.0) and dupes.sample == 15
    assert not _signal(real, "low_comment_to_like_ratio").flagged
    real_dupes = _signal(real, "duplicate_comments")
    assert real_dupes.measured and not real_dupes.flagged and real_dupes.value == 0.0
    assert real.verified is True and "verified account" in real.components[-1].detail
    assert real.score > pod.score
    assert real.posts_analyzed == 3 + len(ON_TOPIC)


def test_engagement_expectation_follows_the_reference_curve() -> None:
    sizes = [100, 500, 3_162, 31_623, 300_000, 3_162_278, 50_000_000]
    instagram = [expected_engagement_rate(n, "instagram") for n in sizes]
    assert instagram == sorted(instagram, reverse=True), "bigger accounts engage less per follower"
    assert instagram[1] == pytest.approx(0.08) and instagram[2] == pytest.approx(0.04, rel=1e-3)
    assert instagram[3] == pytest.approx(0.024, rel=1e-3) and instagram[-1] == pytest.approx(0.017)
    assert expected_engagement_rate(31_623, "x") == pytest.approx(0.024 * 0.029 / 0.43, rel=1e-3)
    assert expected_engagement_rate(31_623, "linkedin") == pytest.approx(0.024, rel=1e-3)


@pytest.mark.parametrize(
    ("followers", "tier"),
    [(0, "nano"), (9_999, "nano"), (10_000, "micro"), (49_999, "micro"), (50_000, "mid"),
     (499_999, "mid"), (500_000, "macro"), (1_000_000, "mega")],
)  # fmt: skip
def test_tiers_by_followers(followers: int, tier: str) -> None:
    assert tier_of(followers) == tier


async def test_public_profiles_come_through_the_connector_port(sqlite_engine: Any) -> None:
    """A sandbox competitor account that mentions the brand has a public profile: current followers
    and recent posts with likes and comments, read through the port, re-score it. Pool authors have
    none, and keep their mention-only analysis."""
    lw = make_listening_world(sqlite_engine)
    lw.pw.world.advance(timedelta(days=3))
    await lw.round()
    with Session(sqlite_engine) as session:
        rival = session.exec(
            select(SandboxAccountRow).where(
                SandboxAccountRow.platform == "x", SandboxAccountRow.kind == "competitor"
            )
        ).first()
        assert rival is not None
        name = rival.username
        now = lw.pw.world.now()
        store(
            session,
            lw.workspace_id,
            [
                mention(
                    rival.username, i, ON_TOPIC[i], followers=5_000, likes=40, at=now - timedelta(days=3 - i)
                )
                for i in range(3)
            ],
        )
        session.commit()
        plain = _by_name(discover(session, workspace_id=lw.workspace_id, limit=1_000, embedder=EMBEDDER))
        enriched = _by_name(
            await discover_with_profiles(
                session,
                lw.pw.accounts,
                workspace_id=lw.workspace_id,
                now=now,
                limit=1_000,
                embedder=EMBEDDER,
            )
        )
    before, after = plain[name], enriched[name]
    assert before.posts_analyzed == 3 and not _signal(before, "low_comment_to_like_ratio").measured
    assert after.posts_analyzed > 3, "the rival's own recent posts were read"
    ratio = _signal(after, "low_comment_to_like_ratio")
    assert ratio.measured and ratio.value is not None and ratio.sample == after.posts_analyzed - 3
    assert after.followers != before.followers, "followers now come from the profile"
    pool_author = next(author for author in plain if author != name)
    assert enriched[pool_author].posts_analyzed == plain[pool_author].posts_analyzed
