"""Checks a draft passes before it may be approved: risk flags, near-duplicates, the approval policy."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from brandcrew.services.autopilot.spec import ApprovalPolicy

# Topics a brand account should not post about unattended; a person decides. Kept short and
# general on purpose: the campaign file adds the brand's own (`sensitive_topics`).
SENSITIVE_TOPICS: dict[str, tuple[str, ...]] = {
    "politics": ("election", "elections", "vote for", "politician", "government", "protest", "partisan"),
    "tragedy": ("shooting", "terror", "tragedy", "disaster", "earthquake", "died", "death", "funeral"),
    "war": ("war", "invasion", "military strike"),
    "religion": ("religion", "religious", "church", "mosque", "synagogue"),
    "health claims": (
        "cure",
        "cures",
        "heals",
        "prevents cancer",
        "weight loss",
        "detox",
        "clinically proven",
    ),
    "legal": ("lawsuit", "sued", "court ruling", "settlement"),
    "promises": ("guarantee", "guaranteed", "risk-free", "100% safe"),
}
_URL = re.compile(r"https?://\S+|\b\S+\.(?:com|example|org|net|io)(?:/\S*)?", re.IGNORECASE)
_TAG = re.compile(r"[#@]\w+")
_WORD = re.compile(r"[a-z0-9']+")


class CheckResult(BaseModel):
    """What the checks found about one draft."""

    valid: bool = True
    violations: list[str] = Field(default_factory=list)
    voice_score: float | None = None
    voice_reasons: list[str] = Field(default_factory=list)
    risk_flags: list[str] = Field(default_factory=list)
    duplicate_of: str | None = None
    similarity: float = 0.0


def risk_flags(text: str, *, banned_words: Iterable[str] = (), extra_topics: Iterable[str] = ()) -> list[str]:
    """Sensitive topics and banned words in `text`, each as a reason."""
    lowered = text.lower()
    flags = []
    for topic, terms in SENSITIVE_TOPICS.items():
        hits = [t for t in terms if re.search(rf"\b{re.escape(t)}\b", lowered)]
        if hits:
            flags.append(f"sensitive topic {topic} ({', '.join(hits[:3])})")
    for term in extra_topics:
        if term and re.search(rf"\b{re.escape(term.lower())}\b", lowered):
            flags.append(f"campaign sensitive topic ({term})")
    for word in banned_words:
        if word and re.search(rf"\b{re.escape(word.lower())}\b", lowered):
            flags.append(f"banned word ({word})")
    return flags


def _shingles(text: str, *, drop: Sequence[str] = ()) -> set[tuple[str, ...]]:
    cleaned = text
    for phrase in drop:
        if phrase:
            cleaned = cleaned.replace(phrase, " ")
    words = _WORD.findall(_TAG.sub(" ", _URL.sub(" ", cleaned)).lower())
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def similarity(a: str, b: str, *, drop: Sequence[str] = ()) -> float:
    """Jaccard similarity of word 3-grams, ignoring links, hashtags, mentions and boilerplate."""
    sa, sb = _shingles(a, drop=drop), _shingles(b, drop=drop)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def nearest(
    text: str, others: Iterable[tuple[str, str]], *, drop: Sequence[str] = ()
) -> tuple[str | None, float]:
    """The (id, similarity) of the most similar of `others` ((id, text) pairs)."""
    best_id, best = None, 0.0
    for other_id, other in others:
        score = similarity(text, other, drop=drop)
        if score > best:
            best_id, best = other_id, score
    return best_id, best


class Decision(BaseModel):
    """The approval policy's verdict on one draft."""

    verdict: str
    """auto_approved | needs_person | dropped"""
    reasons: list[str] = Field(default_factory=list)


def decide(policy: ApprovalPolicy, check: CheckResult, *, duplicate_threshold: float) -> Decision:
    """Apply the policy: invalid drafts are dropped; the rest are approved or wait for a person."""
    if not check.valid:
        return Decision(verdict="dropped", reasons=["breaks platform limits: " + "; ".join(check.violations)])
    if check.duplicate_of is not None and check.similarity >= duplicate_threshold:
        return Decision(
            verdict="dropped",
            reasons=[f"near-duplicate ({check.similarity:.2f}) of a recent post {check.duplicate_of}"],
        )
    if policy.mode == "auto":
        return Decision(verdict="auto_approved", reasons=["policy: auto"])
    if policy.mode == "human":
        return Decision(verdict="needs_person", reasons=["policy: a person approves every post"])
    reasons = []
    if policy.min_brand_voice is not None:
        if check.voice_score is None:
            reasons.append("no trained brand voice to check against")
        elif check.voice_score < policy.min_brand_voice:
            reasons.append(f"brand voice {check.voice_score:.2f} < {policy.min_brand_voice:.2f}")
    if policy.no_risk_flags and check.risk_flags:
        reasons.append("risk flags: " + "; ".join(check.risk_flags))
    if policy.no_near_duplicates and check.duplicate_of is not None and check.similarity >= 0.5:
        reasons.append(f"close to a recent post ({check.similarity:.2f})")
    if reasons:
        return Decision(verdict="needs_person", reasons=reasons)
    return Decision(verdict="auto_approved", reasons=[f"policy: {policy.text}"])
