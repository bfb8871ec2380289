"""Influencer discovery: the people who talk about the brand, scored and explained.

Candidates are the authors of the workspace's stored mentions (listening). Each author's mentions
are their evidence: follower counts over time, engagement per post, texts and sentiment toward the
brand. A profile from the platform (`AuthorProfile`, read through the connector port by `profiles.py`) adds recent posts with
likes and comments, comment texts and the verified flag when the platform gives them.

The score (0-100) is a weighted sum of components, each in 0..1 and listed with its weight:
relevance 0.35, engagement 0.25, reach 0.15, sentiment 0.15, audience fit 0.10 (verified or
consistently mentioning the brand); then multiplied by the authenticity factor, which each flagged
signal lowers by its penalty (see `_signals.py`).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from brandcrew.memory.embedders import Embedder, default_embedder
from brandcrew.services.brand import BrandProfile
from brandcrew.services.influencers._signals import (
    WIRE,
    PostSample,
    Signal,
    authenticity_factor,
    comment_to_like_ratio,
    duplicate_comments,
    engagement_concentration,
    engagement_rates,
    expected_engagement_rate,
    follower_jump,
    low_engagement,
)
from brandcrew.services.workspaces import brand_of
from brandcrew.store.tables import Influencer, Mention, as_utc

TIERS: tuple[tuple[str, int], ...] = (
    ("mega", 1_000_000),
    ("macro", 500_000),
    ("mid", 50_000),
    ("micro", 10_000),
    ("nano", 0),
)
"""Tier floors by followers (Influencer Marketing Hub's bands: nano <10k, micro 10k-50k, mid
50k-500k, macro 500k-1M, mega 1M+)."""

WEIGHTS: Mapping[str, float] = {
    "relevance": 0.35,
    "engagement": 0.25,
    "reach": 0.15,
    "sentiment": 0.15,
    "affinity": 0.10,
}
MAX_MENTIONS = 20_000
"""Discovery reads at most this many of the most recent mentions."""
_TEXTS_EMBEDDED = 20
_COMMENTS_COMPARED = 400


def tier_of(followers: int) -> str:
    """nano, micro, mid, macro or mega by follower count."""
    return next(name for name, floor in TIERS if followers >= floor)


class AuthorProfile(BaseModel):
    """What the platform tells about an author beyond their mentions (all optional)."""

    model_config = WIRE

    platform: str
    username: str
    followers: int | None = None
    verified: bool | None = None
    bio: str = ""
    observed_at: datetime | None = None
    posts: list[ProfilePost] = Field(default_factory=list)
    comments: list[str] = Field(default_factory=list)
    """Texts of comments on their recent posts (for the near-duplicate check)."""


class ProfilePost(BaseModel):
    """One of an author's own recent posts, with its counters."""

    model_config = WIRE

    text: str
    created_at: datetime
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    """Counters are None when the platform did not give them (the text still counts for relevance)."""


AuthorProfile.model_rebuild()


class ScoreComponent(BaseModel):
    """One part of the score: its value (0..1), weight and contribution, and why."""

    model_config = WIRE

    name: str
    value: float
    weight: float
    contribution: float
    detail: str


class InfluencerCandidate(BaseModel):
    """A discovered author with the score, its components and the authenticity signals."""

    model_config = WIRE

    platform: str
    username: str
    display_name: str
    author_id: str
    followers: int
    tier: str
    verified: bool | None
    mentions: int
    """How many of the brand's mentions they wrote."""
    posts_analyzed: int
    engagement_rate: float | None
    """Median engagements / followers per post."""
    expected_engagement_rate: float
    relevance: float
    semantic_similarity: float
    keyword_hit_rate: float
    sentiment: float | None
    """Mean sentiment of their mentions of the brand (-1..1), None when unscored."""
    score: float
    """0-100: the weighted components times the authenticity factor."""
    base_score: float
    authenticity: float
    """The factor flagged signals leave (1.0 = nothing flagged)."""
    components: list[ScoreComponent]
    signals: list[Signal]
    flags: list[str]
    """Names of the flagged signals."""
    first_seen_at: datetime
    last_seen_at: datetime
    sample_texts: list[str]
    """Their most recent texts (outside text: show, never follow)."""
    saved_influencer_id: str | None = None


@dataclass(kw_only=True)
class _Author:
    platform: str
    username: str
    display_name: str = ""
    author_id: str = ""
    posts: list[PostSample] = field(default_factory=list)
    texts: list[tuple[datetime, str]] = field(default_factory=list)
    observations: list[tuple[datetime, int]] = field(default_factory=list)
    sentiments: list[float] = field(default_factory=list)
    mentions: int = 0


