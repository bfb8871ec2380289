"""Check a draft against its platform's capabilities, and repair what can be repaired without judgement.

`validate` reports every violation. `fix` escapes, strips, trims tags, shortens or splits text into
a thread, then validates again: what it cannot fix (missing media, too many files) stays reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Final

# `regex` (a tiktoken dependency): same engine as text_count, for Unicode-aware \w.
import regex
from pydantic import BaseModel, ConfigDict

from brandcrew.connectors.capabilities import MediaType, PlatformCapabilities, get_capabilities
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.text_count import (
    CountMethod,
    count_text,
    count_unit,
    find_urls,
    graphemes,
    hashtag_spans,
    mention_spans,
)

__all__ = (
    "ELLIPSIS",
    "FixChange",
    "FixResult",
    "Violation",
    "ViolationCode",
    "escape_linkedin",
    "fix",
    "shorten_text",
    "split_thread",
    "unescape_linkedin",
    "validate",
)

ELLIPSIS: Final = "\u2026"


class ViolationCode(StrEnum):
    """What is wrong with a draft."""

    TOO_LONG = "too_long"
    TEXT_REQUIRED = "text_required"
    TITLE_REQUIRED = "title_required"
    EMPTY_PART = "empty_part"
    TOO_MANY_HASHTAGS = "too_many_hashtags"
    TOO_MANY_MENTIONS = "too_many_mentions"
    TOO_MANY_LINKS = "too_many_links"
    FORBIDDEN_CHARACTER = "forbidden_character"
    UNESCAPED_RESERVED = "unescaped_reserved"
    MEDIA_REQUIRED = "media_required"
    TOO_MANY_MEDIA = "too_many_media"
    MIXED_MEDIA = "mixed_media"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    MEDIA_TOO_LARGE = "media_too_large"
    MEDIA_TOO_LONG = "media_too_long"
    MEDIA_TOO_SHORT = "media_too_short"
    THREADS_UNSUPPORTED = "threads_unsupported"
    UNSUPPORTED_FIELD = "unsupported_field"
    UNSUPPORTED_REPLY_SETTING = "unsupported_reply_setting"


class Violation(BaseModel):
    """One broken rule: where, which, a sentence with the numbers, and whether `fix` can repair it."""

    model_config = ConfigDict(frozen=True)

    field: str
    """`text`, `thread[0]`, `title`, `link`, `media`, `media[2]`, `reply_settings`."""
    code: ViolationCode
    message: str
    fixable: bool
    limit: int | None = None
    actual: int | None = None


class FixChange(BaseModel):
    """One edit `fix` made, and the violation it addressed."""

    model_config = ConfigDict(frozen=True)

    field: str
    code: ViolationCode
    message: str


class FixResult(BaseModel):
    """The repaired draft (a long text may now be a thread), what changed, and what is still wrong."""

    model_config = ConfigDict(frozen=True)

    draft: PostDraft
    changes: tuple[FixChange, ...] = ()
    remaining: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the fixed draft has no violations left."""
        return not self.remaining

    @property
    def parts(self) -> tuple[str, ...]:
        """The texts to publish in order (one unless the text became a thread)."""
        return self.draft.parts


# --- LinkedIn "little" text -------------------------------------------------------------------

# Reserved by the Posts API little format; unescaped, LinkedIn silently truncates the commentary.
_LI_RESERVED: Final = frozenset("|{}@[]()<>#\\*_~")
# MentionElement syntax the API defines: @[Name](urn:li:person:123); kept as written.
_LI_MENTION = regex.compile(r"@\[[^\]\n]*\]\(urn:li:(?:person|organization):[^)\s]+\)")
_LI_UNESCAPE = regex.compile(r"\\([|{}@\[\]()<>#\\*_~])")


def _linkedin_escape(text: str) -> tuple[str, int]:
    # Links, hashtags and mention elements are LinkedIn syntax and stay as written, so links still
    # resolve and hashtags stay clickable; an existing `\x` escape is kept, so escaping is idempotent.
    protected = sorted(
        [*find_urls(text), *hashtag_spans(text), *(m.span() for m in _LI_MENTION.finditer(text))]
    )
    out: list[str] = []
    escaped = 0
    i = 0
    p = 0
    while i < len(text):
        while p < len(protected) and protected[p][1] <= i:
            p += 1
        if p < len(protected) and protected[p][0] <= i:
            end = protected[p][1]
            out.append(text[i:end])
            i = end
            continue
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _LI_RESERVED:
            out.append(text[i : i + 2])
            i += 2
            continue
        if ch in _LI_RESERVED:
            out.append("\\" + ch)
            escaped += 1
        else:
            out.append(ch)
        i += 1
    return "".join(out), escaped


