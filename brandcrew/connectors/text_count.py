"""How each platform measures text: code points, UTF-8 bytes, UTF-16 units, or X's weighted length.

Also finds the entities that change a count or carry a limit: URLs, hashtags and @mentions.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Final

# `regex` (a tiktoken dependency) gives grapheme clusters (\X) and emoji properties the stdlib lacks.
import regex

__all__ = (
    "X_MAX_WEIGHTED_LENGTH",
    "X_URL_WEIGHT",
    "CountMethod",
    "count_text",
    "count_unit",
    "extract_hashtags",
    "extract_mentions",
    "find_urls",
    "graphemes",
    "hashtag_spans",
    "is_emoji_cluster",
    "mention_spans",
    "x_weighted_length",
)


class CountMethod(StrEnum):
    """How a platform counts the length of a text field."""

    CHARS = "chars"
    """Unicode code points (Python `len`)."""
    UTF8_BYTES = "utf8_bytes"
    """Bytes of the UTF-8 encoding (YouTube descriptions)."""
    UTF16_UNITS = "utf16_units"
    """UTF-16 code units: astral characters such as emoji count 2 (TikTok's "UTF-16 runes")."""
    X_WEIGHTED = "x_weighted"
    """twitter-text config v3: NFC, URLs 23, emoji sequences 2, code points by range 1 or 2."""
    CHARS_EMOJI_UTF8 = "chars_emoji_utf8"
    """Code points, except each emoji counts its UTF-8 bytes (Threads)."""


_UNITS: Final[dict[CountMethod, str]] = {
    CountMethod.CHARS: "characters",
    CountMethod.UTF8_BYTES: "UTF-8 bytes",
    CountMethod.UTF16_UNITS: "UTF-16 code units",
    CountMethod.X_WEIGHTED: "weighted characters (URLs count 23, emoji and CJK count 2)",
    CountMethod.CHARS_EMOJI_UTF8: "characters (each emoji counts its UTF-8 bytes)",
}

# twitter-text config/v3.json: maxWeightedTweetLength 280, scale 100, defaultWeight 200,
# transformedURLLength 23, emojiParsingEnabled true; these ranges weigh 100 (one character).
# https://github.com/twitter/twitter-text/blob/master/config/v3.json
X_MAX_WEIGHTED_LENGTH: Final = 280
X_URL_WEIGHT: Final = 23
_X_DEFAULT_WEIGHT: Final = 2
_X_EMOJI_WEIGHT: Final = 2
_X_LIGHT_RANGES: Final = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_GRAPHEME = regex.compile(r"\X")
# A cluster is drawn as an emoji when its base can be an emoji and something asks for emoji
# presentation; a bare "©" or "1" stays text, which is how twitter-text's emoji list treats them.
_EMOJI_BASE = regex.compile(r"[\p{Emoji}\p{Regional_Indicator}]")
_EMOJI_SIGNAL = regex.compile(r"[\p{Emoji_Presentation}\p{Emoji_Modifier}\p{Regional_Indicator}\u20e3\ufe0f]")

# URL detection modelled on twitter-text's extractUrlsWithIndices: http(s) URLs anywhere a
# word may start, and bare domains with a known TLD.
_GTLDS: Final = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|aero|coop|museum|mobi|asia|tel|travel|jobs|"
    "app|dev|page|blog|shop|store|online|site|tech|xyz|club|top|live|cloud|design|agency|studio|"
    "media|news|space|website|art|link|email|solutions|world|today|company|digital|life|network|"
    "group|social|marketing|software|systems|academy|events|photography|game|games|xxx"
)
_NOT_BEFORE_URL: Final = r"(?<![A-Za-z0-9@\uff20$#\uff03])"
_SCHEME_URL = regex.compile(
    _NOT_BEFORE_URL + r"https?://[^\s/?#.]+(?:\.[^\s/?#.]+)+(?::\d{1,5})?[^\s]*", regex.I
)
_BARE_URL = regex.compile(
    _NOT_BEFORE_URL
    + r"(?<![-_./])"
    + r"((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    + rf"(?:{_GTLDS}|[a-z]{{2}}))(?![a-z0-9-])((?::\d{{1,5}})?(?:[/?#][^\s]*)?)",
    regex.I,
)
# twitter-text's invalidShortDomain: "name.cc" without a path is not a link unless cc is co or tv.
_SPECIAL_SHORT_CCTLDS: Final = frozenset({"co", "tv"})
_URL_END_OK = regex.compile(r"[\w=#/+\-&%~$@]")

_HASHTAG = regex.compile(r"(?<![\w&#\uff03/\\])[#\uff03](\w*[^\W\d]\w*)")
_MENTION = regex.compile(r"(?<![\w@\uff20\\])[@\uff20](\w{1,50})")


def count_unit(method: CountMethod) -> str:
    """Human name of the unit a count method measures in."""
    return _UNITS[method]


def graphemes(text: str) -> list[str]:
    """Split text into user-perceived characters (extended grapheme clusters)."""
    return list(_GRAPHEME.findall(text))


def is_emoji_cluster(cluster: str) -> bool:
    """True when a grapheme cluster is an emoji (incl. ZWJ sequences, skin tones, flags, keycaps)."""
    return bool(_EMOJI_BASE.match(cluster)) and bool(_EMOJI_SIGNAL.search(cluster))


def _trim_url(url: str) -> str:
    # Sentence punctuation after a link is not part of it; a closing bracket is, when it is balanced.
    while url:
        last = url[-1]
        if last == ")" and url.count("(") >= url.count(")"):
            break
        if last == "]" and url.count("[") >= url.count("]"):
            break
        if last not in ")]" and _URL_END_OK.match(last):
            break
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the links X would shorten to t.co, in text order."""
    spans: list[tuple[int, int]] = []
    for m in _SCHEME_URL.finditer(text):
        url = _trim_url(m.group(0))
        if "." in url.split("://", 1)[1]:
            spans.append((m.start(), m.start() + len(url)))
    taken = list(spans)
    for m in _BARE_URL.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        domain = m.group(1)
        url = _trim_url(m.group(0))  # never eats into the domain: it ends with TLD letters
        labels = domain.lower().split(".")
        tld = labels[-1]
        if (
            len(url) == len(domain)
            and len(labels) == 2
            and len(tld) == 2
            and tld not in _SPECIAL_SHORT_CCTLDS
        ):
            continue
        spans.append((m.start(), m.start() + len(url)))
    return sorted(spans)


def _x_code_point_weight(code_point: int) -> int:
    for start, end in _X_LIGHT_RANGES:
        if start <= code_point <= end:
            return 1
    return _X_DEFAULT_WEIGHT


def _x_weigh_plain(segment: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(segment):
        if is_emoji_cluster(cluster):
            total += _X_EMOJI_WEIGHT
        else:
            # Outside emoji, twitter-text weighs every code point, so combining marks count too.
            total += sum(_x_code_point_weight(ord(ch)) for ch in cluster)
    return total


def x_weighted_length(text: str) -> int:
    """The length X checks against its 280 limit (twitter-text config v3)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for start, end in find_urls(text):
        total += _x_weigh_plain(text[pos:start]) + X_URL_WEIGHT
        pos = end
    return total + _x_weigh_plain(text[pos:])


def count_text(text: str, method: CountMethod) -> int:
    """Length of `text` as a platform using `method` counts it."""
    if method is CountMethod.CHARS:
        return len(text)
    if method is CountMethod.UTF8_BYTES:
        return len(text.encode("utf-8", "surrogatepass"))
    if method is CountMethod.UTF16_UNITS:
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    if method is CountMethod.X_WEIGHTED:
        return x_weighted_length(text)
    return sum(
        len(cluster.encode("utf-8", "surrogatepass")) if is_emoji_cluster(cluster) else len(cluster)
        for cluster in _GRAPHEME.findall(text)
    )


def _outside(spans: list[tuple[int, int]], pos: int) -> bool:
    return not any(s <= pos < e for s, e in spans)


def hashtag_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the hashtags in `text` (the `#` included), skipping `#` inside links."""
    urls = find_urls(text)
    return [(m.start(), m.end()) for m in _HASHTAG.finditer(text) if _outside(urls, m.start())]


def mention_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the @mentions in `text` (the `@` included), skipping e-mail addresses and links."""
    urls = find_urls(text)
    return [(m.start(), m.end()) for m in _MENTION.finditer(text) if _outside(urls, m.start())]


def extract_hashtags(text: str) -> list[str]:
    """Hashtags in text order, without the `#`."""
    return [text[s + 1 : e] for s, e in hashtag_spans(text)]


def extract_mentions(text: str) -> list[str]:
    """@mentions in text order, without the `@`."""
    return [text[s + 1 : e] for s, e in mention_spans(text)]
