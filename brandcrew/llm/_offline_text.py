"""Text machinery of the offline model: tokens, stems, entities, platform limits, hashing.

Everything here is pure and deterministic; the offline model builds its answers from these parts.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

# --- hashing: the only source of variety, so the same request always gets the same answer ---


def stable_int(*parts: object) -> int:
    """A non-negative integer derived from `parts`, identical across processes and runs."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def pick(options: Sequence[T], *salt: object) -> T:
    """One of `options`, chosen by a hash of `salt`."""
    return options[stable_int(*salt) % len(options)]


# --- words, stems and keyword overlap ---


def word_set(words: str) -> frozenset[str]:
    """A frozen set of the whitespace-separated words in `words` (keeps vocabulary lists compact)."""
    return frozenset(words.split())


STOP_WORDS = word_set(
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing done down during each few for "
    "from further get gets got had has have having he her here hers him his how i if in into is "
    "it its itself just let lets like me more most my myself need needs no nor not now of off on "
    "once only or other our ours ourselves out over own please same she should so some such than "
    "that the their theirs them then there these they this those through to too under until up us "
    "use using very via want was we were what when where which while who whom why will with would "
    "you your yours yourself tool tools function given return returns"
)

# Words that name the same thing in requests and in tool descriptions; mapped before stemming.
_SYNONYMS = {
    "tweet": "post",
    "tweets": "post",
    "caption": "post",
    "captions": "post",
    "write": "draft",
    "compose": "draft",
    "writing": "draft",
    "analytics": "metric",
    "stats": "metric",
    "statistics": "metric",
    "performance": "metric",
    "perform": "metric",
    "performing": "metric",
    "performed": "metric",
    "insight": "metric",
    "insights": "metric",
    "kpi": "metric",
    "kpis": "metric",
    "calendar": "schedule",
    "queue": "schedule",
    "respond": "reply",
    "response": "reply",
    "responses": "reply",
    "answer": "reply",
    "trending": "trend",
    "viral": "trend",
    "rival": "competitor",
    "rivals": "competitor",
    "competition": "competitor",
    "competing": "competitor",
    "benchmark": "competitor",
    "mood": "sentiment",
    "feel": "sentiment",
    "feeling": "sentiment",
    "feelings": "sentiment",
    "perception": "sentiment",
    "opinion": "sentiment",
    "opinions": "sentiment",
    "find": "search",
    "lookup": "search",
    "query": "search",
    "analyse": "analyze",
    "analysis": "analyze",
    "dm": "message",
    "dms": "message",
    "inbox": "message",
    "engagement": "engag",
    "twitter": "x",
    "saying": "mention",
    "said": "mention",
    "talking": "mention",
    "buzz": "mention",
}

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9']*")


def stem(word: str) -> str:
    """A light suffix-stripping stem, so `schedules`, `scheduled` and `scheduling` match."""
    w = word.lower().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    w = _SYNONYMS.get(w, w)
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 4 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # planned -> plann -> plan
    return _SYNONYMS.get(w, w)


# Nouns nearly every social tool or agent mentions; sharing one says little about which is meant.
GENERIC_STEMS = frozenset(
    {
        "post",
        "content",
        "brand",
        "social",
        "media",
        "platform",
        "account",
        "data",
        "info",
        "item",
        "user",
        "page",
    }
)


def overlap_score(wanted: set[str], offered: set[str]) -> float:
    """Stems in common, generic ones counting half."""
    return sum(0.5 if s in GENERIC_STEMS else 1.0 for s in wanted & offered)


