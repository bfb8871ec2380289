"""Simulated people talking: mentions, DMs, comments and crisis bursts, computed on demand.

Nothing here is stored. Each hour of each stream is drawn from its own RNG, seeded by
(world seed, stream, account, hour), so polling a window twice returns the same items with the same
remote ids, and advancing the clock by weeks costs only the hours someone asks about.

Rates (items per hour):
- mentions: `mentions_per_day(audience) / 24 x audience_activity x posting boost`, where
  `mentions_per_day = 0.5 + 0.02 x audience ** 0.7` and the boost is
  `1 + POSTING_BOOST x sum(exp(-age / 8 h))` over the account's posts of the previous 48 hours
  (posts made before the hour starts, so a later post never rewrites an hour already seen).
- DMs: DM_SHARE of the mention rate.
- crisis: `intensity x max(normal hourly mention rate, CRISIS_MIN_PER_HOUR) x envelope`, inside the
  crisis window only (envelope: ramps up over the first 15%, full until 60%, decays to 0.3 at the end),
  85% negative, CRISIS_INFLUENCER_SHARE of the authors influential; plus crisis DMs.
- comments on the brand's own posts: exactly the `comments` counter of the engagement model, the k-th
  comment appearing when the counter reaches k, so inbox and metrics agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict

from brandcrew.connectors.base import RemoteMention, RemoteMessage
from brandcrew.connectors.sandbox import _text
from brandcrew.connectors.sandbox._people import (
    EPOCH,
    Author,
    StreamAccount,
    author_pool,
    item_engagement,
    make_id,
    pick_author,
    pick_template,
    split_id,
    text_values,
    verify_item_id,
)
from brandcrew.connectors.sandbox._rng import poisson, rng, weighted_choice
from brandcrew.connectors.sandbox.engagement import (
    PostForecast,
    age_for_fraction,
    audience_activity,
    counts_at,
)

__all__ = (
    "COMMENT_MIX",
    "CRISIS_INFLUENCER_SHARE",
    "CRISIS_MIN_PER_HOUR",
    "CRISIS_MIX",
    "DM_KINDS",
    "DM_SHARE",
    "POSTING_BOOST",
    "SENTIMENT_MIX",
    "Author",
    "SandboxCrisis",
    "StreamAccount",
    "StreamItem",
    "brand_mentions",
    "competitor_mentions",
    "crisis_envelope",
    "direct_messages",
    "follow_ups",
    "matches_query",
    "mentions_per_day",
    "post_comments",
    "verify_item_id",
)

HOUR: Final = timedelta(hours=1)
POSTING_BOOST: Final = 0.25
POSTING_BOOST_TAU_H: Final = 8.0
DM_SHARE: Final = 0.25
COMPETITOR_MENTION_SHARE: Final = 0.5
SENTIMENT_MIX: Final[Mapping[str, float]] = {"positive": 0.35, "neutral": 0.5, "negative": 0.15}
CRISIS_MIX: Final[Mapping[str, float]] = {"negative": 0.85, "neutral": 0.12, "positive": 0.03}
CRISIS_MIN_PER_HOUR: Final = 2.0
CRISIS_INFLUENCER_SHARE: Final = 0.15
CRISIS_DM_SHARE: Final = 0.15
CRISIS_COMMENT_SHARE: Final = 0.6
DM_KINDS: Final[Mapping[str, float]] = {
    "question": 0.45,
    "complaint": 0.2,
    "praise": 0.15,
    "partnership": 0.08,
    "spam": 0.12,
}
COMMENT_MIX: Final[Mapping[str, float]] = {"positive": 0.45, "neutral": 0.4, "negative": 0.15}
FOLLOW_UP_PROBABILITY: Final = 0.5


class SandboxCrisis(BaseModel):
    """A scripted burst of negative mentions about a topic in a window."""

    model_config = ConfigDict(frozen=True)

    id: str
    starts_at: datetime
    ends_at: datetime
    intensity: float
    """Peak volume as a multiple of normal mention volume (at least CRISIS_MIN_PER_HOUR x intensity)."""
    topic: str
    platforms: tuple[str, ...] = ()
    """Platforms it plays out on; empty means all."""

    def affects(self, platform: str) -> bool:
        """True when the crisis plays out on `platform`."""
        return not self.platforms or platform in self.platforms


@dataclass(frozen=True, kw_only=True)
class StreamItem:
    """One generated mention, DM, comment or follow-up."""

    remote_id: str
    kind: str
    """mention | dm | comment"""
    author: Author
    text: str
    created_at: datetime
    sentiment: str
    language: str = "en"
    topic: str = ""
    thread_id: str = ""
    in_reply_to: str | None = None
    crisis_id: str | None = None
    likes: int = 0
    replies: int = 0
    shares: int = 0
    url: str | None = None

    def to_mention(self) -> RemoteMention:
        """The item as a connector RemoteMention."""
        return RemoteMention(
            remote_id=self.remote_id,
            author_id=self.author.id,
            author_username=self.author.username,
            author_name=self.author.name,
            author_followers=self.author.followers,
            text=self.text,
            url=self.url,
            language=self.language,
            created_at=self.created_at,
            likes=self.likes,
            replies=self.replies,
            shares=self.shares,
        )

    def to_message(self) -> RemoteMessage:
        """The item as a connector RemoteMessage."""
        return RemoteMessage(
            remote_id=self.remote_id,
            thread_id=self.thread_id,
            kind=self.kind,
            author_id=self.author.id,
            author_name=self.author.name,
            text=self.text,
            created_at=self.created_at,
            in_reply_to=self.in_reply_to,
            author_followers=self.author.followers,
        )


# --- time helpers --------------------------------------------------------------------------------


def _hour_index(t: datetime) -> int:
    return math.floor((t - EPOCH).total_seconds() / 3600)


def _hour_start(h: int) -> datetime:
    return EPOCH + timedelta(hours=h)


def _hours(since: datetime, until: datetime) -> range:
    return range(_hour_index(since), _hour_index(until) + 1)


def mentions_per_day(audience: int) -> float:
    """Normal daily mentions of an account with `audience` followers."""
    return 0.5 + 0.02 * max(audience, 0) ** 0.7


def _posting_boost(post_times: Sequence[datetime], at: datetime) -> float:
    boost = 0.0
    for t in post_times:
        age_h = (at - t).total_seconds() / 3600
        if 0 < age_h <= 48:
            boost += math.exp(-age_h / POSTING_BOOST_TAU_H)
    return 1 + POSTING_BOOST * boost


def _base_rate(acct: StreamAccount, at: datetime) -> float:
    return mentions_per_day(acct.audience) / 24 * audience_activity(acct.profile, acct.timezones, at)


def crisis_envelope(crisis: SandboxCrisis, at: datetime) -> float:
    """Intensity profile of a crisis at `at`: 0 outside its window, up to 1 at its height."""
    span = (crisis.ends_at - crisis.starts_at).total_seconds()
    if span <= 0 or not crisis.starts_at <= at < crisis.ends_at:
        return 0.0
    frac = (at - crisis.starts_at).total_seconds() / span
    if frac < 0.15:
        return 0.3 + 0.7 * frac / 0.15
    if frac < 0.6:
        return 1.0
    return 1.0 - 0.7 * (frac - 0.6) / 0.4


def _in_window(items: Iterable[StreamItem], since: datetime, until: datetime) -> list[StreamItem]:
    return sorted(
        (i for i in items if since < i.created_at <= until), key=lambda i: (i.created_at, i.remote_id)
    )


# --- mentions ------------------------------------------------------------------------------------


def _mention_hour(acct: StreamAccount, h: int, post_times: Sequence[datetime], kind: str) -> list[StreamItem]:
    start = _hour_start(h)
    r = rng(acct.seed, "mentions", kind, acct.account_id, h)
    share = COMPETITOR_MENTION_SHARE if kind == "mc" else 1.0
    lam = share * _base_rate(acct, start + HOUR / 2) * _posting_boost(post_times, start)
    out = []
    for i in range(poisson(r, lam)):
        created = start + timedelta(seconds=r.random() * 3600)
        author = pick_author(acct.seed, acct.platform, r.random(), influential=False)
        sentiment = weighted_choice(r, dict(SENTIMENT_MIX))
        language = weighted_choice(r, dict(acct.languages)) if acct.languages else "en"
        values = text_values(acct, r)
        template, language = pick_template(_text.MENTIONS, language, sentiment, r)
        likes, replies, shares = item_engagement(author, r)
        remote_id = make_id(acct.seed, acct.account_id, kind, (h, i), author.index)
        out.append(
            StreamItem(
                remote_id=remote_id,
                kind="mention",
                author=author,
                text=_text.fill(template, values),
                created_at=created,
                sentiment=sentiment,
                language=language,
                topic=values["topic"],
                likes=likes,
                replies=replies,
                shares=shares,
                url=f"https://sandbox.brandcrew.local/{acct.platform}/{author.username}/{remote_id}",
            )
        )
    return out


def _crisis_hour(acct: StreamAccount, crisis: SandboxCrisis, h: int, kind: str) -> list[StreamItem]:
    start = _hour_start(h)
    lo, hi = max(start, crisis.starts_at), min(start + HOUR, crisis.ends_at)
    if hi <= lo or not crisis.affects(acct.platform):
        return []
    r = rng(acct.seed, "crisis", kind, crisis.id, acct.account_id, h)
    base = max(_base_rate(acct, lo + (hi - lo) / 2), CRISIS_MIN_PER_HOUR)
    lam = crisis.intensity * base * crisis_envelope(crisis, lo + (hi - lo) / 2)
    lam *= (hi - lo) / HOUR * (CRISIS_DM_SHARE if kind == "cd" else 1.0)
    out = []
    for i in range(poisson(r, lam)):
        created = lo + (hi - lo) * r.random()
        author = pick_author(acct.seed, acct.platform, r.random(), r.random() < CRISIS_INFLUENCER_SHARE)
        language = weighted_choice(r, dict(acct.languages)) if acct.languages else "en"
        values = text_values(acct, r, topic=crisis.topic)
        remote_id = make_id(acct.seed, acct.account_id, kind, (crisis.id[:8], h, i), author.index)
        if kind == "cd":
            text, sentiment, language = _text.fill(r.choice(_text.DMS["crisis"]), values), "negative", "en"
            thread, item_kind, likes, replies, shares = f"dmt_{author.id}", "dm", 0, 0, 0
        else:
            sentiment = weighted_choice(r, dict(CRISIS_MIX))
            template, language = pick_template(_text.CRISIS_MENTIONS, language, sentiment, r)
            text, thread, item_kind = _text.fill(template, values), "", "mention"
            likes, replies, shares = item_engagement(author, r, factor=2.0)
        out.append(
            StreamItem(
                remote_id=remote_id,
                kind=item_kind,
                author=author,
                text=text,
                created_at=created,
                sentiment=sentiment,
                language=language,
                topic=crisis.topic,
                thread_id=thread,
                crisis_id=crisis.id,
                likes=likes,
                replies=replies,
                shares=shares,
                url=f"https://sandbox.brandcrew.local/{acct.platform}/{author.username}/{remote_id}",
            )
        )
    return out


def brand_mentions(
    acct: StreamAccount,
    *,
    post_times: Sequence[datetime],
    crises: Sequence[SandboxCrisis],
    since: datetime,
    until: datetime,
) -> list[StreamItem]:
    """Public posts mentioning the brand's account in (since, until], crisis bursts included."""
    items: list[StreamItem] = []
    for h in _hours(since, until):
        items += _mention_hour(acct, h, post_times, "mn")
        for crisis in crises:
            items += _crisis_hour(acct, crisis, h, "cr")
    return _in_window(items, since, until)


