"""validate() reports every broken rule; fix() repairs the mechanical ones and reports the rest."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brandcrew.connectors.capabilities import MediaType, Platform, get_capabilities
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.text_count import CountMethod, count_text, find_urls
from brandcrew.connectors.validation import (
    ELLIPSIS,
    ViolationCode,
    escape_linkedin,
    fix,
    shorten_text,
    split_thread,
    unescape_linkedin,
    validate,
)

V = ViolationCode
IMAGE = MediaItem(type=MediaType.IMAGE, mime="image/jpeg", size_bytes=1000)
VIDEO = MediaItem(type=MediaType.VIDEO, mime="video/mp4", size_bytes=10_000, duration_s=30)
TEXT_CODES = {
    V.TOO_LONG,
    V.TOO_MANY_HASHTAGS,
    V.TOO_MANY_MENTIONS,
    V.FORBIDDEN_CHARACTER,
    V.UNESCAPED_RESERVED,
    V.EMPTY_PART,
    V.THREADS_UNSUPPORTED,
}
NUMBERING = re.compile(r" \(\d+/\d+\)$")


def codes(draft: PostDraft) -> list[tuple[str, ViolationCode]]:
    return [(v.field, v.code) for v in validate(draft)]


# --- documented limits --------------------------------------------------------------------------


def test_x_plain_ascii_280_is_ok_and_281_is_too_long_with_numbers() -> None:
    assert validate(PostDraft(platform=Platform.X, text="a" * 280)) == []
    [v] = validate(PostDraft(platform="x", text="a" * 281))
    assert (v.field, v.code, v.limit, v.actual, v.fixable) == ("text", V.TOO_LONG, 280, 281, True)
    assert "281" in v.message and "280" in v.message


def test_x_counts_a_url_as_23_whatever_its_length() -> None:
    text = "a" * 256 + " https://example.com/" + "p" * 300  # 256 + 1 + 23 = 280
    assert validate(PostDraft(platform="x", text=text)) == []


def test_x_counts_cjk_and_emoji_as_two() -> None:
    assert validate(PostDraft(platform="x", text="語" * 140)) == []
    assert codes(PostDraft(platform="x", text="語" * 141)) == [("text", V.TOO_LONG)]
    assert validate(PostDraft(platform="x", text="👨\u200d👩\u200d👧\u200d👦" * 140)) == []


def test_validate_reports_every_violation_not_just_the_first() -> None:
    draft = PostDraft(
        platform="x",
        text="x" * 300,
        title="ignored",
        media=(IMAGE, IMAGE, IMAGE, IMAGE, IMAGE, VIDEO),
        link="https://example.com",
        reply_settings="followers",
    )
    assert sorted(codes(draft)) == sorted(
        [
            ("text", V.TOO_LONG),
            ("title", V.UNSUPPORTED_FIELD),
            ("media", V.TOO_MANY_MEDIA),  # 5 images > 4
            ("media", V.TOO_MANY_MEDIA),  # 6 items > 4
            ("media", V.MIXED_MEDIA),
            ("link", V.UNSUPPORTED_FIELD),
            ("reply_settings", V.UNSUPPORTED_REPLY_SETTING),
        ]
    )


def test_instagram_hashtag_and_mention_counts() -> None:
    thirty = " ".join(f"#t{i}" for i in range(30))
    assert validate(PostDraft(platform="instagram", text=f"Hi {thirty}", media=(IMAGE,))) == []
    [v] = validate(PostDraft(platform="instagram", text=f"Hi {thirty} #extra", media=(IMAGE,)))
    assert (v.code, v.limit, v.actual) == (V.TOO_MANY_HASHTAGS, 30, 31)
    mentions = " ".join(f"@user{i}" for i in range(21))
    [v] = validate(PostDraft(platform="instagram", text=mentions, media=(IMAGE,)))
    assert (v.code, v.limit, v.actual) == (V.TOO_MANY_MENTIONS, 20, 21)


def test_instagram_needs_media_and_takes_at_most_ten() -> None:
    assert codes(PostDraft(platform="instagram", text="hi")) == [("media", V.MEDIA_REQUIRED)]
    eleven = PostDraft(platform="instagram", text="hi", media=(IMAGE,) * 6 + (VIDEO,) * 5)
    assert codes(eleven) == [("media", V.TOO_MANY_MEDIA)]  # mixing is fine in a carousel
    gif = PostDraft(platform="instagram", media=(MediaItem(type=MediaType.GIF),))
    assert codes(gif) == [("media[0]", V.UNSUPPORTED_MEDIA_TYPE)]


def test_threads_allows_one_hashtag_and_counts_emoji_as_utf8_bytes() -> None:
    assert validate(PostDraft(platform="threads", text="#one topic")) == []
    [v] = validate(PostDraft(platform="threads", text="#one #two"))
    assert (v.code, v.limit, v.actual) == (V.TOO_MANY_HASHTAGS, 1, 2)
    assert validate(PostDraft(platform="threads", text="😀" * 125)) == []  # 125 x 4 bytes = 500
    [v] = validate(PostDraft(platform="threads", text="😀" * 126))
    assert (v.code, v.actual) == (V.TOO_LONG, 504)
    assert validate(PostDraft(platform="threads", text="語" * 500)) == []


def test_threads_caps_links_at_five() -> None:
    links = " ".join(f"https://example.com/{i}" for i in range(6))
    [v] = validate(PostDraft(platform="threads", text=links))
    assert (v.code, v.fixable, v.actual) == (V.TOO_MANY_LINKS, False, 6)


def test_youtube_description_limit_is_bytes_not_characters() -> None:
    video = (VIDEO,)
    assert validate(PostDraft(platform="youtube", title="T", text="e" * 5000, media=video)) == []
    assert validate(PostDraft(platform="youtube", title="T", text="é" * 2500, media=video)) == []
    [v] = validate(PostDraft(platform="youtube", title="T", text="é" * 5000, media=video))
    assert (v.field, v.code, v.limit, v.actual) == ("text", V.TOO_LONG, 5000, 10000)
    assert "UTF-8 bytes" in v.message


def test_youtube_rejects_angle_brackets_and_requires_a_title() -> None:
    draft = PostDraft(platform="youtube", title="Our <best> launch", text="a < b", media=(VIDEO,))
    assert codes(draft) == [
        ("text", V.FORBIDDEN_CHARACTER),
        ("title", V.FORBIDDEN_CHARACTER),
    ]
    assert codes(PostDraft(platform="youtube", text="desc", media=(VIDEO,))) == [("title", V.TITLE_REQUIRED)]
    result = fix(draft)
    assert (result.draft.title, result.draft.text, result.ok) == ("Our best launch", "a  b", True)


def test_pinterest_requires_an_image_or_video_and_link_is_optional() -> None:
    assert codes(PostDraft(platform="pinterest", title="Pin", text="desc")) == [("media", V.MEDIA_REQUIRED)]
    assert validate(PostDraft(platform="pinterest", title="Pin", text="desc", media=(IMAGE,))) == []
    pin = PostDraft(platform="pinterest", text="d", media=(IMAGE,), link="https://shop.example.com/p/1")
    assert validate(pin) == []
    [v] = validate(pin.model_copy(update={"link": "https://e.com/" + "x" * 2048}))
    assert (v.field, v.code, v.limit) == ("link", V.TOO_LONG, 2048)


def test_reddit_requires_a_title_of_at_most_300_characters() -> None:
    [v] = validate(PostDraft(platform="reddit", text="body"))
    assert (v.field, v.code, v.fixable) == ("title", V.TITLE_REQUIRED, False)
    [v] = validate(PostDraft(platform="reddit", title="t" * 301, text="body"))
    assert (v.field, v.code, v.limit, v.actual) == ("title", V.TOO_LONG, 300, 301)
    assert len(fix(PostDraft(platform="reddit", title="word " * 80, text="b")).draft.title or "") <= 300
    assert codes(PostDraft(platform="reddit", title="t", text="b" * 40001)) == [("text", V.TOO_LONG)]


def test_media_size_duration_mime_and_mixing_are_checked_per_item() -> None:
    big = MediaItem(type=MediaType.IMAGE, size_bytes=6 * 1024 * 1024)
    long = MediaItem(type=MediaType.VIDEO, duration_s=141)
    short = MediaItem(type=MediaType.VIDEO, duration_s=0.2)
    bmp = MediaItem(type=MediaType.IMAGE, mime="image/bmp")
    assert codes(PostDraft(platform="x", media=(big,))) == [("media[0]", V.MEDIA_TOO_LARGE)]
    assert codes(PostDraft(platform="x", media=(long,))) == [("media[0]", V.MEDIA_TOO_LONG)]
    assert codes(PostDraft(platform="x", media=(short,))) == [("media[0]", V.MEDIA_TOO_SHORT)]
    assert codes(PostDraft(platform="x", media=(bmp,))) == [("media[0]", V.UNSUPPORTED_MEDIA_TYPE)]
    gif_and_image = PostDraft(platform="x", media=(IMAGE, MediaItem(type=MediaType.GIF)))
    assert codes(gif_and_image) == [("media", V.MIXED_MEDIA)]
    assert codes(PostDraft(platform="linkedin", media=(IMAGE,) * 20)) == []
    assert codes(PostDraft(platform="linkedin", media=(IMAGE, VIDEO))) == [("media", V.MIXED_MEDIA)]


def test_an_empty_draft_is_reported() -> None:
    assert codes(PostDraft(platform="facebook")) == [("text", V.TEXT_REQUIRED)]


# --- LinkedIn little text -----------------------------------------------------------------------


def test_linkedin_escapes_reserved_characters_but_not_hashtags_mentions_or_links() -> None:
    text = "Q&A (live) at 5pm <3 *new* a_b ~ | {x} [y] \\ #Launch @[Ann Lee](urn:li:person:42) https://x.com/a_(b)"
    escaped = escape_linkedin(text)
    assert escaped == (
        "Q&A \\(live\\) at 5pm \\<3 \\*new\\* a\\_b \\~ \\| \\{x\\} \\[y\\] \\\\ #Launch "
        "@[Ann Lee](urn:li:person:42) https://x.com/a_(b)"
    )
    assert unescape_linkedin(escaped) == text
    assert escape_linkedin(escaped) == escaped  # idempotent: a second pass changes nothing
    [v] = validate(PostDraft(platform="linkedin", text=text))
    assert (v.code, v.actual, v.fixable) == (V.UNESCAPED_RESERVED, 13, True)
    result = fix(PostDraft(platform="linkedin", text=text))
    assert (result.draft.text, result.ok) == (escaped, True)
    assert result.draft.hashtags == ("Launch",)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " |{}@[]()<>#*_~.:/\n", max_size=200))
def test_linkedin_escape_round_trips_and_validates_clean(text: str) -> None:
    escaped = escape_linkedin(text)
    assert unescape_linkedin(escaped) == text
    assert escape_linkedin(escaped) == escaped
    assert V.UNESCAPED_RESERVED not in [
        v.code for v in validate(PostDraft(platform="linkedin", text=escaped))
    ]


# --- fix ----------------------------------------------------------------------------------------


def test_fix_keeps_first_hashtags_drops_trailing_extras_and_untags_inline_ones() -> None:
    extra = " ".join(f"#tag{i}" for i in range(27))
    text = f"Sun on the #beach with #friends today.\n\n#summer {extra} #surf #waves"
    result = fix(PostDraft(platform="instagram", text=text, media=(IMAGE,)))
    assert result.draft.text == f"Sun on the #beach with #friends today.\n\n#summer {extra}"
    assert len(result.draft.hashtags) == 30 and result.ok
    inline = fix(PostDraft(platform="threads", text="We love #rust and #python for #tooling"))
    assert inline.draft.text == "We love #rust and python for tooling"
    assert [c.code for c in inline.changes] == [V.TOO_MANY_HASHTAGS]


def test_fix_shortens_at_a_word_with_ellipsis_keeping_trailing_link_and_hashtags() -> None:
    body = " ".join(f"word{i}" for i in range(700))
    text = f"{body} https://brand.example/launch #launch #news"
    result = fix(PostDraft(platform="linkedin", text=text))
    out = result.draft.text
    assert count_text(out, CountMethod.CHARS) <= 3000 and result.ok
    assert out.endswith(f"{ELLIPSIS} https://brand.example/launch #launch #news")
    assert out.startswith("word0 word1 ") and " word69" not in out[-60:]  # cut between whole words
    [change] = result.changes
    assert change.code is V.TOO_LONG and "3,000" in change.message


def test_fix_prefers_a_nearby_sentence_end() -> None:
    text = "Short intro sentence. " * 200
    out = shorten_text(text, 500, CountMethod.CHARS)
    assert out.endswith("sentence.") and len(out) <= 500 and ELLIPSIS not in out


def test_fix_trims_a_youtube_title_and_keeps_the_description_under_5000_bytes() -> None:
    draft = PostDraft(platform="youtube", title="Launch " * 30, text="ééé " * 2000, media=(VIDEO,))
    result = fix(draft)
    assert result.ok
    assert len(result.draft.title or "") <= 100 and (result.draft.title or "").endswith(ELLIPSIS)
    assert len(result.draft.text.encode()) <= 5000


def test_fix_splits_long_x_text_into_a_numbered_thread() -> None:
    text = " ".join(f"w{i}" for i in range(300))
    result = fix(PostDraft(platform="x", text=text))
    parts = result.parts
    assert result.ok and len(parts) == 6  # 1,389 characters in parts of at most 280 - len(" (9/9)")
    assert [p[-6:] for p in parts] == [f" ({i}/6)" for i in range(1, 7)]
    assert all(count_text(p, CountMethod.X_WEIGHTED) <= 280 for p in parts)
    assert " ".join(NUMBERING.sub("", p) for p in parts).split() == text.split()


def test_fix_joins_a_thread_where_the_platform_has_none_and_moves_links_into_text() -> None:
    result = fix(PostDraft(platform="facebook", text="one", thread=("two", "", "three")))
    assert (result.draft.text, result.draft.thread, result.ok) == ("one\n\ntwo\n\nthree", (), True)
    moved = fix(PostDraft(platform="x", text="New post", link="https://example.com/p"))
    assert (moved.draft.text, moved.draft.link, moved.ok) == ("New post https://example.com/p", None, True)


def test_fix_reports_what_it_cannot_fix() -> None:
    draft = PostDraft(
        platform="instagram", text="hello " * 500, link="https://example.com", reply_settings="following"
    )
    result = fix(draft)
    assert not result.ok
    assert sorted(v.code for v in result.remaining) == sorted(
        [
            V.UNSUPPORTED_FIELD,
            V.UNSUPPORTED_REPLY_SETTING,
            V.MEDIA_REQUIRED,
        ]
    )
    assert all(not v.fixable for v in result.remaining)
    assert count_text(result.draft.text, CountMethod.CHARS) <= 2200
    too_many = fix(PostDraft(platform="x", text="hi", media=(IMAGE,) * 5))
    assert [v.code for v in too_many.remaining] == [
        V.TOO_MANY_MEDIA,
        V.TOO_MANY_MEDIA,
    ]


def test_fix_leaves_a_valid_draft_untouched() -> None:
    draft = PostDraft(platform="x", text="All good #ok", thread=("second part",))
    result = fix(draft)
    assert result.draft == draft and result.changes == () and result.ok


def test_long_cjk_run_without_spaces_is_split_between_characters() -> None:
    text = "漢字" * 400 + "👨\u200d👩\u200d👧\u200d👦" * 10
    parts = split_thread(text, 280, CountMethod.X_WEIGHTED)
    assert all(count_text(p, CountMethod.X_WEIGHTED) <= 280 for p in parts)
    assert "".join(NUMBERING.sub("", p) for p in parts) == text  # nothing lost, no emoji broken


# --- properties ---------------------------------------------------------------------------------

EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🇫🇷", "1️⃣", "❤️", "🙋🏽\u200d♀️"]
words = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + ".,!?'-", min_size=1, max_size=12),
    st.sampled_from(EMOJI),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=8),
    st.sampled_from(["café", "naïve", "Zürich", "e\u0301te\u0301", "Привет"]),
    st.builds("https://example.com/{}".format, st.text(alphabet=string.ascii_lowercase + "/_-", max_size=60)),
    st.sampled_from(["example.com/page", "www.brandcrew.io", "shop.example.org/sale?x=1"]),
    st.builds("#{}".format, st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10)),
    st.builds("@{}".format, st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10)),
    st.sampled_from(["(see)", "a_b", "<3", "*bold*", "~ok", "x|y", "{k}", "[1]", "\\", "a>b"]),
)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  "])
texts = st.lists(st.tuples(words, separators), min_size=20, max_size=250).map(
    lambda ws: "".join(w + s for w, s in ws)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(["x", "threads"]))
def test_thread_parts_fit_and_keep_every_word_in_order(text: str, platform: str) -> None:
    caps = get_capabilities(platform)
    parts = split_thread(text, caps.text.max_length, caps.text.count)
    assert all(count_text(p, caps.text.count) <= caps.text.max_length for p in parts)
    if len(parts) > 1:
        assert all(NUMBERING.search(p) for p in parts)
    assert " ".join(NUMBERING.sub("", p) for p in parts).split() == text.split()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(texts, texts.map(lambda t: t * 15)), st.sampled_from(list(Platform)))
def test_fix_output_has_no_text_violations(text: str, platform: Platform) -> None:
    caps = get_capabilities(platform)
    result = fix(PostDraft(platform=platform, text=text, title="Title", media=(IMAGE,)))
    assert not [v for v in result.remaining if v.code in TEXT_CODES], result.remaining
    assert all(count_text(p, caps.text.count) <= caps.text.max_length for p in result.parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from(list(CountMethod)), st.integers(min_value=30, max_value=600))
def test_shorten_fits_and_never_cuts_a_link(text: str, method: CountMethod, limit: int) -> None:
    out = shorten_text(text, limit, method)
    assert count_text(out, method) <= limit
    original_urls = {text[s:e] for s, e in find_urls(text)}
    kept = [out[s:e] for s, e in find_urls(out)]
    # Every link left in the output is a whole link of the input (or a prefix only if it was hard-cut
    # text that happened to look like a domain, which never happens for tokens with a scheme).
    assert all(u in original_urls or not u.startswith("http") for u in kept)


@pytest.mark.parametrize("platform", ["x", "threads"])
def test_fixed_threads_validate_clean_even_with_an_existing_thread(platform: str) -> None:
    draft = PostDraft(platform=platform, text="intro " * 100, thread=("middle " * 120, "end"))
    result = fix(draft)
    assert result.ok and len(result.parts) >= 3
    assert all(NUMBERING.search(p) for p in result.parts)


def test_draft_derives_hashtags_and_mentions_and_round_trips_through_json() -> None:
    draft = PostDraft(platform="x", text="Hi @ann, meet #brandcrew", media=[IMAGE], thread=["more"])
    assert (draft.hashtags, draft.mentions, draft.parts) == (("brandcrew",), ("ann",), (draft.text, "more"))
    dumped = draft.model_dump(mode="json")
    assert dumped["hashtags"] == ["brandcrew"] and dumped["platform"] == "x"
    assert PostDraft.model_validate(dumped) == draft


def test_thread_parts_on_a_platform_without_threads_and_empty_parts_are_reported() -> None:
    draft = PostDraft(platform="facebook", text="one", thread=("two", " "))
    assert codes(draft) == [("thread", V.THREADS_UNSUPPORTED), ("thread[1]", V.EMPTY_PART)]


def test_fix_untags_mentions_beyond_the_limit() -> None:
    text = " ".join(f"@user{i}" for i in range(22))
    result = fix(PostDraft(platform="instagram", text=text, media=(IMAGE,)))
    assert result.ok and result.draft.mentions == tuple(f"user{i}" for i in range(20))
    assert result.draft.text.endswith("@user19 user20 user21")


def test_a_link_longer_than_the_limit_is_never_split() -> None:
    url = "https://example.com/" + "p" * 600
    result = fix(PostDraft(platform="threads", text=f"Read this {url} today"))
    assert f"{url} (2/3)" in result.parts
    assert [(v.field, v.code, v.fixable) for v in result.remaining] == [("thread[0]", V.TOO_LONG, False)]
    assert [p.split(" (")[0][:4] for p in result.parts] == ["Read", "http", "toda"]
    assert fix(result.draft).draft == result.draft  # a second pass does not number the numbers


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(texts, min_size=1, max_size=4), st.sampled_from(["x", "threads", "linkedin", "instagram"]))
def test_fix_is_idempotent_and_handles_existing_threads(parts: list[str], platform: str) -> None:
    result = fix(PostDraft(platform=platform, text=parts[0], thread=parts[1:], media=(IMAGE,)))
    assert not [v for v in result.remaining if v.code in TEXT_CODES], result.remaining
    again = fix(result.draft)
    assert (again.draft, again.changes) == (result.draft, ())