def split_identifier(name: str) -> str:
    """`getPostMetrics` or `get_post_metrics` -> `get post metrics`."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return re.sub(r"[_\-.:/]+", " ", spaced)


def words(text: str) -> list[str]:
    """The words of `text`, identifiers split, in order."""
    return _WORD_RE.findall(split_identifier(text))


def stems(text: str) -> set[str]:
    """Stems of the content words of `text` (stop words dropped)."""
    return {stem(w) for w in words(text) if w.lower() not in STOP_WORDS and len(w) > 1}


def keywords(text: str, limit: int = 6) -> list[str]:
    """Content words of `text` by frequency then first appearance, one per stem, lower case."""
    seen: dict[str, tuple[int, int, str]] = {}
    for position, w in enumerate(_WORD_RE.findall(text)):
        low = w.lower().strip("'")
        if low in STOP_WORDS or len(low) < 3 or low in PLATFORM_WORDS:
            continue
        key = stem(low)
        count, first, shown = seen.get(key, (0, position, low))
        seen[key] = (count + 1, first, shown)
    ranked = sorted(seen.values(), key=lambda item: (-item[0], item[1]))
    return [shown for _, _, shown in ranked[:limit]]


# --- platforms ---

PLATFORMS: tuple[str, ...] = (
    "x",
    "linkedin",
    "instagram",
    "facebook",
    "threads",
    "tiktok",
    "youtube",
    "pinterest",
    "reddit",
)
PLATFORM_LABELS = {
    "x": "X",
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "threads": "Threads",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
    "reddit": "Reddit",
}
PLATFORM_WORDS = word_set(
    "x twitter linkedin instagram insta ig facebook fb threads tiktok youtube yt pinterest reddit"
)
_PLATFORM_ALIASES = {
    "twitter": "x",
    "x.com": "x",
    "tweet": "x",
    "linked in": "linkedin",
    "ig": "instagram",
    "insta": "instagram",
    "fb": "facebook",
    "meta": "facebook",
    "tik tok": "tiktok",
    "yt": "youtube",
}
_PLATFORM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # A bare capital X is the platform only when it stands alone ("for X and LinkedIn").
    ("x", re.compile(r"\b(?:[Tt]witter|[Tt]weets?|x\.com)\b|(?<![\w/.#@-])X(?![\w-])")),
    ("linkedin", re.compile(r"\blinked\s?in\b", re.I)),
    ("instagram", re.compile(r"\b(?:instagram|insta|ig|reels?)\b", re.I)),
    ("facebook", re.compile(r"\b(?:facebook|fb)\b", re.I)),
    ("threads", re.compile(r"\bthreads\b", re.I)),
    ("tiktok", re.compile(r"\btik\s?tok\b", re.I)),
    ("youtube", re.compile(r"\b(?:youtube|yt)\b", re.I)),
    ("pinterest", re.compile(r"\bpinterest\b", re.I)),
    ("reddit", re.compile(r"\b(?:reddit|subreddit)\b|(?<![\w/])r/\w+", re.I)),
)


def normalize_platform(name: str) -> str | None:
    """The canonical platform id for a name or alias (`Twitter` -> `x`), else None."""
    low = name.strip().lower()
    if low in PLATFORMS:
        return low
    return _PLATFORM_ALIASES.get(low)


def find_platforms(text: str) -> list[str]:
    """Platforms mentioned in `text`, in order of first mention."""
    hits: list[tuple[int, str]] = []
    text = URL_RE.sub(lambda m: " " * len(m.group(0)), text)  # "x.com/..." in a link is not a request for X
    for platform, pattern in _PLATFORM_PATTERNS:
        match = pattern.search(text)
        if match:
            hits.append((match.start(), platform))
    return [platform for _, platform in sorted(hits)]


# --- platform length limits and how each platform counts ---

TEXT_LIMITS = {
    "x": 280,
    "threads": 500,
    "linkedin": 3000,
    "instagram": 2200,
    "facebook": 63206,
    "tiktok": 2200,
    "pinterest": 500,
    "youtube": 5000,
    "reddit": 40000,
}
MAX_HASHTAGS = {"instagram": 30, "threads": 1}

URL_RE = re.compile(
    r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"
    r"|\bwww\.[^\s<>\"']*[^\s<>\"'.,;:!?)\]]"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|ai|app|dev|shop|store|ly)\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?",
    re.I,
)
_X_URL_WEIGHT = 23


def _is_emoji(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2300 <= cp <= 0x23FF or 0x2B00 <= cp <= 0x2BFF
    )


def _is_emoji_modifier(cp: int) -> bool:
    # Variation selector, skin tones, keycap, tags: parts of the emoji before them.
    return cp in (0xFE0F, 0xFE0E, 0x20E3) or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def _x_char_weight(cp: int) -> int:
    # twitter-text v3: these ranges weigh 1, every other code point 2.
    light = cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or 8242 <= cp <= 8247
    return 1 if light else 2


def _weighted_plain(text: str, *, emoji_weight: int, other: Callable[[int], int]) -> int:
    total = 0
    i = 0
    while i < len(text):
        cp = ord(text[i])
        if _is_emoji(cp):
            total += emoji_weight
            i += 1
            # Fold modifiers, ZWJ sequences and flag pairs into the one emoji.
            while i < len(text):
                nxt = ord(text[i])
                if _is_emoji_modifier(nxt):
                    i += 1
                elif nxt == 0x200D and i + 1 < len(text):
                    i += 2
                elif 0x1F1E6 <= cp <= 0x1F1FF and 0x1F1E6 <= nxt <= 0x1F1FF:
                    i += 1
                    cp = 0
                else:
                    break
            continue
        total += other(cp)
        i += 1
    return total


def x_length(text: str) -> int:
    """Length as X counts it: URLs weigh 23, emoji and CJK 2, Latin 1 (after NFC)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    last = 0
    for match in URL_RE.finditer(text):
        total += _weighted_plain(text[last : match.start()], emoji_weight=2, other=_x_char_weight)
        total += _X_URL_WEIGHT
        last = match.end()
    return total + _weighted_plain(text[last:], emoji_weight=2, other=_x_char_weight)


