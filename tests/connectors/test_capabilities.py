"""The capability table and text counting, pinned to the platforms' documented rules."""

from __future__ import annotations

import pydantic
import pytest

from brandcrew.connectors.capabilities import (
    CAPABILITIES,
    MediaType,
    Platform,
    get_capabilities,
)
from brandcrew.connectors.text_count import (
    CountMethod,
    count_text,
    extract_hashtags,
    extract_mentions,
    find_urls,
    graphemes,
    is_emoji_cluster,
    x_weighted_length,
)

LONG_URL = "https://example.com/" + "a" * 200


def test_every_platform_has_capabilities_with_sources() -> None:
    assert set(CAPABILITIES) == set(Platform)
    for platform, caps in CAPABILITIES.items():
        assert caps.platform is platform
        assert caps.can_publish is False  # placeholder: the connector registry turns it on
        if platform is not Platform.SANDBOX:
            assert caps.sources, f"{platform} cites no documentation"
            assert all(s.startswith("https://") for s in caps.sources)


def test_documented_limits() -> None:
    x, li, ig = get_capabilities("x"), get_capabilities("linkedin"), get_capabilities(Platform.INSTAGRAM)
    assert (x.text.max_length, x.text.count, x.max_media, x.threads) == (280, CountMethod.X_WEIGHTED, 4, True)
    assert x.media[MediaType.IMAGE].max_count == 4 and x.media[MediaType.VIDEO].max_count == 1
    assert (li.text.max_length, li.text_syntax, li.media[MediaType.IMAGE].max_count) == (
        3000,
        "linkedin_little",
        20,
    )
    assert (ig.text.max_length, ig.max_media, ig.media_required, ig.daily_post_quota) == (2200, 10, True, 50)
    assert (ig.mention_limit, ig.links_clickable) == (20, False)
    th = get_capabilities("threads")
    assert (th.text.max_length, th.text.count, th.hashtag_limit) == (500, CountMethod.CHARS_EMOJI_UTF8, 1)
    assert (th.daily_post_quota, th.daily_reply_quota, th.max_media) == (250, 1000, 20)
    assert get_capabilities("facebook").text.max_length == 63206
    tt = get_capabilities("tiktok")
    assert (tt.text.max_length, tt.text.count, tt.media_required) == (2200, CountMethod.UTF16_UNITS, True)
    yt = get_capabilities("youtube")
    assert yt.title is not None and (yt.title.max_length, yt.title.forbidden_chars) == (100, "<>")
    assert (yt.text.max_length, yt.text.count, yt.text.forbidden_chars) == (
        5000,
        CountMethod.UTF8_BYTES,
        "<>",
    )
    pin = get_capabilities("pinterest")
    assert pin.title is not None and (pin.title.max_length, pin.text.max_length) == (100, 500)
    assert (pin.media_required, pin.link_max_length) == (True, 2048)
    rd = get_capabilities("reddit")
    assert rd.title is not None and (rd.title.max_length, rd.title.required, rd.text.max_length) == (
        300,
        True,
        40000,
    )


def test_capabilities_are_frozen_and_unknown_platform_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError):
        get_capabilities("x").hashtag_limit = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        get_capabilities("myspace")
    premium = get_capabilities("x").model_copy(update={"text": get_capabilities("x").text.model_copy()})
    assert premium.text.max_length == 280


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        pytest.param("a" * 280, 280, id="ascii-280"),
        pytest.param("Hello, world! 👋", 16, id="docs-example"),
        pytest.param("https://example.com", 23, id="short-url-23"),
        pytest.param(LONG_URL, 23, id="long-url-23"),
        pytest.param("http://t.co", 23, id="tiny-url-23"),
        pytest.param("see example.com/page now", 4 + 23 + 4, id="bare-domain-with-path"),
        pytest.param("www.google.de", 23, id="bare-subdomain-cctld"),
        pytest.param("file.py and notes.md", 20, id="short-cctld-is-text"),
        pytest.param("mail me: a@b.com", 16, id="email-is-not-url"),
        pytest.param("😀", 2, id="emoji"),
        pytest.param("👍🏽", 2, id="skin-tone"),
        pytest.param("👨\u200d👩\u200d👧\u200d👦", 2, id="zwj-family"),
        pytest.param("🙋🏽\u200d♀️", 2, id="zwj-with-tone-and-vs16"),
        pytest.param("🇫🇷", 2, id="flag"),
        pytest.param("1️⃣", 2, id="keycap"),
        pytest.param("❤️", 2, id="vs16-heart"),
        pytest.param("日本語", 6, id="cjk-2-each"),
        pytest.param("한국어", 6, id="hangul-2-each"),
        pytest.param("café", 4, id="accented-latin-1"),
        pytest.param("cafe\u0301", 4, id="nfd-normalised-to-nfc"),
        pytest.param("q\u0307", 2, id="combining-mark-counts"),
        pytest.param("Привет", 6, id="cyrillic-1"),
        pytest.param("\u2014\u201c\u201d", 3, id="general-punctuation-1"),
        pytest.param("\u2026", 2, id="ellipsis-outside-light-ranges"),
        pytest.param("©", 1, id="text-style-copyright"),
        pytest.param("(https://en.wikipedia.org/wiki/Foo_(bar)).", 1 + 23 + 2, id="url-balanced-parens"),
    ],
)
def test_x_weighted_length(text: str, weight: int) -> None:
    assert x_weighted_length(text) == weight


def test_url_weight_is_constant_whatever_its_length() -> None:
    assert x_weighted_length("a " + LONG_URL) == x_weighted_length("a https://x.co") == 25


@pytest.mark.parametrize(
    ("method", "text", "n"),
    [
        (CountMethod.CHARS, "😀é", 2),
        (CountMethod.UTF8_BYTES, "😀é", 6),
        (CountMethod.UTF16_UNITS, "😀é", 3),
        (CountMethod.CHARS_EMOJI_UTF8, "😀é", 5),
        (CountMethod.CHARS_EMOJI_UTF8, "👨\u200d👩\u200d👧\u200d👦", 25),
        (CountMethod.CHARS_EMOJI_UTF8, "日本", 2),
        (CountMethod.X_WEIGHTED, "😀é", 3),
    ],
)
def test_count_methods(method: CountMethod, text: str, n: int) -> None:
    assert count_text(text, method) == n


def test_find_urls_trims_sentence_punctuation() -> None:
    text = "Read https://example.com/a?b=c, then example.org! Or (www.site.co.uk/x)."
    assert [text[s:e] for s, e in find_urls(text)] == [
        "https://example.com/a?b=c",
        "example.org",
        "www.site.co.uk/x",
    ]


def test_hashtags_and_mentions_skip_links_emails_numbers_and_escapes() -> None:
    text = "#Launch day #2024 with @brand_team, mail a@b.com, see https://x.com/p#frag \\#not ＃full #ok."
    assert extract_hashtags(text) == ["Launch", "full", "ok"]
    assert extract_mentions(text) == ["brand_team"]


def test_graphemes_keep_emoji_sequences_whole() -> None:
    clusters = graphemes("a👨\u200d👩\u200d👧🇯🇵e\u0301")
    assert clusters == ["a", "👨\u200d👩\u200d👧", "🇯🇵", "e\u0301"]
    assert [is_emoji_cluster(c) for c in clusters] == [False, True, True, False]
    assert not is_emoji_cluster("1") and not is_emoji_cluster("©")