def escape_linkedin(text: str) -> str:
    """Backslash-escape LinkedIn's reserved characters, leaving links, hashtags and mentions intact."""
    return _linkedin_escape(text)[0]


def unescape_linkedin(text: str) -> str:
    """Undo `escape_linkedin` (the text as readers will see it)."""
    return str(_LI_UNESCAPE.sub(r"\1", text))


# --- validate ---------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _check_text(field: str, text: str, caps: PlatformCapabilities) -> list[Violation]:
    out: list[Violation] = []
    limit, method = caps.text.max_length, caps.text.count
    n = count_text(text, method)
    if n > limit:
        # A thread never splits a link, so a single link over the limit cannot be fixed there.
        huge_link = caps.threads and _has_huge_link(text, limit, method)
        how = " (a link alone is over the limit)" if huge_link else " (fix splits it)" if caps.threads else ""
        out.append(
            Violation(
                field=field,
                code=ViolationCode.TOO_LONG,
                message=f"{field} is {n:,} {count_unit(method)}; {caps.name} allows {limit:,}{how}.",
                fixable=not huge_link,
                limit=limit,
                actual=n,
            )
        )
    bad = sorted({ch for ch in text if ch in caps.text.forbidden_chars})
    if bad:
        out.append(
            Violation(
                field=field,
                code=ViolationCode.FORBIDDEN_CHARACTER,
                message=f"{field} contains {' '.join(bad)}, which {caps.name} does not accept.",
                fixable=True,
            )
        )
    if caps.hashtag_limit is not None and (tags := len(hashtag_spans(text))) > caps.hashtag_limit:
        out.append(
            Violation(
                field=field,
                code=ViolationCode.TOO_MANY_HASHTAGS,
                message=f"{field} has {_plural(tags, 'hashtag')}; {caps.name} allows {caps.hashtag_limit}.",
                fixable=True,
                limit=caps.hashtag_limit,
                actual=tags,
            )
        )
    if caps.mention_limit is not None and (ats := len(mention_spans(text))) > caps.mention_limit:
        out.append(
            Violation(
                field=field,
                code=ViolationCode.TOO_MANY_MENTIONS,
                message=f"{field} has {_plural(ats, '@mention')}; {caps.name} allows {caps.mention_limit}.",
                fixable=True,
                limit=caps.mention_limit,
                actual=ats,
            )
        )
    if caps.link_limit is not None:
        links = len({text[s:e] for s, e in find_urls(text)})
        if links > caps.link_limit:
            out.append(
                Violation(
                    field=field,
                    code=ViolationCode.TOO_MANY_LINKS,
                    message=f"{field} has {_plural(links, 'link')}; {caps.name} allows {caps.link_limit}.",
                    fixable=False,
                    limit=caps.link_limit,
                    actual=links,
                )
            )
    if caps.text_syntax == "linkedin_little" and (unescaped := _linkedin_escape(text)[1]):
        out.append(
            Violation(
                field=field,
                code=ViolationCode.UNESCAPED_RESERVED,
                message=(
                    f"{field} has {_plural(unescaped, 'unescaped reserved character')} "
                    "(| { } @ [ ] ( ) < > # \\ * _ ~); LinkedIn silently cuts the post at the first one."
                ),
                fixable=True,
                actual=unescaped,
            )
        )
    return out


def _check_title(draft: PostDraft, caps: PlatformCapabilities) -> list[Violation]:
    rule = caps.title
    if rule is None:
        if draft.title:
            msg = f"{caps.name} posts have no title; it would be dropped."
            return [Violation(field="title", code=ViolationCode.UNSUPPORTED_FIELD, message=msg, fixable=True)]
        return []
    title = draft.title or ""
    if not title.strip():
        if rule.required:
            msg = f"{caps.name} requires a title (up to {rule.max_length:,} {count_unit(rule.count)})."
            return [Violation(field="title", code=ViolationCode.TITLE_REQUIRED, message=msg, fixable=False)]
        return []
    out: list[Violation] = []
    n = count_text(title, rule.count)
    if n > rule.max_length:
        msg = f"title is {n:,} {count_unit(rule.count)}; {caps.name} allows {rule.max_length:,}."
        out.append(
            Violation(
                field="title",
                code=ViolationCode.TOO_LONG,
                message=msg,
                fixable=True,
                limit=rule.max_length,
                actual=n,
            )
        )
    bad = sorted({ch for ch in title if ch in rule.forbidden_chars})
    if bad:
        msg = f"title contains {' '.join(bad)}, which {caps.name} does not accept."
        out.append(
            Violation(field="title", code=ViolationCode.FORBIDDEN_CHARACTER, message=msg, fixable=True)
        )
    return out