def competitor_mentions(acct: StreamAccount, *, since: datetime, until: datetime) -> list[StreamItem]:
    """Public posts about a competitor in (since, until] (what a listening query may find)."""
    items: list[StreamItem] = []
    for h in _hours(since, until):
        items += _mention_hour(acct, h, (), "mc")
    return _in_window(items, since, until)


# --- DMs -----------------------------------------------------------------------------------------


def direct_messages(
    acct: StreamAccount,
    *,
    post_times: Sequence[datetime],
    crises: Sequence[SandboxCrisis],
    since: datetime,
    until: datetime,
) -> list[StreamItem]:
    """DMs to the brand's account in (since, until], crisis DMs included."""
    items: list[StreamItem] = []
    for h in _hours(since, until):
        start = _hour_start(h)
        r = rng(acct.seed, "dms", acct.account_id, h)
        lam = DM_SHARE * _base_rate(acct, start + HOUR / 2) * _posting_boost(post_times, start)
        for i in range(poisson(r, lam)):
            created = start + timedelta(seconds=r.random() * 3600)
            kind = weighted_choice(r, dict(DM_KINDS))
            author = pick_author(acct.seed, acct.platform, r.random(), influential=kind == "partnership")
            values = text_values(acct, r) | {"followers": f"{author.followers:,}"}
            items.append(
                StreamItem(
                    remote_id=make_id(acct.seed, acct.account_id, "dm", (h, i), author.index),
                    kind="dm",
                    author=author,
                    text=_text.fill(r.choice(_text.DMS[kind]), values),
                    created_at=created,
                    sentiment=_text.DM_SENTIMENT[kind],
                    topic=values["topic"],
                    thread_id=f"dmt_{author.id}",
                )
            )
        for crisis in crises:
            items += _crisis_hour(acct, crisis, h, "cd")
    return _in_window(items, since, until)