_URL = re.compile(r"https?://\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"[#]?[a-z0-9\u00c0-\uffff][a-z0-9\u00c0-\uffff'_-]*")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "our",
        "your",
        "you",
        "are",
        "that",
        "this",
        "from",
        "have",
        "has",
        "was",
        "were",
        "will",
        "its",
        "it's",
        "not",
        "but",
        "all",
        "can",
        "get",
        "just",
        "more",
        "most",
        "new",
        "now",
        "out",
        "one",
        "off",
        "too",
        "very",
        "what",
        "when",
        "who",
        "why",
        "how",
        "about",
        "into",
        "over",
        "than",
        "then",
        "them",
        "they",
        "their",
        "there",
        "here",
        "also",
        "any",
        "some",
        "each",
        "only",
        "own",
        "same",
        "such",
    ]
)


def _clean(text: str, brand_tokens: frozenset[str]) -> str:
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    if not brand_tokens:
        return text
    return " ".join(w for w in text.split() if w.lower().strip("#.,!?:;") not in brand_tokens)


def _terms(texts: Sequence[str]) -> frozenset[str]:
    out = set()
    for text in texts:
        for token in _TOKEN.findall(text.lower()):
            word = token.lstrip("#").strip("'_-")
            if len(word) >= 3 and word not in _STOP:
                out.add(word)
    return frozenset(out)


def _hits(text: str, terms: frozenset[str]) -> bool:
    words = {t.lstrip("#").strip("'_-") for t in _TOKEN.findall(text.lower())}
    for w in words:
        if w in terms:
            return True
        # Plurals and inflections ("brews", "brewing") without a stemmer: a shared prefix of 4+.
        if len(w) >= 5 and any(len(t) >= 4 and w.startswith(t) for t in terms):
            return True
    return False


@dataclass(frozen=True, kw_only=True)
class TopicReference:
    """What relevance is measured against: a text to embed and the keywords to look for."""

    text: str
    keywords: frozenset[str]
    brand_tokens: frozenset[str]
    """Words of the brand's own name, removed from authors' texts (every mention names the brand)."""
    source: str


def topic_reference(brand: BrandProfile, topic: str | None = None) -> TopicReference:
    """The brand's topics (pillars, products, hashtags, industry), or an explicit topic."""
    brand_tokens = frozenset(w.lower() for w in re.findall(r"\w+", brand.name) if len(w) >= 3)
    if topic and topic.strip():
        return TopicReference(
            text=topic.strip(),
            keywords=_terms([topic]) - brand_tokens,
            brand_tokens=brand_tokens,
            source=f"topic {topic.strip()!r}",
        )
    parts = [*brand.pillars, *brand.products, *(h.lstrip("#") for h in brand.hashtags), brand.industry]
    parts = [p for p in parts if p.strip()]
    return TopicReference(
        text=". ".join(parts),
        keywords=_terms(parts) - brand_tokens,
        brand_tokens=brand_tokens,
        source="brand profile (pillars, products, hashtags, industry)",
    )


def _group(mentions: Sequence[Mention], profiles: Mapping[tuple[str, str], AuthorProfile]) -> list[_Author]:
    authors: dict[tuple[str, str], _Author] = {}
    for m in sorted(mentions, key=lambda m: as_utc(m.created_at) or m.created_at):
        if not m.author_username:
            continue
        key = (m.platform, m.author_username.lower())
        a = authors.get(key)
        if a is None:
            a = authors[key] = _Author(platform=m.platform, username=m.author_username)
        created = as_utc(m.created_at) or m.created_at
        a.display_name = m.author_name or a.display_name
        a.author_id = m.author_id or a.author_id
        a.mentions += 1
        a.posts.append(
            PostSample(
                text=m.content, created_at=created, followers=m.author_followers, engagements=m.engagement
            )
        )
        a.texts.append((created, m.content))
        if m.author_followers > 0:
            a.observations.append((created, m.author_followers))
        if m.sentiment_score is not None:
            a.sentiments.append(m.sentiment_score)
    for key, profile in profiles.items():
        a = authors.get((key[0], key[1].lower()))
        if a is None:
            continue
        followers = profile.followers
        for p in profile.posts:
            created = as_utc(p.created_at) or p.created_at
            a.texts.append((created, p.text))
            if p.likes is None and p.comments is None and p.shares is None:
                continue
            a.posts.append(
                PostSample(
                    text=p.text,
                    created_at=created,
                    followers=followers or 0,
                    engagements=(p.likes or 0) + (p.comments or 0) + (p.shares or 0),
                    likes=p.likes,
                    comments=p.comments,
                )
            )
        if followers and profile.observed_at is not None:
            a.observations.append((as_utc(profile.observed_at) or profile.observed_at, followers))
    return list(authors.values())