def _check_item(i: int, item: MediaItem, caps: PlatformCapabilities) -> list[Violation]:
    field = f"media[{i}]"
    rule = caps.media.get(item.type)
    if rule is None:
        allowed = ", ".join(sorted(caps.media_types)) or "no media"
        msg = f"{field} is a {item.type.value}; {caps.name} accepts {allowed}."
        return [Violation(field=field, code=ViolationCode.UNSUPPORTED_MEDIA_TYPE, message=msg, fixable=False)]
    out: list[Violation] = []
    if item.mime and rule.mime_types and item.mime.lower() not in rule.mime_types:
        msg = f"{field} is {item.mime}; {caps.name} accepts {', '.join(sorted(rule.mime_types))}."
        out.append(
            Violation(field=field, code=ViolationCode.UNSUPPORTED_MEDIA_TYPE, message=msg, fixable=False)
        )
    if item.size_bytes is not None and rule.max_bytes is not None and item.size_bytes > rule.max_bytes:
        kind = item.type.value
        msg = f"{field} is {item.size_bytes:,} bytes; {caps.name} allows {rule.max_bytes:,} per {kind}."
        out.append(
            Violation(
                field=field,
                code=ViolationCode.MEDIA_TOO_LARGE,
                message=msg,
                fixable=False,
                limit=rule.max_bytes,
                actual=item.size_bytes,
            )
        )
    if item.duration_s is not None:
        if rule.max_duration_s is not None and item.duration_s > rule.max_duration_s:
            msg = (
                f"{field} lasts {item.duration_s:g} s; {caps.name} allows at most {rule.max_duration_s:g} s."
            )
            out.append(Violation(field=field, code=ViolationCode.MEDIA_TOO_LONG, message=msg, fixable=False))
        if rule.min_duration_s is not None and item.duration_s < rule.min_duration_s:
            msg = (
                f"{field} lasts {item.duration_s:g} s; {caps.name} needs at least {rule.min_duration_s:g} s."
            )
            out.append(Violation(field=field, code=ViolationCode.MEDIA_TOO_SHORT, message=msg, fixable=False))
    return out


def _check_media(draft: PostDraft, caps: PlatformCapabilities) -> list[Violation]:
    media = draft.media
    if not media:
        if caps.media_required:
            allowed = " or ".join(sorted(caps.media_types))
            msg = f"{caps.name} posts need media ({allowed}); none is attached."
            return [Violation(field="media", code=ViolationCode.MEDIA_REQUIRED, message=msg, fixable=False)]
        return []
    out = [v for i, item in enumerate(media) for v in _check_item(i, item, caps)]
    by_type: dict[MediaType, int] = {}
    for item in media:
        by_type[item.type] = by_type.get(item.type, 0) + 1
    for kind, n in sorted(by_type.items()):
        rule = caps.media.get(kind)
        if rule is not None and n > rule.max_count:
            msg = f"{_plural(n, kind.value)} attached; {caps.name} allows {rule.max_count} per post."
            out.append(
                Violation(
                    field="media",
                    code=ViolationCode.TOO_MANY_MEDIA,
                    message=msg,
                    fixable=False,
                    limit=rule.max_count,
                    actual=n,
                )
            )
    if caps.max_media and len(media) > caps.max_media:
        msg = f"{_plural(len(media), 'media item')} attached; {caps.name} allows {caps.max_media} per post."
        out.append(
            Violation(
                field="media",
                code=ViolationCode.TOO_MANY_MEDIA,
                message=msg,
                fixable=False,
                limit=caps.max_media,
                actual=len(media),
            )
        )
    if len(by_type) > 1 and not caps.mixed_media:
        kinds = " and ".join(k.value for k in sorted(by_type))
        msg = f"{kinds} are mixed in one post; {caps.name} takes one kind of media per post."
        out.append(Violation(field="media", code=ViolationCode.MIXED_MEDIA, message=msg, fixable=False))
    return out


