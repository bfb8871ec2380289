"""Text measurements and guideline parsing behind the brand-voice profile."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff\U0001f300-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\u3030\u303d]",
    re.UNICODE,
)
HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)*", re.UNICODE)
CAPS_WORD = re.compile(r"\b[A-Z][A-Z'’]{2,}\b")
EXCLAIM_RUN = re.compile(r"!{2,}")
COMMON_ACRONYMS = frozenset(
    {"UK", "USA", "EU", "FAQ", "DIY", "CEO", "API", "PDF", "URL", "UTC", "BST", "GMT", "NYC"}
)

_NUMBER_WORDS = {
    "zero": 0, "no": 0, "none": 0, "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_PLATFORMS = {
    "x": "x", "twitter": "x", "tweets": "x", "instagram": "instagram", "linkedin": "linkedin",
    "facebook": "facebook", "threads": "threads", "tiktok": "tiktok", "bluesky": "bluesky", "mastodon": "mastodon",
}  # fmt: skip
# Function words carry no brand signal and would crowd the vocabulary lists.
_STOPWORDS_TEXT = """
a an the and or but if of to in on at by for with from as is are was were be been being it its it's
this that these those we we're we'll we've our ours us you you're you'll your yours i i'm me my he
she they them their there here what which who whom when where why how all any each few more most
other some such no nor not only own same so than too very can will just don't should now do does did
has have had having into about over under again further then once up down out off also would could
may might must shall
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def words(text: str) -> list[str]:
    """Lower-case word tokens, hashtags and mentions excluded."""
    stripped = HASHTAG.sub(" ", re.sub(r"@\w+", " ", text))
    return WORD.findall(stripped.lower())


def content_words(text: str) -> list[str]:
    """Word tokens of two letters or more that are not function words."""
    return [w for w in words(text) if len(w) > 1 and w not in STOPWORDS]


def hashtags(text: str) -> list[str]:
    """The hashtags of a text, lower-cased, without '#'."""
    return [h.lower() for h in HASHTAG.findall(text)]


def emoji_count(text: str) -> int:
    """How many emoji a text holds (a flag counts as two regional indicators)."""
    return len(EMOJI.findall(text))


def caps_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Words of three letters or more in capitals that are not known acronyms."""
    allow = COMMON_ACRONYMS | set(allowed)
    return [w for w in CAPS_WORD.findall(text) if w not in allow]


def _number(text: str) -> int | None:
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    return _NUMBER_WORDS.get(text)


def _limit(line: str) -> int | None:
    """The N in 'at most N', 'no more than N', 'max N', 'up to N'; 0 for 'no emoji'/'none'."""
    m = re.search(
        r"(?:at most|no more than|max(?:imum)?|up to|not more than)\s+(\w+(?: single)?)", line, re.I
    )
    if m and (n := _number(m.group(1))) is not None:
        return n
    if re.search(r"\b(no|never|none|without)\b[^.]*\b(emoji|hashtags?)\b", line, re.I):
        return 0
    return None


def _quoted(line: str) -> list[str]:
    found = re.findall(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’", line)
    return [next(g for g in groups if g).strip().lower() for groups in found]


@dataclass
class GuidelineRules:
    """What the written guidelines say that a program can check."""

    tone: list[str] = field(default_factory=list)
    banned: list[str] = field(default_factory=list)
    lengths: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    max_emoji: int | None = None
    max_hashtags: int | None = None
    brand_hashtags: list[str] = field(default_factory=list)
    only_brand_hashtags: bool = False
    no_caps: bool = False
    no_exclamation_runs: bool = False


def parse_guidelines(text: str) -> GuidelineRules:
    """Pull what can be checked mechanically out of written guidelines.

    Recognised lines: `Tone:`/`Voice:` (comma list), `Avoid:`/`Banned:`/`Never say:` (quoted
    phrases, or a comma list), an `emoji` line with a limit, a `hashtag` line with a limit and
    the allowed tags, per-platform lengths in characters, and mentions of all-caps or
    exclamation marks as things to avoid.
    """
    rules = GuidelineRules()
    for raw in text.splitlines():
        line = raw.strip()
        lower = line.lower()
        if not line:
            continue
        if m := re.match(r"^(tone|voice)\s*[:\-]\s*(.+)$", line, re.I):
            rules.tone += [
                t.strip(" .").lower() for t in re.split(r",|;|\band\b", m.group(2)) if t.strip(" .")
            ]
            continue
        if re.match(r"^(avoid|banned( words| phrases)?|never say|don'?t say|do not say)\s*[:\-]", lower):
            quoted = _quoted(line)
            if quoted:
                rules.banned += quoted
            else:
                rest = line.split(":", 1)[1]
                rules.banned += [t.strip(" .").lower() for t in rest.split(",") if t.strip(" .")]
            continue
        if ("all-caps" in lower or "all caps" in lower) and re.search(r"\b(never|avoid|no|don'?t)\b", lower):
            rules.no_caps = True
        if "exclamation" in lower and re.search(r"\b(never|avoid|no|don'?t|strings?)\b", lower):
            rules.no_exclamation_runs = True
        if "emoji" in lower and (n := _limit(line)) is not None:
            rules.max_emoji = n
        if "hashtag" in lower:
            if (n := _limit(line)) is not None:
                rules.max_hashtags = n
            tags = hashtags(line)
            if tags:
                rules.brand_hashtags = tags
                rules.only_brand_hashtags = bool(re.search(r"\bonly\b", lower))
        if "character" in lower:
            for clause in re.split(r";|\.\s", line):
                platform = next(
                    (_PLATFORMS[w] for w in re.findall(r"[a-z]+", clause.lower()) if w in _PLATFORMS), None
                )
                if platform is None:
                    continue
                if m := re.search(r"(\d+)\s*(?:to|-|–|and)\s*(\d+)\s*char", clause, re.I):
                    rules.lengths[platform] = (int(m.group(1)), int(m.group(2)))
                elif m := re.search(
                    r"(?:under|up to|at most|below|max(?:imum)?|within)\D{0,12}(\d+)", clause, re.I
                ):
                    rules.lengths[platform] = (None, int(m.group(1)))
    rules.tone = list(dict.fromkeys(rules.tone))
    rules.banned = list(dict.fromkeys(rules.banned))
    return rules


def log_odds(
    good_docs: Sequence[Sequence[str]], bad_docs: Sequence[Sequence[str]], *, prior: float = 0.5
) -> dict[str, float]:
    """z-scored log-odds of each word between the good and the bad documents (Monroe et al. 2008).

    Counts each word once per document, so one chatty example cannot dominate; the uniform
    Dirichlet prior keeps rare words from looking decisive.
    """
    good = Counter(w for doc in good_docs for w in set(doc))
    bad = Counter(w for doc in bad_docs for w in set(doc))
    vocab = set(good) | set(bad)
    n_good, n_bad = sum(good.values()), sum(bad.values())
    a0 = prior * len(vocab)
    out: dict[str, float] = {}
    for w in vocab:
        yg, yb = good[w] + prior, bad[w] + prior
        delta = math.log(yg / (n_good + a0 - yg)) - math.log(yb / (n_bad + a0 - yb))
        out[w] = delta / math.sqrt(1.0 / yg + 1.0 / yb)
    return out