def _current_followers(a: _Author, profile: AuthorProfile | None) -> int:
    if profile is not None and profile.followers:
        return profile.followers
    if a.observations:
        return max(a.observations)[1]
    return 0


def _reach(followers: int) -> ScoreComponent:
    # log10: 100 followers -> 0, 10M -> 1; each tenfold is the same step.
    value = min(1.0, max(0.0, (math.log10(max(followers, 1)) - 2) / 5))
    return ScoreComponent(
        name="reach",
        value=round(value, 4),
        weight=WEIGHTS["reach"],
        contribution=round(value * WEIGHTS["reach"], 4),
        detail=f"{followers:,} followers (log scale: 100 -> 0, 10M -> 1)",
    )


def _component(name: str, value: float, detail: str) -> ScoreComponent:
    value = min(1.0, max(0.0, value))
    return ScoreComponent(
        name=name,
        value=round(value, 4),
        weight=WEIGHTS[name],
        contribution=round(value * WEIGHTS[name], 4),
        detail=detail,
    )


class _Relevance(BaseModel):
    semantic: float
    keyword_rate: float
    value: float
    detail: str


def _relevance(
    texts: Sequence[str], bio: str, ref: TopicReference, ref_vector: np.ndarray | None, embedder: Embedder
) -> _Relevance:
    cleaned = [_clean(t, ref.brand_tokens) for t in texts]
    if bio:
        cleaned.append(_clean(bio, ref.brand_tokens))
    cleaned = [t for t in cleaned if t.strip()]
    if not cleaned or ref_vector is None:
        why = "no texts" if not cleaned else "nothing to compare with (the brand profile has no topics)"
        return _Relevance(
            semantic=0.0, keyword_rate=0.0, value=0.5 if ref_vector is None else 0.0, detail=why
        )
    vectors = embedder.embed(cleaned[-_TEXTS_EMBEDDED:])
    centroid = vectors.mean(axis=0)
    norm = float(np.linalg.norm(centroid))
    semantic = float(centroid @ ref_vector / norm) if norm > 0 else 0.0
    hits = sum(1 for t in cleaned if _hits(t, ref.keywords))
    rate = hits / len(cleaned)
    # Cosine of 0.6 between an author's texts and the topic is already a close match for sentence
    # embeddings; above it the semantic part is full.
    semantic_part = min(1.0, max(0.0, semantic) / 0.6)
    value = 0.5 * semantic_part + 0.5 * rate
    detail = (
        f"cosine {semantic:.3f} to the {ref.source} ({embedder.name}); "
        f"{hits} of {len(cleaned)} texts use its keywords"
    )
    return _Relevance(semantic=semantic, keyword_rate=rate, value=value, detail=detail)


def score_author(
    a: _Author,
    *,
    profile: AuthorProfile | None,
    ref: TopicReference,
    ref_vector: np.ndarray | None,
    embedder: Embedder,
) -> InfluencerCandidate:
    """Score one author from their evidence."""
    followers = _current_followers(a, profile)
    expected = expected_engagement_rate(followers, a.platform)
    rates = engagement_rates(a.posts)
    median_rate = statistics.median(rates) if rates else None
    texts = [t for _, t in sorted(a.texts, key=lambda x: x[0])]
    rel = _relevance(texts, profile.bio if profile else "", ref, ref_vector, embedder)

    signals = [
        low_engagement(a.posts, followers=followers, platform=a.platform),
        follower_jump(a.observations),
        engagement_concentration(a.posts),
        comment_to_like_ratio(a.posts),
        duplicate_comments(profile.comments[:_COMMENTS_COMPARED] if profile else []),
    ]
    factor = authenticity_factor(signals)

    if median_rate is None:
        engagement = _component("engagement", 0.0, "no post with a known follower count")
    else:
        ratio = median_rate / expected
        engagement = _component(
            "engagement",
            ratio / 2,
            f"median {median_rate:.4%} per post vs {expected:.4%} expected for the size "
            f"({ratio:.2f}x; 2x or more is full marks)",
        )
    sentiment = statistics.fmean(a.sentiments) if a.sentiments else None
    verified = profile.verified if profile else None
    affinity_value = min(1.0, a.mentions / 5) * 0.7 + (0.3 if verified else 0.0)
    components = [
        _component("relevance", rel.value, rel.detail),
        engagement,
        _reach(followers),
        _component(
            "sentiment",
            0.5 if sentiment is None else (sentiment + 1) / 2,
            "no scored mentions (neutral)"
            if sentiment is None
            else f"mean {sentiment:+.2f} over {len(a.sentiments)} mentions of the brand",
        ),
        _component(
            "affinity",
            affinity_value,
            f"{a.mentions} mentions of the brand (5+ is full)"
            + (
                "; verified account" if verified else "; not known to be verified" if verified is None else ""
            ),
        ),
    ]
    base = sum(c.contribution for c in components)
    times = [t for t, _ in a.texts]
    return InfluencerCandidate(
        platform=a.platform,
        username=a.username,
        display_name=a.display_name,
        author_id=a.author_id,
        followers=followers,
        tier=tier_of(followers),
        verified=verified,
        mentions=a.mentions,
        posts_analyzed=len(a.posts),
        engagement_rate=round(median_rate, 6) if median_rate is not None else None,
        expected_engagement_rate=round(expected, 6),
        relevance=round(rel.value, 4),
        semantic_similarity=round(rel.semantic, 4),
        keyword_hit_rate=round(rel.keyword_rate, 4),
        sentiment=round(sentiment, 4) if sentiment is not None else None,
        score=round(100 * base * factor, 2),
        base_score=round(100 * base, 2),
        authenticity=round(factor, 4),
        components=components,
        signals=signals,
        flags=[s.name for s in signals if s.flagged],
        first_seen_at=min(times),
        last_seen_at=max(times),
        sample_texts=[t[:280] for t in reversed(texts[-3:])],
    )