# --- comments on own posts -----------------------------------------------------------------------


def post_comments(
    acct: StreamAccount,
    *,
    remote_id: str,
    created_at: datetime,
    deleted_at: datetime | None,
    forecast: PostForecast,
    has_question: bool,
    crises: Sequence[SandboxCrisis],
    since: datetime,
    until: datetime,
) -> list[StreamItem]:
    """Comments on one of the brand's posts that arrived in (since, until]: the comments counter's steps."""
    end = min(until, deleted_at) if deleted_at else until
    if end <= created_at:
        return []
    first = counts_at(forecast, since - created_at).comments if since > created_at else 0
    last = counts_at(forecast, end - created_at).comments
    out = []
    for k in range(first + 1, last + 1):
        age = age_for_fraction(forecast.platform, (k - 0.5) / forecast.comments)
        created = min(max(created_at + age, since + timedelta(microseconds=1)), end)
        r = rng(acct.seed, "comment", remote_id, k)
        author = pick_author(acct.seed, acct.platform, r.random(), influential=False)
        crisis = next((c for c in crises if c.affects(acct.platform) and crisis_envelope(c, created)), None)
        if crisis is not None and r.random() < CRISIS_COMMENT_SHARE:
            sentiment, template = "negative", r.choice(_text.COMMENTS["crisis"])
            values = text_values(acct, r, topic=crisis.topic)
        else:
            sentiment = weighted_choice(r, dict(COMMENT_MIX))
            style = "answer" if has_question and sentiment != "negative" and r.random() < 0.5 else sentiment
            template, values = r.choice(_text.COMMENTS[style]), text_values(acct, r)
        out.append(
            StreamItem(
                remote_id=make_id(acct.seed, acct.account_id, "cm", (k,), author.index, remote_id),
                kind="comment",
                author=author,
                text=_text.fill(template, values),
                created_at=created,
                sentiment=sentiment,
                topic=values["topic"],
                thread_id=f"{remote_id}:{author.id}",
                in_reply_to=remote_id,
                crisis_id=crisis.id if crisis is not None and sentiment == "negative" else None,
            )
        )
    return out