def _check_structure(draft: PostDraft, caps: PlatformCapabilities) -> list[Violation]:
    out: list[Violation] = []
    if not any(p.strip() for p in draft.parts) and not draft.media and not draft.link and not draft.title:
        msg = "The draft is empty: it has no text, media or link."
        out.append(Violation(field="text", code=ViolationCode.TEXT_REQUIRED, message=msg, fixable=False))
    elif caps.text.required and not draft.text.strip():
        msg = f"{caps.name} requires text."
        out.append(Violation(field="text", code=ViolationCode.TEXT_REQUIRED, message=msg, fixable=False))
    if draft.thread and not caps.threads:
        parts = _plural(len(draft.thread), "follow-up part")
        msg = f"{caps.name} has no threads; the {parts} would need joining."
        out.append(
            Violation(field="thread", code=ViolationCode.THREADS_UNSUPPORTED, message=msg, fixable=True)
        )
    for i, part in enumerate(draft.thread):
        if not part.strip():
            msg = f"thread[{i}] is empty."
            out.append(
                Violation(field=f"thread[{i}]", code=ViolationCode.EMPTY_PART, message=msg, fixable=True)
            )
    if draft.link:
        if not caps.link_attachment:
            where = (
                "it can go in the text"
                if caps.links_clickable
                else "links in the text are not clickable either"
            )
            msg = f"{caps.name} posts carry no separate link; {where}."
            out.append(
                Violation(
                    field="link",
                    code=ViolationCode.UNSUPPORTED_FIELD,
                    message=msg,
                    fixable=caps.links_clickable,
                )
            )
        elif caps.link_max_length is not None and len(draft.link) > caps.link_max_length:
            msg = f"link is {len(draft.link):,} characters; {caps.name} allows {caps.link_max_length:,}."
            out.append(
                Violation(
                    field="link",
                    code=ViolationCode.TOO_LONG,
                    message=msg,
                    fixable=False,
                    limit=caps.link_max_length,
                    actual=len(draft.link),
                )
            )
    if draft.reply_settings not in (None, "everyone") and draft.reply_settings not in caps.reply_settings:
        allowed = ", ".join(sorted(caps.reply_settings | {"everyone"}))
        msg = f"{caps.name} cannot limit replies to '{draft.reply_settings}'; it accepts {allowed}."
        out.append(
            Violation(
                field="reply_settings",
                code=ViolationCode.UNSUPPORTED_REPLY_SETTING,
                message=msg,
                fixable=False,
            )
        )
    return out


def validate(draft: PostDraft, caps: PlatformCapabilities | None = None) -> list[Violation]:
    """Every rule `draft` breaks on its platform (or on `caps`), in field order."""
    caps = caps or get_capabilities(draft.platform)
    out = _check_structure(draft, caps)
    for i, part in enumerate(draft.parts):
        out += _check_text("text" if i == 0 else f"thread[{i - 1}]", part, caps)
    return out + _check_title(draft, caps) + _check_media(draft, caps)


# --- shortening and splitting -----------------------------------------------------------------

_TOKEN = regex.compile(r"\S+")
_TAIL_HASHTAG = regex.compile(r"[#\uff03]\w+[.!]?")
_SENTENCE_END = regex.compile(r"[.!?\u3002\uff01\uff1f\u2026][\"'\)\]\u00bb\u201d\u2019]*$")
_TRAILING_PUNCT: Final = " \t\n,;:-\u2013\u2014"


