"""A small VADER-style sentiment lexicon and keyword rules for the offline model's classifiers."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from brandcrew.llm._offline_text import stem, stems, word_set, words

_POSITIVE = {
    "love": 3.0, "loved": 3.0, "loving": 3.0, "amazing": 3.0, "awesome": 3.0, "great": 3.0,
    "excellent": 3.0, "fantastic": 3.0, "perfect": 3.0, "best": 3.0, "wonderful": 3.0, "happy": 2.5,
    "glad": 2.0, "good": 2.0, "nice": 2.0, "enjoy": 2.0, "enjoyed": 2.0, "beautiful": 3.0,
    "brilliant": 3.0, "thanks": 2.0, "thank": 2.0, "grateful": 2.5, "recommend": 2.0, "impressed": 2.5,
    "helpful": 2.0, "fast": 1.5, "easy": 1.5, "favorite": 2.5, "favourite": 2.5, "cool": 1.5, "win": 2.0,
    "wow": 2.5, "excited": 2.5, "exciting": 2.5, "delighted": 3.0, "superb": 3.0, "solid": 1.5,
    "smooth": 1.5, "incredible": 3.0, "reliable": 2.0, "fun": 2.0, "worth": 1.5, "yay": 2.0,
    "congrats": 2.5, "congratulations": 2.5, "kudos": 2.5, "proud": 2.0, "stunning": 3.0, "comfy": 2.0,
    "comfortable": 2.0, "quality": 1.0, "lovely": 2.5, "fixed": 1.0, "resolved": 1.5, "appreciate": 2.0,
}  # fmt: skip
_NEGATIVE = {
    "hate": 3.0, "terrible": 3.0, "awful": 3.0, "horrible": 3.0, "worst": 3.0, "bad": 2.5, "poor": 2.0,
    "broken": 2.5, "broke": 2.0, "disappointed": 2.5, "disappointing": 2.5, "angry": 3.0, "furious": 3.0,
    "annoyed": 2.0, "annoying": 2.0, "slow": 1.5, "late": 1.5, "delayed": 1.5, "refund": 1.5, "scam": 3.0,
    "fraud": 3.0, "useless": 3.0, "waste": 2.5, "rude": 2.5, "unacceptable": 3.0, "fail": 2.5,
    "failed": 2.5, "failure": 2.5, "problem": 1.5, "issue": 1.2, "issues": 1.2, "bug": 1.5, "crash": 2.0,
    "crashed": 2.0, "error": 1.5, "missing": 1.5, "wrong": 2.0, "sad": 2.0, "upset": 2.5,
    "complaint": 2.0, "complain": 2.0, "lawsuit": 3.0, "boycott": 3.0, "toxic": 3.0, "dangerous": 3.0,
    "unsafe": 3.0, "recall": 2.0, "leak": 2.0, "leaked": 2.5, "breach": 3.0, "hacked": 2.5, "outrage": 3.0,
    "disgusting": 3.0, "ridiculous": 2.5, "cancel": 1.5, "cancelled": 1.5, "overpriced": 2.0,
    "expensive": 1.2, "ugly": 2.5, "meh": 1.0, "boring": 2.0, "confusing": 1.5, "sucks": 3.0, "stuck": 1.5,
    "damaged": 2.5, "lost": 1.5, "ignored": 2.0, "scandal": 3.0, "racist": 3.0, "injured": 3.0,
    "sick": 2.0, "worse": 2.5, "fake": 2.5, "misleading": 2.5, "nightmare": 3.0,
}  # fmt: skip
_EMOJI_VALENCE = {
    "😍": 3.0, "❤": 3.0, "😊": 2.0, "🙂": 1.5, "😀": 2.0, "😁": 2.0, "🎉": 2.0, "👍": 2.0, "🔥": 2.0,
    "🙌": 2.0, "💯": 2.0, "🥰": 3.0, "😂": 1.5, "✨": 1.0, "👏": 2.0,
    "😡": -3.0, "😠": -3.0, "👎": -2.5, "😞": -2.0, "😢": -2.0, "😭": -2.0, "💔": -3.0, "🤬": -3.0,
    "😤": -2.0, "🙄": -1.5, "😒": -2.0,
}  # fmt: skip
_NEGATORS = word_set("not no never without hardly nobody nothing neither nor cannot")
_BOOSTERS = word_set("very really so extremely super incredibly totally absolutely truly too")
_TOKEN_RE = re.compile(r"[A-Za-z']+|[\U0001f300-\U0001faff\u2600-\u27bf]")

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"


@dataclass(frozen=True, kw_only=True)
class Sentiment:
    """A lexicon sentiment reading of one text."""

    label: str
    score: float
    """Compound score in [-1, 1] (VADER's normalisation)."""
    drivers: tuple[str, ...] = ()
    """The words that moved the score most."""


def _valence(token: str) -> float:
    low = token.lower()
    if low in _POSITIVE:
        return _POSITIVE[low]
    if low in _NEGATIVE:
        return -_NEGATIVE[low]
    return _EMOJI_VALENCE.get(token, 0.0)


def _score_clause(clause: str, drivers: list[tuple[float, str]]) -> float:
    tokens = _TOKEN_RE.findall(clause)
    lowered = [t.lower() for t in tokens]
    but_at = lowered.index("but") if "but" in lowered else -1
    total = 0.0
    for i, token in enumerate(tokens):
        value = _valence(token)
        if not value:
            continue
        window = lowered[max(0, i - 3) : i]
        if any(w in _NEGATORS or w.endswith("n't") for w in window):
            value *= -0.74  # VADER's negation scalar
        if i > 0 and lowered[i - 1] in _BOOSTERS:
            value += 0.293 * math.copysign(1, value)
        if token.isupper() and len(token) > 2:
            value += 0.733 * math.copysign(1, value)
        if but_at >= 0:
            value *= 1.5 if i > but_at else 0.5
        total += value
        drivers.append((abs(value), token.lower()))
    return total


def score_sentiment(text: str) -> Sentiment:
    """Sentiment of `text` from the lexicon, with negation, boosters, `but` and exclamations."""
    drivers: list[tuple[float, str]] = []
    # Negation and "but" act within a sentence, never across one.
    total = sum(_score_clause(clause, drivers) for clause in re.split(r"[.!?;\n]+", text))
    if total:
        total += min(text.count("!"), 3) * 0.292 * math.copysign(1, total)
    compound = total / math.sqrt(total * total + 15)
    label = POSITIVE if compound >= 0.05 else NEGATIVE if compound <= -0.05 else NEUTRAL
    top = tuple(dict.fromkeys(word for _, word in sorted(drivers, key=lambda d: -d[0])))[:3]
    return Sentiment(label=label, score=round(compound, 3), drivers=top)


# Keyword rules for labels other than sentiment, keyed by the stem of the label name.
_LABEL_RULES: dict[str, frozenset[str]] = {
    "complaint": word_set(
        "broken refund late delay damag wrong never worst terrible awful disappoint complain "
        "cancel stuck missing charg overcharg rude unacceptabl fail crash"
    ),
    "question": word_set("how when where what why which who can could does do is ? anyone"),
    "praise": word_set("love amaz great awesom best thank fantastic perfect beautiful recommend"),
    "spam": word_set("free follower crypto bitcoin giveaway click dm promo earn cash forex"),
    "purchase": word_set("buy price cost order discount sale shop stock ship avail coupon"),
    "support": word_set("help account login password reset support error bug fix work access"),
    "crisis": word_set(
        "boycott scandal outrage lawsuit recall breach leak hack unsaf danger injur racist toxic "
        "viral backlash"
    ),
    "feedback": word_set("suggest wish feature idea improv would feedback"),
}
_LABEL_ALIASES = {
    "inquiry": "question", "enquiry": "question", "questions": "question", "compliment": "praise",
    "lead": "purchase", "sales": "purchase", "sale": "purchase", "buying": "purchase", "urgent": "crisis",
    "escalate": "crisis", "escalation": "crisis", "bug": "support", "help": "support",
    "issue": "complaint", "problem": "complaint", "request": "feedback", "suggestion": "feedback",
}  # fmt: skip
_SENTIMENT_LABELS = {"positive": 1, "negative": -1, "neutral": 0, "mixed": 0}


def _label_kind(option: str) -> str:
    low = option.lower().strip()
    return _LABEL_ALIASES.get(low, low)


def classify(text: str, options: Sequence[str], descriptions: Sequence[str] = ()) -> str:
    """The option that best labels `text`: sentiment labels by lexicon, others by keyword rules."""
    if not options:
        return score_sentiment(text).label
    reading = score_sentiment(text)
    # Raw words too: question words are stop words, yet they are what marks a question.
    text_stems = stems(text) | {w.lower() for w in words(text)} | ({"?"} if "?" in text else set())
    best, best_score = options[0], -1.0
    for i, option in enumerate(options):
        kind = _label_kind(option)
        score = 0.0
        if kind in _SENTIMENT_LABELS:
            direction = _SENTIMENT_LABELS[kind]
            label_direction = {POSITIVE: 1, NEGATIVE: -1, NEUTRAL: 0}[reading.label]
            score = 2.0 if direction == label_direction else 0.0
            if kind == "mixed" and reading.label != NEUTRAL and abs(reading.score) < 0.35:
                score = 1.0
        else:
            rules = _LABEL_RULES.get(kind, frozenset({stem(kind)}))
            score = float(sum(1 for s in text_stems if any(s.startswith(r) for r in rules if r)))
            if kind == "complaint" and reading.label == NEGATIVE:
                score += 1.0
            if kind == "praise" and reading.label == POSITIVE:
                score += 1.0
        if i < len(descriptions):
            score += 0.5 * len(text_stems & stems(descriptions[i]))
        if score > best_score:
            best, best_score = option, score
    if best_score <= 0:
        # Nothing matched: prefer a catch-all label over an arbitrary first one.
        for option in options:
            if option.lower() in ("neutral", "other", "general", "none", "unknown", "misc"):
                return option
    return best


def severity(text: str, *, negative_share: float | None = None, volume: float | None = None) -> str:
    """low / medium / high / critical, from crisis words, negativity and mention volume."""
    crisis_hits = sum(1 for s in stems(text) if any(s.startswith(r) for r in _LABEL_RULES["crisis"]))
    points = crisis_hits * 2
    reading = score_sentiment(text)
    points += 2 if reading.score <= -0.6 else 1 if reading.label == NEGATIVE else 0
    if negative_share is not None:
        points += (
            3 if negative_share >= 0.6 else 2 if negative_share >= 0.4 else 1 if negative_share >= 0.25 else 0
        )
    if volume is not None:
        points += 2 if volume >= 1000 else 1 if volume >= 200 else 0
    return "critical" if points >= 7 else "high" if points >= 4 else "medium" if points >= 2 else "low"