def threads_length(text: str) -> int:
    """Length as Threads counts it: characters, with each emoji counted as its UTF-8 bytes."""
    total = 0
    for ch in text:
        cp = ord(ch)
        total += len(ch.encode()) if _is_emoji(cp) or _is_emoji_modifier(cp) or cp == 0x200D else 1
    return total


def utf8_length(text: str) -> int:
    """Bytes of the UTF-8 encoding (YouTube descriptions are limited in bytes)."""
    return len(text.encode())


def measure_for(platform: str) -> Callable[[str], int]:
    """The length function a platform's limit is counted with."""
    if platform == "x":
        return x_length
    if platform == "threads":
        return threads_length
    if platform == "youtube":
        return utf8_length
    return len


def trim_to(text: str, limit: int, measure: Callable[[str], int] = len, *, ellipsis: str = "…") -> str:
    """`text` cut at a word boundary so that `measure` of it (ellipsis included) fits `limit`."""
    if measure(text) <= limit:
        return text
    ends = [m.end() for m in re.finditer(r"\S+", text)]

    def head(i: int) -> str:
        return text[: ends[i]].rstrip(" ,;:-–—(")

    # Lengths grow with the prefix, so binary-search the last word end that still fits.
    low, high, best = 0, len(ends) - 1, -1
    while low <= high:
        mid = (low + high) // 2
        if measure(head(mid) + ellipsis) <= limit:
            best, low = mid, mid + 1
        else:
            high = mid - 1
    return head(best) + ellipsis if best >= 0 and head(best) else ""


# --- entities found in free text ---

_EMOJI_RUN_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff][\ufe0f\ufe0e\u200d\U0001f3fb-\U0001f3ff"
    "\U0001f000-\U0001faff\u2600-\u27bf]*"
)
_HASHTAG_RE = re.compile(r"(?<![\w&/])#([A-Za-z][\w]{1,60})")
_MENTION_RE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_]{2,30})")
_UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_ID_RE = re.compile(r"\b[A-Za-z][A-Za-z]*(?:[_-][A-Za-z0-9]+)+\b")
_QUOTED_RE = re.compile(r"\"([^\"\n]{1,600})\"|“([^”\n]{1,600})”|(?<![\w])'([^'\n]{2,300})'(?![\w])")
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?")
_ISO_DATE_RE = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?\b"
)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
         "aug august", "sep sept september", "oct october", "nov november", "dec december"]
    )
    for m in names.split()
}  # fmt: skip
_MONTH_DATE_RE = re.compile(
    r"\b("
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?",
    re.I,
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def find_urls(text: str) -> list[str]:
    """URLs in `text`, in order, without duplicates."""
    return list(dict.fromkeys(m.group(0) for m in URL_RE.finditer(text)))


def find_emoji(text: str) -> list[str]:
    """Emoji (with their modifiers) in `text`, in order, without duplicates."""
    return list(dict.fromkeys(_EMOJI_RUN_RE.findall(text)))


def strip_emoji(text: str) -> str:
    """`text` without emoji, spaces tidied."""
    return re.sub(r"[ \t]{2,}", " ", _EMOJI_RUN_RE.sub("", text)).strip()


def find_hashtags(text: str) -> list[str]:
    """Hashtags in `text` (with `#`), in order, without duplicates."""
    return list(dict.fromkeys("#" + m for m in _HASHTAG_RE.findall(text)))


def find_mentions(text: str) -> list[str]:
    """@handles in `text` (with `@`), in order, without duplicates."""
    return list(dict.fromkeys("@" + m for m in _MENTION_RE.findall(text)))


def find_ids(text: str) -> list[str]:
    """Record ids in `text`: UUIDs and `prefix_123`-style ids, in order."""
    found = [m.group(0) for m in _UUID_RE.finditer(text)]
    without_urls = URL_RE.sub(" ", text)
    for match in _ID_RE.finditer(without_urls):
        token = match.group(0)
        if any(ch.isdigit() for ch in token) and not _UUID_RE.search(token):
            found.append(token)
    return list(dict.fromkeys(found))


def find_quoted(text: str) -> list[str]:
    """Strings in double, curly or single quotes, in order."""
    return [next(g for g in m.groups() if g) for m in _QUOTED_RE.finditer(text)]


def find_numbers(text: str) -> list[float]:
    """Numbers written in `text` (not inside URLs, dates or ids), in order."""
    cleaned = _ISO_DATE_RE.sub(" ", URL_RE.sub(" ", text))
    cleaned = _UUID_RE.sub(" ", cleaned)
    cleaned = _ID_RE.sub(lambda m: " " if any(c.isdigit() for c in m.group(0)) else m.group(0), cleaned)
    return [float(m.group(0).replace(",", "")) for m in _NUMBER_RE.finditer(cleaned)]


def find_datetimes(text: str, today: date) -> list[datetime]:
    """Dates in `text`: ISO dates, `March 31`, and `today`/`tomorrow`/`next week`/weekday names."""
    found: list[tuple[int, datetime]] = []
    for m in _ISO_DATE_RE.finditer(text):
        try:
            hour, minute = int(m.group(4) or 9), int(m.group(5) or 0)
            found.append(
                (m.start(), datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), hour, minute))
            )
        except ValueError:
            continue
    for m in _MONTH_DATE_RE.finditer(text):
        year = int(m.group(3)) if m.group(3) else today.year
        try:
            day = date(year, _MONTHS[m.group(1).lower()], int(m.group(2)))
        except ValueError:
            continue
        if not m.group(3) and day < today:
            day = day.replace(year=year + 1)  # "March 3" said in April means next March
        found.append((m.start(), datetime(day.year, day.month, day.day, 9, 0)))
    low = text.lower()
    relative = {"today": 0, "tonight": 0, "tomorrow": 1, "next week": 7 - today.weekday()}
    for phrase, days in relative.items():
        index = low.find(phrase)
        if index >= 0:
            day = today + timedelta(days=days)
            found.append((index, datetime(day.year, day.month, day.day, 9, 0)))
    for weekday, name in enumerate(_WEEKDAYS):
        index = low.find(name)
        if index >= 0:
            ahead = (weekday - today.weekday()) % 7 or 7
            day = today + timedelta(days=ahead)
            found.append((index, datetime(day.year, day.month, day.day, 9, 0)))
    return [dt for _, dt in sorted(found, key=lambda item: item[0])]