def _largest(n: int, fits: Callable[[int], bool]) -> int:
    # Galloping then binary search: the largest k in [0, n] with fits(k), for a monotone fits.
    # Galloping keeps each probe near the answer, so a 60k-character text is never measured whole.
    lo, hi = 0, 1
    while hi <= n and fits(hi):
        lo, hi = hi, hi * 2
    hi = min(hi, n + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _is_url_token(token: str) -> bool:
    spans = find_urls(token)
    return bool(spans) and spans[0][0] == 0 and spans[0][1] >= len(token) - 1


def _has_huge_link(text: str, limit: int, method: CountMethod) -> bool:
    return any(_is_url_token(tok) and count_text(tok, method) > limit for tok in text.split())


def _hard_cut(text: str, suffix: str, limit: int, measure: Callable[[str], int]) -> str:
    # Last resort for a run with no spaces (CJK, a long word): cut between grapheme clusters,
    # so an emoji sequence or an accented letter is never broken.
    clusters = graphemes(text)
    k = _largest(len(clusters), lambda k: measure("".join(clusters[:k]) + suffix) <= limit)
    return "".join(clusters[:k])


def shorten_text(text: str, limit: int, method: CountMethod, *, keep_tail: bool = True) -> str:
    """Cut `text` to fit `limit`: at a sentence end if one is near, else at a word with an ellipsis.

    Trailing hashtags and links are kept when they fit (links before hashtags); a link is never cut.
    """

    def measure(t: str) -> int:
        return count_text(t, method)

    if measure(text) <= limit:
        return text
    text = text.rstrip()
    tokens = [m.span() for m in _TOKEN.finditer(text)]
    tail_idx = len(tokens)
    if keep_tail:
        while tail_idx > 0 and (
            _TAIL_HASHTAG.fullmatch(tok := text[slice(*tokens[tail_idx - 1])]) or _is_url_token(tok)
        ):
            tail_idx -= 1
        if tail_idx == 0:
            tail_idx = len(tokens)
    tails = [""]
    if tail_idx < len(tokens):
        tail_tokens = [text[s:e] for s, e in tokens[tail_idx:]]
        links = " ".join(t for t in tail_tokens if _is_url_token(t))
        tails = [text[tokens[tail_idx][0] :], *([links] if links else []), ""]
    sep = text[tokens[tail_idx - 1][1] : tokens[tail_idx][0]] if 0 < tail_idx < len(tokens) else " "
    body = tokens[:tail_idx]
    for tail in dict.fromkeys(tails):
        after = sep + tail if tail else ""
        fitted = _fit_body(text, body, after, limit, measure)
        if fitted is not None:
            return fitted
    # Nothing fits because a link alone is over the limit: drop such links rather than cut one.
    words = [text[s:e] for s, e in tokens]
    kept = [w for w in words if not (_is_url_token(w) and measure(f"{w} {ELLIPSIS}") > limit)]
    if len(kept) < len(words):
        return shorten_text(" ".join(kept), limit, method, keep_tail=keep_tail)
    cut = _hard_cut(text, "", limit, measure)
    for s, e in find_urls(text):
        if s < len(cut) < e:
            cut = cut[:s]
    return cut.rstrip()


def _fit_body(
    text: str, body: Sequence[tuple[int, int]], after: str, limit: int, measure: Callable[[str], int]
) -> str | None:
    def compose(k: int, ellipsis: bool = True) -> str:
        kept = text[: body[k - 1][1]]
        if not ellipsis:
            return kept + after
        if _is_url_token(text[slice(*body[k - 1])]):
            return f"{kept} {ELLIPSIS}{after}"  # glued to a link, the ellipsis would join its path
        return kept.rstrip(_TRAILING_PUNCT) + ELLIPSIS + after

    if body and measure(compose(len(body), ellipsis=False)) <= limit:
        return compose(len(body), ellipsis=False)  # only the tail had to go
    k = _largest(len(body), lambda k: measure(compose(k)) <= limit)
    if k == 0:
        if not body or _is_url_token(text[slice(*body[0])]):
            return None
        cut = _hard_cut(text[: body[0][1]], ELLIPSIS + after, limit, measure)
        return cut + ELLIPSIS + after if cut.strip() else None
    # A nearby sentence end reads better than a dangling ellipsis; "nearby" keeps at least half.
    for j in range(k, (k + 1) // 2 - 1, -1):
        if j >= 1 and _SENTENCE_END.search(text[slice(*body[j - 1])]):
            whole = compose(j, ellipsis=False)
            if measure(whole) <= limit:
                return whole
    return compose(k)


def _pack(text: str, limit: int, measure: Callable[[str], int], reserve: str) -> list[str]:
    tokens = [m.span() for m in _TOKEN.finditer(text)]
    chunks: list[str] = []
    i = 0
    while i < len(tokens):
        start = tokens[i][0]

        def fits(k: int, first: int = i, start: int = start) -> bool:
            return measure(text[start : tokens[first + k - 1][1]] + reserve) <= limit

        k = _largest(len(tokens) - i, fits)
        if k:
            if i + k < len(tokens):
                # Prefer to end a part at a sentence end in its last third over a bare word break.
                ends = (
                    j
                    for j in range(k, (2 * k) // 3, -1)
                    if _SENTENCE_END.search(text[slice(*tokens[i + j - 1])])
                )
                k = next(ends, k)
            chunks.append(text[start : tokens[i + k - 1][1]])
            i += k
            continue
        token = text[slice(*tokens[i])]
        i += 1
        if _is_url_token(token):
            chunks.append(token)  # a link is never split; it stays too long and is reported
            continue
        while token:
            piece = _hard_cut(token, reserve, limit, measure) or graphemes(token)[0]
            chunks.append(piece)
            token = token[len(piece) :]
    return chunks


def _split_parts(parts: Sequence[str], limit: int, method: CountMethod) -> list[str]:
    def measure(t: str) -> int:
        return count_text(t, method)

    parts = [p.strip() for p in parts if p.strip()]
    if all(measure(p) <= limit for p in parts):
        return parts
    chunks: list[str] = []
    for digits in range(1, 7):
        # Reserve room for the widest " (n/N)" this many digits can need; numbers are ASCII and
        # weigh 1 under every count method, so the real suffix never weighs more than the reserve.
        widest = 10**digits - 1
        chunks = [c for p in parts for c in _pack(p, limit, measure, f" ({widest}/{widest})")]
        if len(chunks) <= widest:
            break
    if len(chunks) == 1:
        return chunks
    return [f"{chunk} ({i}/{len(chunks)})" for i, chunk in enumerate(chunks, 1)]


def split_thread(text: str, limit: int, method: CountMethod) -> list[str]:
    """Split text into thread parts within `limit`, numbered " (1/3)", breaking only between words."""
    return _split_parts([text], limit, method)


# --- fix ----------------------------------------------------------------------------------------

_TRAILING_TAG_BLOCK = regex.compile(r"(?:^|\s)(?:[#\uff03]\w+\s*)+$")


def _closing_tag_block(text: str) -> int:
    # Where the closing run of hashtags starts, or past the end if there is none. One tag ending
    # a line of prose ("we love #rust") is part of the sentence, not a closing block.
    block = _TRAILING_TAG_BLOCK.search(text)
    if block is None:
        return len(text) + 1
    start: int = block.start()
    own_line = start == 0 or text[start] == "\n" or text[:start].endswith("\n")
    return start if own_line or text.count("#", start) + text.count("\uff03", start) > 1 else len(text) + 1


def _limit_spans(text: str, spans: list[tuple[int, int]], keep: int, block_start: int) -> str:
    # Excess tags in the closing block are removed; inline ones lose only their sign, so the
    # sentence still reads ("we love #rust" -> "we love rust").
    for s, e in reversed(spans[keep:]):
        if s >= block_start:
            cut_from = s
            while cut_from > 0 and text[cut_from - 1] in " \t":
                cut_from -= 1
            text = text[:cut_from] + text[e:]
        else:
            text = text[:s] + text[s + 1 :]
    return text.rstrip() if spans[keep:] else text


def _clean(field: str, text: str, caps: PlatformCapabilities, changes: list[FixChange]) -> str:
    if caps.text.forbidden_chars and any(ch in caps.text.forbidden_chars for ch in text):
        text = "".join(ch for ch in text if ch not in caps.text.forbidden_chars)
        msg = f"removed {' '.join(caps.text.forbidden_chars)}"
        changes.append(FixChange(field=field, code=ViolationCode.FORBIDDEN_CHARACTER, message=msg))
    if caps.mention_limit is not None and len(ats := mention_spans(text)) > caps.mention_limit:
        text = _limit_spans(text, ats, caps.mention_limit, block_start=len(text) + 1)
        msg = f"kept the first {caps.mention_limit} of {len(ats)} @mentions; the rest lost their @"
        changes.append(FixChange(field=field, code=ViolationCode.TOO_MANY_MENTIONS, message=msg))
    if caps.hashtag_limit is not None and len(tags := hashtag_spans(text)) > caps.hashtag_limit:
        text = _limit_spans(text, tags, caps.hashtag_limit, _closing_tag_block(text))
        msg = f"kept the first {caps.hashtag_limit} of {len(tags)} hashtags"
        changes.append(FixChange(field=field, code=ViolationCode.TOO_MANY_HASHTAGS, message=msg))
    if caps.text_syntax == "linkedin_little":
        escaped, n = _linkedin_escape(text)
        if n:
            text = escaped
            msg = f"escaped {_plural(n, 'reserved character')} with a backslash"
            changes.append(FixChange(field=field, code=ViolationCode.UNESCAPED_RESERVED, message=msg))
    return text


def _fit_length(parts: list[str], caps: PlatformCapabilities, changes: list[FixChange]) -> list[str]:
    limit, method = caps.text.max_length, caps.text.count
    if all(count_text(p, method) <= limit for p in parts):
        return parts
    unit = count_unit(method)
    if caps.threads:
        over = [p for p in parts if count_text(p, method) > limit]
        if parts != [parts[0]] and all(_has_huge_link(p, limit, method) for p in over):
            return parts  # already split around the link; only the link itself is too long
        new = _split_parts(parts, limit, method)
        msg = f"split into a thread of {len(new)} parts, each at most {limit:,} {unit}"
        changes.append(FixChange(field="text", code=ViolationCode.TOO_LONG, message=msg))
        return new
    out = []
    for i, part in enumerate(parts):
        if (n := count_text(part, method)) > limit:
            part = shorten_text(part, limit, method)
            field = "text" if i == 0 else f"thread[{i - 1}]"
            msg = f"shortened from {n:,} to {count_text(part, method):,} {unit} (limit {limit:,})"
            changes.append(FixChange(field=field, code=ViolationCode.TOO_LONG, message=msg))
        out.append(part)
    return out


def _fix_title(title: str | None, caps: PlatformCapabilities, changes: list[FixChange]) -> str | None:
    rule = caps.title
    if title is None or rule is None:
        return title
    if rule.forbidden_chars and any(ch in rule.forbidden_chars for ch in title):
        title = "".join(ch for ch in title if ch not in rule.forbidden_chars)
        msg = f"removed {' '.join(rule.forbidden_chars)}"
        changes.append(FixChange(field="title", code=ViolationCode.FORBIDDEN_CHARACTER, message=msg))
    if (n := count_text(title, rule.count)) > rule.max_length:
        title = shorten_text(title, rule.max_length, rule.count, keep_tail=False)
        msg = f"trimmed from {n:,} to {count_text(title, rule.count):,} {count_unit(rule.count)}"
        changes.append(FixChange(field="title", code=ViolationCode.TOO_LONG, message=msg))
    return title


def fix(draft: PostDraft, caps: PlatformCapabilities | None = None) -> FixResult:
    """Repair what can be repaired mechanically, then report what is still wrong."""
    caps = caps or get_capabilities(draft.platform)
    changes: list[FixChange] = []
    text, thread, title, link = draft.text, list(draft.thread), draft.title, draft.link
    # Structure first: where text ends up decides what the text rules see.
    if link and not caps.link_attachment and caps.links_clickable:
        text = f"{text.rstrip()} {link}".strip()
        changes.append(
            FixChange(
                field="link", code=ViolationCode.UNSUPPORTED_FIELD, message="moved the link into the text"
            )
        )
        link = None
    if title and caps.title is None:
        msg = f"dropped the title: {caps.name} posts have none"
        changes.append(FixChange(field="title", code=ViolationCode.UNSUPPORTED_FIELD, message=msg))
        title = None
    if any(not p.strip() for p in thread):
        thread = [p for p in thread if p.strip()]
        changes.append(
            FixChange(field="thread", code=ViolationCode.EMPTY_PART, message="dropped empty thread parts")
        )
    if thread and not caps.threads:
        text = "\n\n".join(p for p in (text, *thread) if p.strip())
        msg = f"joined {_plural(len(thread) + 1, 'part')} into one post"
        changes.append(FixChange(field="thread", code=ViolationCode.THREADS_UNSUPPORTED, message=msg))
        thread = []
    parts = [text, *thread]
    # Escaping lengthens text and a cut can strand a backslash, so clean and fit until stable.
    # A thread is split at most once: splitting again would number the numbered parts.
    for _ in range(4):
        cleaned = [
            _clean("text" if i == 0 else f"thread[{i - 1}]", p, caps, changes) for i, p in enumerate(parts)
        ]
        fitted = _fit_length(cleaned, caps, changes)
        if fitted == parts or (caps.threads and fitted != cleaned):
            parts = fitted
            break
        parts = fitted
    fixed = draft.model_copy(
        update={
            "text": parts[0] if parts else "",
            "thread": tuple(parts[1:]),
            "title": _fix_title(title, caps, changes),
            "link": link,
        }
    )
    return FixResult(draft=fixed, changes=tuple(changes), remaining=tuple(validate(fixed, caps)))