# --- follow-ups to the brand's replies -----------------------------------------------------------


def follow_ups(
    acct: StreamAccount, *, replies: Sequence[tuple[str, str, datetime]], since: datetime, until: datetime
) -> list[StreamItem]:
    """Answers of people the brand replied to, from (reply id, in_reply_to, reply time) triples."""
    out = []
    for reply_id, in_reply_to, replied_at in replies:
        split = split_id(in_reply_to)
        if split is None:
            continue
        kind, _head, _sig, author_index, tail = split
        r = rng(acct.seed, "follow-up", reply_id)
        if r.random() >= FOLLOW_UP_PROBABILITY:
            continue
        created = replied_at + timedelta(minutes=r.uniform(5, 180))
        if not since < created <= until:
            continue
        author = author_pool(acct.seed, acct.platform)[author_index]
        sentiment = "positive" if r.random() < 0.7 else "negative"
        if kind == "cm":
            item_kind, thread = "comment", f"{tail}:{author.id}"
        elif kind in ("dm", "cd"):
            item_kind, thread = "dm", f"dmt_{author.id}"
        else:
            item_kind, thread = "mention", f"mnt_{author.id}"
        out.append(
            StreamItem(
                remote_id=make_id(acct.seed, acct.account_id, "fu", (), author_index, reply_id),
                kind=item_kind,
                author=author,
                text=r.choice(_text.FOLLOW_UPS[sentiment]),
                created_at=created,
                sentiment=sentiment,
                thread_id=thread,
                in_reply_to=reply_id,
            )
        )
    return _in_window(out, since, until)


# --- search --------------------------------------------------------------------------------------

_TERM = re.compile(r'-?"[^"]+"|\S+')


def matches_query(query: str, text: str) -> bool:
    """Whether `text` matches a listening query: `a b` (all), `a OR b`, `"a phrase"`, `-excluded`."""
    haystack = text.casefold()
    for alternative in re.split(r"\s+OR\s+", query.strip()):
        terms = _TERM.findall(alternative)
        wanted = [t.strip('"').casefold() for t in terms if not t.startswith("-")]
        unwanted = [t[1:].strip('"').casefold() for t in terms if t.startswith("-") and len(t) > 1]
        if wanted and all(w in haystack for w in wanted) and not any(u in haystack for u in unwanted):
            return True
    return False
