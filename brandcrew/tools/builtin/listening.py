"""Tools over mentions: search, sentiment, trends; competitors' public activity."""

from __future__ import annotations

import functools
import re
from collections import Counter
from datetime import timedelta
from typing import Any

from brandcrew.services import mentions, workspaces
from brandcrew.store.tables import SocialAccount
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool

_TAG = re.compile(r"#(\w{2,})")


@tool(untrusted_output=True)
def search_mentions(
    ctx: ToolContext, text: str | None = None, sentiment: str | None = None, hours: int = 72, limit: int = 20
) -> list[dict[str, Any]]:
    """Recent public mentions of the brand, optionally containing `text` or with a sentiment label."""
    with session_for(ctx) as session:
        rows = mentions.search_mentions(
            session,
            workspace_id=ctx.workspace_id,
            text=text,
            sentiment=sentiment,
            since=ctx.now() - timedelta(hours=hours),
            limit=limit,
        )
    return [
        {
            "platform": r.platform,
            "author": r.author_username,
            "followers": r.author_followers,
            "text": r.content,
            "sentiment": r.sentiment,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


@tool
def sentiment_summary(ctx: ToolContext, hours: int = 72) -> dict[str, Any]:
    """Counts and shares of positive, neutral and negative mentions over the last `hours` hours, vs the window before."""
    now = ctx.now()
    with session_for(ctx) as session:
        current = mentions.sentiment_summary(
            session, workspace_id=ctx.workspace_id, since=now - timedelta(hours=hours)
        )
        before = mentions.sentiment_summary(
            session,
            workspace_id=ctx.workspace_id,
            since=now - timedelta(hours=2 * hours),
            until=now - timedelta(hours=hours),
        )
    return {"current": current.model_dump(), "previous": before.model_dump()}


@tool(untrusted_output=True)  # hashtags are words people outside the brand chose
def trending_topics(ctx: ToolContext, hours: int = 24, limit: int = 10) -> list[dict[str, Any]]:
    """Hashtags in mentions growing fastest against the previous window (min 3 uses by 2+ authors)."""
    now = ctx.now()
    with session_for(ctx) as session:
        recent = mentions.search_mentions(
            session, workspace_id=ctx.workspace_id, since=now - timedelta(hours=hours), limit=100_000
        )
        older = mentions.search_mentions(
            session,
            workspace_id=ctx.workspace_id,
            since=now - timedelta(hours=4 * hours),
            until=now - timedelta(hours=hours),
            limit=100_000,
        )
    counts, authors, baseline = Counter[str](), dict[str, set[str]](), Counter[str]()
    for m in recent:
        for tag in {t.lower() for t in _TAG.findall(m.content)}:
            counts[tag] += 1
            authors.setdefault(tag, set()).add(m.author_username)
    for m in older:
        for tag in {t.lower() for t in _TAG.findall(m.content)}:
            baseline[tag] += 1
    rows = []
    for tag, n in counts.items():
        if n < 3 or len(authors[tag]) < 2:
            continue
        expected = baseline[tag] / 3  # the baseline window is three times as long
        rows.append(
            {
                "hashtag": f"#{tag}",
                "count": n,
                "baseline_per_window": round(expected, 2),
                "growth": round((n + 1) / (expected + 1), 2),
                "unique_authors": len(authors[tag]),
            }
        )
    return sorted(rows, key=lambda r: (r["growth"], r["count"]), reverse=True)[:limit]


@tool
async def competitor_accounts(ctx: ToolContext) -> list[dict[str, Any]]:
    """The competitor accounts the brand tracks, with their current public counters."""
    with session_for(ctx) as session:
        tracked = workspaces.competitors(session, ctx.workspace_id)
        own = {a.platform: a for a in session.query(SocialAccount).filter_by(workspace_id=ctx.workspace_id)}
    out = []
    for c in tracked:
        account = own.get(c["platform"])
        if account is None:
            continue
        connector = ctx.services.accounts.connector(account)
        try:
            m = await ctx.services.accounts.with_auth(
                account, functools.partial(connector.fetch_user_metrics, username=c["username"])
            )
            out.append({**c, "followers": m.followers, "posts": m.posts})
        except NotImplementedError:
            out.append({**c, "note": "metrics not available on this platform"})
    return out


@tool(untrusted_output=True)
async def competitor_posts(
    ctx: ToolContext, username: str, days: int = 7, platform: str | None = None
) -> list[dict[str, Any]]:
    """A competitor's public posts of the last `days` days, on one platform or every one it is tracked on."""
    with session_for(ctx) as session:
        tracked = workspaces.competitors(session, ctx.workspace_id)
        own = {a.platform: a for a in session.query(SocialAccount).filter_by(workspace_id=ctx.workspace_id)}
    matches = [c for c in tracked if c["username"] == username and platform in (None, c["platform"])]
    if not matches:
        from brandcrew.tools.errors import ToolRetry

        names = sorted({f"{c['username']} ({c['platform']})" for c in tracked})
        raise ToolRetry(
            f"{username} is not a tracked competitor{f' on {platform}' if platform else ''}; tracked: {names}"
        )
    out: list[dict[str, Any]] = []
    since = ctx.now() - timedelta(days=days)
    for c in matches:
        account = own.get(c["platform"])
        if account is None:
            continue
        connector = ctx.services.accounts.connector(account)
        posts = await ctx.services.accounts.with_auth(
            account, functools.partial(_user_posts, connector, username, since)
        )
        out.extend(
            {"platform": c["platform"], "text": p.text, "created_at": p.created_at.isoformat(), "url": p.url}
            for p in posts
        )
    return out


async def _user_posts(connector: Any, username: str, since: Any, auth: Any) -> list[Any]:
    return list(await connector.fetch_user_posts(auth, username, since))
