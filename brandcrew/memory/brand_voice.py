"""Brand voice: train a profile from good/bad examples and guidelines, then score drafts 0-1.

Training takes the seed's `POST /api/ai/train` payload (examples marked good or bad, each with
a platform, plus written guidelines) and produces a `BrandVoiceProfile`: tone words, distinctive
vocabulary, banned phrases, emoji / hashtag / exclamation habits, lengths per platform, and the
embedding centroids of the good and the bad examples.

A draft's score is `sigmoid(sum of components)`, each component a log-odds contribution:

- `embedding`: how much closer the draft sits to the good centroid than to the bad one,
  calibrated on the training examples (leave-one-out) so that a typical good example lands
  near +2.5 and a typical bad one near -2.5;
- `vocabulary`: words that separate good from bad examples (log-odds with a Dirichlet prior);
- style checks against the guidelines and the good examples' habits: banned phrases, emoji,
  hashtags, exclamation marks, all-caps words and length for the platform.

So 0.5 is "as likely on-brand as not"; every component that moved the score by a quarter of a
log-odd or more comes back as a reason a person can act on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from brandcrew.errors import UserError
from brandcrew.memory import _voice_text as vt
from brandcrew.memory.embedders import Embedder, default_embedder
from brandcrew.memory.port import IndexSpec, check_dimension

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

__all__ = (
    "BrandVoiceProfile",
    "Draft",
    "LengthStats",
    "VoiceExample",
    "VoiceScore",
    "load_brand_voice",
    "roc_auc",
    "save_brand_voice",
    "score_drafts",
    "train_brand_voice",
)

EMBEDDING_WEIGHT = 2.5
VOCABULARY_WEIGHT = 0.6
REASON_THRESHOLD = 0.25
VOCABULARY_SIZE = 40


class VoiceExample(BaseModel):
    """One training example (the seed's `{content, platform, isGoodExample}`)."""

    model_config = ConfigDict(populate_by_name=True)

    content: str
    platform: str | None = None
    is_good: bool = Field(validation_alias=AliasChoices("is_good", "isGoodExample"))


class Draft(BaseModel):
    """A draft to score, with the platform it is meant for when known."""

    content: str
    platform: str | None = None


class LengthStats(BaseModel):
    """Length in characters of the on-brand posts for one platform, and the guideline limits."""

    count: int = 0
    mean: float = 0.0
    std: float = 0.0
    min: int = 0
    max: int = 0
    limit_min: int | None = None
    limit_max: int | None = None


class VoiceScore(BaseModel):
    """How consistent a draft is with the brand voice: `score` in 0..1 and the reasons."""

    score: float
    passed: bool
    reasons: list[str]
    components: dict[str, float]
    """Log-odds contribution of each check (negative pulls the score down), plus raw similarities."""


class BrandVoiceProfile(BaseModel):
    """What a brand sounds like, learned from examples and guidelines; scores drafts."""

    embedder: str
    dimension: int
    tone: list[str] = Field(default_factory=list)
    vocabulary: dict[str, float] = Field(default_factory=dict)
    """Words typical of on-brand examples, with their weight (> 0)."""
    off_brand_terms: dict[str, float] = Field(default_factory=dict)
    """Words typical of off-brand examples, with their weight (< 0)."""
    banned_phrases: list[str] = Field(default_factory=list)
    emoji_per_post: float = 0.0
    max_emoji: int = 1
    hashtags_per_post: float = 0.0
    max_hashtags: int = 2
    brand_hashtags: list[str] = Field(default_factory=list)
    only_brand_hashtags: bool = False
    exclamations_per_post: float = 0.0
    max_exclamations: int = 1
    no_exclamation_runs: bool = True
    no_caps: bool = True
    caps_allowed: list[str] = Field(default_factory=list)
    """Words in capitals that on-brand examples use (product names, acronyms)."""
    length: dict[str, LengthStats] = Field(default_factory=dict)
    """Per platform, and `*` for all posts."""
    centroid_good: list[float]
    centroid_bad: list[float] | None = None
    margin_mid: float = 0.0
    margin_scale: float = 0.05
    threshold: float = 0.5
    examples: dict[str, int] = Field(default_factory=dict)

    def score(
        self, draft: str, *, platform: str | None = None, embedder: Embedder | None = None
    ) -> VoiceScore:
        """Score one draft 0-1 for consistency with this voice, with reasons."""
        return score_drafts(self, [Draft(content=draft, platform=platform)], embedder=embedder)[0]


def _unit(v: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _length_stats(lengths: Sequence[int]) -> LengthStats:
    if not lengths:
        return LengthStats()
    arr = np.asarray(lengths, dtype=np.float64)
    return LengthStats(
        count=len(lengths),
        mean=float(arr.mean()),
        std=float(arr.std()),
        min=int(arr.min()),
        max=int(arr.max()),
    )


def train_brand_voice(
    examples: Sequence[VoiceExample | dict[str, Any]],
    guidelines: str = "",
    *,
    embedder: Embedder | None = None,
    banned_words: Sequence[str] = (),
    threshold: float = 0.5,
) -> BrandVoiceProfile:
    """Learn a voice profile from examples marked good or bad plus written guidelines."""
    items = [e if isinstance(e, VoiceExample) else VoiceExample.model_validate(e) for e in examples]
    good = [e for e in items if e.is_good]
    bad = [e for e in items if not e.is_good]
    if len(good) < 2:
        raise UserError("brand voice training needs at least two good examples")
    embedder = embedder or default_embedder()
    rules = vt.parse_guidelines(guidelines)

    vectors = np.asarray(embedder.embed([e.content for e in good + bad]), dtype=np.float64)
    eg, eb = vectors[: len(good)], vectors[len(good) :]
    sum_g, sum_b = eg.sum(axis=0), eb.sum(axis=0)
    cg = _unit(sum_g)
    cb = _unit(sum_b) if len(bad) else None

    # Calibrate the centroid margin leave-one-out, so an example is not scored against a
    # centroid it helped to build (that would make every training margin look too good).
    def _margin(e: npt.NDArray[Any], g: npt.NDArray[Any], b: npt.NDArray[Any] | None) -> float:
        return float(e @ _unit(g) - (e @ _unit(b) if b is not None else 0.0))

    m_good = [_margin(e, sum_g - e, sum_b if len(bad) else None) for e in eg]
    m_bad = [_margin(e, sum_g, sum_b - e if len(bad) > 1 else None) for e in eb]
    if m_bad:
        mid = (float(np.mean(m_good)) + float(np.mean(m_bad))) / 2
        scale = max((float(np.mean(m_good)) - float(np.mean(m_bad))) / 2, 0.01)
    else:
        # Good examples only: "on-brand" is within two standard deviations of their margins.
        mid = float(np.mean(m_good) - 2 * np.std(m_good))
        scale = max(float(np.std(m_good)), 0.01)

    odds = vt.log_odds(
        [vt.content_words(e.content) for e in good], [vt.content_words(e.content) for e in bad]
    )
    ranked = sorted(odds.items(), key=lambda kv: kv[1])
    vocabulary = {w: round(min(z / 2, 2.0), 3) for w, z in reversed(ranked[-VOCABULARY_SIZE:]) if z > 1.0}
    off_brand = (
        {w: round(max(z / 2, -2.0), 3) for w, z in ranked[:VOCABULARY_SIZE] if z < -1.0} if bad else {}
    )

    emoji = [vt.emoji_count(e.content) for e in good]
    tags = [vt.hashtags(e.content) for e in good]
    bangs = [e.content.count("!") for e in good]
    caps_allowed = sorted({w for e in good for w in vt.CAPS_WORD.findall(e.content)})

    lengths: dict[str, LengthStats] = {"*": _length_stats([len(e.content) for e in good])}
    by_platform: dict[str, list[int]] = {}
    for e in good:
        if e.platform:
            by_platform.setdefault(e.platform.lower(), []).append(len(e.content))
    for platform, values in by_platform.items():
        lengths[platform] = _length_stats(values)
    for platform, (lo, hi) in rules.lengths.items():
        stats = lengths.setdefault(platform, LengthStats())
        stats.limit_min, stats.limit_max = lo, hi

    return BrandVoiceProfile(
        embedder=embedder.name,
        dimension=embedder.dimension,
        tone=rules.tone,
        vocabulary=vocabulary,
        off_brand_terms=off_brand,
        banned_phrases=list(dict.fromkeys([*rules.banned, *(w.lower() for w in banned_words)])),
        emoji_per_post=float(np.mean(emoji)),
        max_emoji=rules.max_emoji if rules.max_emoji is not None else max(1, max(emoji)),
        hashtags_per_post=float(np.mean([len(t) for t in tags])),
        max_hashtags=rules.max_hashtags
        if rules.max_hashtags is not None
        else max(2, max(len(t) for t in tags)),
        brand_hashtags=rules.brand_hashtags or sorted({t for ts in tags for t in ts}),
        only_brand_hashtags=rules.only_brand_hashtags,
        exclamations_per_post=float(np.mean(bangs)),
        max_exclamations=max(1, max(bangs)),
        # "!!" and words in capitals read as shouting for most brands: the checks stay on unless
        # the good examples do it themselves (capitalised words they use are allowed one by one).
        no_exclamation_runs=rules.no_exclamation_runs
        or not any(vt.EXCLAIM_RUN.search(e.content) for e in good),
        no_caps=True,
        caps_allowed=caps_allowed,
        length=lengths,
        centroid_good=[round(float(x), 6) for x in cg],
        centroid_bad=[round(float(x), 6) for x in cb] if cb is not None else None,
        margin_mid=mid,
        margin_scale=scale,
        threshold=threshold,
        examples={"good": len(good), "bad": len(bad)},
    )


def _style(profile: BrandVoiceProfile, draft: Draft) -> list[tuple[str, float, str]]:
    """(component, log-odds contribution, reason) for each style check that fired."""
    text = draft.content
    lower = text.lower()
    out: list[tuple[str, float, str]] = []

    hits = [p for p in profile.banned_phrases if p and re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lower)]
    if hits:
        out.append(
            (
                "banned_phrases",
                -min(1.5 * len(hits), 4.5),
                f"uses {', '.join(repr(h) for h in hits)}, which the guidelines rule out",
            )
        )

    n_emoji = vt.emoji_count(text)
    if n_emoji > profile.max_emoji:
        extra = n_emoji - profile.max_emoji
        out.append(
            ("emoji", -min(0.75 * extra, 3.0), f"{n_emoji} emoji; the brand uses at most {profile.max_emoji}")
        )

    tags = vt.hashtags(text)
    if len(tags) > profile.max_hashtags:
        extra = len(tags) - profile.max_hashtags
        out.append(
            (
                "hashtags",
                -min(0.6 * extra, 3.0),
                f"{len(tags)} hashtags; the brand uses at most {profile.max_hashtags}",
            )
        )
    if profile.only_brand_hashtags and profile.brand_hashtags:
        foreign = [t for t in tags if t not in profile.brand_hashtags]
        if foreign:
            allowed = ", ".join("#" + t for t in profile.brand_hashtags)
            out.append(
                ("hashtag_choice", -min(0.3 * len(foreign), 1.5), f"hashtags outside the brand's own ({allowed}): "
                 + ", ".join("#" + t for t in foreign[:5]))
            )  # fmt: skip

    bangs = text.count("!")
    if profile.no_exclamation_runs and vt.EXCLAIM_RUN.search(text):
        out.append(("exclamations", -1.0, "strings of exclamation marks"))
    elif bangs > profile.max_exclamations:
        out.append(
            ("exclamations", -min(0.5 * (bangs - profile.max_exclamations), 2.0),
             f"{bangs} exclamation marks; on-brand posts use at most {profile.max_exclamations}")
        )  # fmt: skip

    if profile.no_caps:
        caps = vt.caps_words(text, profile.caps_allowed)
        if caps:
            out.append(
                (
                    "caps",
                    -min(0.75 * len(caps), 2.25),
                    f"shouting in capitals: {', '.join(dict.fromkeys(caps[:4]))}",
                )
            )

    platform = (draft.platform or "").lower()
    stats = profile.length.get(platform) or profile.length.get("*")
    if stats is not None:
        n = len(text)
        where = f" for {platform}" if platform and platform in profile.length else ""
        if stats.limit_max is not None and n > stats.limit_max:
            out.append(
                ("length", -1.0, f"{n} characters is over the {stats.limit_max}-character limit{where}")
            )
        elif stats.limit_min is not None and n < stats.limit_min:
            out.append(
                ("length", -0.5, f"{n} characters is short{where}; the guidelines ask for {stats.limit_min}+")
            )
        elif stats.count >= 3 and stats.std > 0:
            z = (n - stats.mean) / stats.std
            if abs(z) > 2.5:
                side = "longer" if z > 0 else "shorter"
                out.append(
                    (
                        "length",
                        -0.5,
                        f"{n} characters is much {side} than on-brand posts{where} ({stats.min}-{stats.max})",
                    )
                )
    return out


def _vocabulary(profile: BrandVoiceProfile, text: str) -> tuple[float, list[str], list[str]]:
    tokens = set(vt.content_words(text))
    on = sorted((w for w in tokens if w in profile.vocabulary), key=lambda w: -profile.vocabulary[w])
    off = sorted(
        (w for w in tokens if w in profile.off_brand_terms), key=lambda w: profile.off_brand_terms[w]
    )
    total = sum(profile.vocabulary[w] for w in on) + sum(profile.off_brand_terms[w] for w in off)
    # Divide by sqrt(length) so a long post is not rewarded just for containing more words.
    value = total / math.sqrt(len(tokens) + 1) if tokens else 0.0
    return float(np.clip(value, -2.5, 2.5)), on, off


def score_drafts(
    profile: BrandVoiceProfile,
    drafts: Sequence[Draft | str],
    *,
    embedder: Embedder | None = None,
) -> list[VoiceScore]:
    """Score many drafts at once (one embedding batch)."""
    items = [d if isinstance(d, Draft) else Draft(content=d) for d in drafts]
    if not items:
        return []
    embedder = embedder or default_embedder()
    check_dimension(
        IndexSpec(name=f"brand voice ({profile.embedder})", dimension=profile.dimension),
        embedder.dimension,
        what=f"embedder {embedder.name!r} (the profile was trained with {profile.embedder!r})",
    )
    if embedder.name != profile.embedder:
        raise UserError(
            f"this voice profile was trained with {profile.embedder!r}; score with the same embedder, not {embedder.name!r}"
        )
    vectors = np.asarray(embedder.embed([d.content for d in items]), dtype=np.float64)
    cg = np.asarray(profile.centroid_good)
    cb = np.asarray(profile.centroid_bad) if profile.centroid_bad is not None else None
    tone = ", ".join(profile.tone[:4])
    out = []
    for draft, e in zip(items, vectors, strict=True):
        sim_good = float(e @ cg)
        sim_bad = float(e @ cb) if cb is not None else 0.0
        z = ((sim_good - sim_bad) - profile.margin_mid) / profile.margin_scale
        emb = EMBEDDING_WEIGHT * float(np.clip(z, -2.0, 2.0))
        vocab_value, on_words, off_words = _vocabulary(profile, draft.content)
        vocab = VOCABULARY_WEIGHT * vocab_value
        contributions: list[tuple[str, float, str]] = []
        if emb >= REASON_THRESHOLD:
            contributions.append(("embedding", emb, "reads like the on-brand examples"))
        elif emb <= -REASON_THRESHOLD:
            hint = f" (the voice is {tone})" if tone else ""
            contributions.append(("embedding", emb, f"reads more like the off-brand examples{hint}"))
        else:
            contributions.append(("embedding", emb, ""))
        if vocab <= -REASON_THRESHOLD and off_words:
            contributions.append(
                ("vocabulary", vocab, f"words typical of off-brand drafts: {', '.join(off_words[:5])}")
            )
        elif vocab >= REASON_THRESHOLD and on_words:
            contributions.append(
                ("vocabulary", vocab, f"uses the brand's own words: {', '.join(on_words[:5])}")
            )
        else:
            contributions.append(("vocabulary", vocab, ""))
        contributions += _style(profile, draft)
        logit = sum(c for _, c, _ in contributions)
        score = 1.0 / (1.0 + math.exp(-logit))
        components = {name: 0.0 for name in ("embedding", "vocabulary")}
        for name, value, _ in contributions:
            components[name] = round(components.get(name, 0.0) + value, 4)
        components["similarity_good"] = round(sim_good, 4)
        components["similarity_bad"] = round(sim_bad, 4)
        reasons = [
            r for _, c, r in sorted(contributions, key=lambda t: t[1]) if r and abs(c) >= REASON_THRESHOLD
        ]
        out.append(
            VoiceScore(
                score=round(score, 4),
                passed=score >= profile.threshold,
                reasons=reasons,
                components=components,
            )
        )
    return out


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative (ties count half)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        raise ValueError("AUC needs at least one positive and one negative")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def save_brand_voice(
    store: BaseStore, workspace_id: str, profile: BrandVoiceProfile, *, voice_id: str = "default"
) -> None:
    """Keep a profile in a LangGraph store under `(workspace_id, "brand_voice")` (not embedded)."""
    store.put((workspace_id, "brand_voice"), voice_id, profile.model_dump(mode="json"), index=False)


def load_brand_voice(
    store: BaseStore, workspace_id: str, *, voice_id: str = "default"
) -> BrandVoiceProfile | None:
    """The profile saved with `save_brand_voice`, or None."""
    item = store.get((workspace_id, "brand_voice"), voice_id)
    return BrandVoiceProfile.model_validate(item.value) if item is not None else None