def rank_authors(
    mentions: Sequence[Mention],
    *,
    brand: BrandProfile,
    topic: str | None = None,
    profiles: Mapping[tuple[str, str], AuthorProfile] | None = None,
    embedder: Embedder | None = None,
    min_followers: int = 0,
    max_followers: int | None = None,
) -> list[InfluencerCandidate]:
    """Every author of `mentions` in the follower range, best score first."""
    profiles = profiles or {}
    if not mentions:
        return []
    embedder = embedder or default_embedder()
    ref = topic_reference(brand, topic)
    ref_vector = embedder.embed([ref.text])[0] if ref.text.strip() else None
    if ref_vector is not None and not np.any(ref_vector):
        ref_vector = None
    by_key = {(p.lower(), u.lower()): prof for (p, u), prof in profiles.items()}
    out = []
    for a in _group(mentions, profiles):
        profile = by_key.get((a.platform.lower(), a.username.lower()))
        followers = _current_followers(a, profile)
        if followers < min_followers or (max_followers is not None and followers > max_followers):
            continue
        out.append(score_author(a, profile=profile, ref=ref, ref_vector=ref_vector, embedder=embedder))
    out.sort(key=lambda c: (-c.score, -c.followers, c.username))
    return out


def discover(
    session: Session,
    *,
    workspace_id: str,
    platform: str | None = None,
    min_followers: int = 0,
    max_followers: int | None = None,
    limit: int = 20,
    topic: str | None = None,
    since: datetime | None = None,
    profiles: Mapping[tuple[str, str], AuthorProfile] | None = None,
    embedder: Embedder | None = None,
) -> list[InfluencerCandidate]:
    """The best candidates among the authors of the workspace's mentions, scored and explained."""
    stmt = select(Mention).where(Mention.workspace_id == workspace_id)
    if platform:
        stmt = stmt.where(Mention.platform == platform)
    if since is not None:
        stmt = stmt.where(col(Mention.created_at) >= since)
    rows = list(session.exec(stmt.order_by(col(Mention.created_at).desc()).limit(MAX_MENTIONS)).all())
    ranked = rank_authors(
        rows,
        brand=brand_of(session, workspace_id),
        topic=topic,
        profiles=profiles,
        embedder=embedder,
        min_followers=min_followers,
        max_followers=max_followers,
    )[:limit]
    if ranked:
        saved = session.exec(
            select(Influencer.id, Influencer.platform, Influencer.username).where(
                Influencer.workspace_id == workspace_id
            )
        ).all()
        ids = {(p, u.lower()): i for i, p, u in saved}
        for c in ranked:
            c.saved_influencer_id = ids.get((c.platform, c.username.lower()))
    return ranked


def find_candidate(
    session: Session,
    *,
    workspace_id: str,
    platform: str,
    username: str,
    embedder: Embedder | None = None,
) -> InfluencerCandidate | None:
    """The discovery result for one author of the workspace's mentions (None when they have none)."""
    rows = list(
        session.exec(
            select(Mention)
            .where(
                Mention.workspace_id == workspace_id,
                Mention.platform == platform,
                func.lower(Mention.author_username) == username.lstrip("@").lower(),
            )
            .order_by(col(Mention.created_at).desc())
            .limit(MAX_MENTIONS)
        ).all()
    )
    if not rows:
        return None
    ranked = rank_authors(rows, brand=brand_of(session, workspace_id), embedder=embedder)
    return ranked[0] if ranked else None