def find_period_days(text: str) -> int | None:
    """A span asked for in `text` ("last 30 days", "4 weeks", "a month"), in days."""
    low = text.lower()
    match = re.search(r"\b(\d{1,3})\s*[- ]?(day|week|month)s?\b", low)
    if match:
        return int(match.group(1)) * {"day": 1, "week": 7, "month": 30}[match.group(2)]
    for phrase, days in (("fortnight", 14), ("quarter", 90), ("month", 30), ("week", 7), ("year", 365)):
        if re.search(rf"\b(?:a|one|this|next|last|the)\s+{phrase}\b", low):
            return days
    return None


def _banned_pattern(word: str) -> re.Pattern[str]:
    # Inflections count as uses: "guarantee" bans "guaranteed", "cheap" bans "cheapest". Short words
    # only take a plural, so banning "ai" does not wipe out "aim".
    base = re.escape(word.strip())
    if len(word.strip()) >= 4:
        base = re.escape(word.strip().rstrip("e").rstrip("E")) + r"\w{0,4}"
    else:
        base += "s?"
    return re.compile(rf"(?<![\w])#?{base}(?![\w])", re.I)


def scrub_words(text: str, banned: Sequence[str]) -> str:
    """`text` with every banned word or phrase (and its simple inflections) removed."""
    for word in banned:
        if word.strip():
            text = _banned_pattern(word).sub("", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([.,;:!?])", r"\1", text)
    return re.sub(r"(?m)^[ \t]+|[ \t]+$", "", text)


def contains_banned(text: str, banned: Sequence[str]) -> bool:
    """Whether any banned word or phrase (or a simple inflection) appears in `text`."""
    return any(_banned_pattern(w).search(text) for w in banned if w.strip())


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of `text`, at most `limit` characters."""
    text = " ".join(text.split())
    match = re.search(r"(?<=[.!?])\s", text)
    sentence = text[: match.start()] if match else text
    return trim_to(sentence, limit)


def sentences(text: str) -> list[str]:
    """`text` split into sentences (newlines also end one)."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip() for p in parts if p.strip()]


def capitalize(text: str) -> str:
    """`text` with its first letter upper-cased and the rest untouched."""
    return text[:1].upper() + text[1:] if text else text


def camel_hashtag(phrase: str) -> str:
    """`spring sale` -> `#SpringSale`; empty when nothing usable is left."""
    parts = [w for w in re.findall(r"[A-Za-z0-9]+", phrase)]
    tag = "".join(p[:1].upper() + p[1:] for p in parts)
    return f"#{tag}" if tag and tag[0].isalpha() else ""


def format_number(value: float, *, key: str = "") -> str:
    """A number for people: thousands separators, rates under 1 as percentages."""
    if isinstance(value, bool):
        return str(value).lower()
    if "rate" in key.lower() and 0 <= value < 1 and not float(value).is_integer():
        return f"{value * 100:.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"
