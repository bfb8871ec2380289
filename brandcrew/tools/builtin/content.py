"""Tools for drafting: validate and fix drafts against platform limits, save drafts, schedule posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.validation import fix, validate
from brandcrew.services import publishing
from brandcrew.services.errors import ServiceError
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.store.tables import SocialAccount
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool
from brandcrew.tools.errors import ToolRetry


@tool
def validate_post(platform: str, text: str, title: str | None = None) -> dict[str, Any]:
    """Check a draft against the platform's documented limits; lists every violation with its field."""
    violations = validate(PostDraft(platform=platform, text=text, title=title))
    return {"ok": not violations, "violations": [v.model_dump(mode="json") for v in violations]}


@tool
def fix_post(platform: str, text: str, title: str | None = None) -> dict[str, Any]:
    """Shorten, escape or split a draft into a thread so it fits the platform; returns the fixed text."""
    result = fix(PostDraft(platform=platform, text=text, title=title))
    return {
        "text": result.draft.text,
        "thread": list(result.draft.thread),
        "changes": [c.model_dump(mode="json") for c in result.changes],
        "remaining_violations": [v.model_dump(mode="json") for v in result.remaining],
    }


def _account_for(session: Any, workspace_id: str, platform: str) -> SocialAccount:
    from sqlmodel import select

    account = session.exec(
        select(SocialAccount).where(
            SocialAccount.workspace_id == workspace_id,
            SocialAccount.platform == platform,
            SocialAccount.is_active,
        )
    ).first()
    if account is None:
        raise ToolRetry(f"no connected {platform} account; choose one of the connected platforms")
    return account


@tool(scopes=["write"], effect="write")
def create_post_draft(
    ctx: ToolContext, platform: str, text: str, title: str | None = None, campaign_id: str | None = None
) -> dict[str, Any]:
    """Save a post draft for the brand's account on a platform (it waits for approval; nothing is published)."""
    violations = validate(PostDraft(platform=platform, text=text, title=title))
    if violations:
        raise ToolRetry("the draft breaks platform limits: " + "; ".join(v.message for v in violations))
    with session_for(ctx) as session:
        account = _account_for(session, ctx.workspace_id, platform)
        post = publishing.create_post(
            session,
            workspace_id=ctx.workspace_id,
            content=PostContent(text=text, title=title),
            targets=[PostTarget(platform=platform, account_id=account.id)],
            campaign_id=campaign_id,
            ai_generated=True,
            ai_metadata={"agent": ctx.agent, "run_id": ctx.run_id},
            status="pending_approval",
            actor="agent",
        )
        return {"post_id": post.id, "status": post.status, "platform": platform}


def _post_texts(ctx: ToolContext, args: dict[str, Any]) -> list[str]:
    """What scheduling a post puts into the world: its text and each platform's own text."""
    with session_for(ctx) as session:
        try:
            post = publishing.get_post(
                session, workspace_id=ctx.workspace_id, post_id=str(args.get("post_id"))
            )
        except ServiceError:
            return []
        texts = [str(post.content.get("text", "")), str(post.content.get("first_comment") or "")]
        for variant in publishing.variants_of(session, post.id):
            texts.append(str((variant.custom_content or {}).get("text", "")))
        return [t for t in texts if t]


@tool(scopes=["publish"], effect="write", needs_approval=True, effect_content=_post_texts)
def schedule_post(ctx: ToolContext, post_id: str, at: datetime) -> dict[str, Any]:
    """Schedule an approved post for publishing at `at` (ISO 8601, UTC); a person approves first."""
    with session_for(ctx) as session:
        post = publishing.get_post(session, workspace_id=ctx.workspace_id, post_id=post_id)
        if post.status == "pending_approval":
            post.status, post.approval_status = "approved", "approved"
        entries = publishing.schedule_post(
            session, workspace_id=ctx.workspace_id, post_id=post_id, at=at, now=ctx.now(), actor="agent"
        )
        return {"post_id": post_id, "scheduled_at": at.isoformat(), "publishes": len(entries)}


@tool
def calendar(ctx: ToolContext, days: int = 14) -> list[dict[str, Any]]:
    """Publishes scheduled or done in the next `days` days, in time order."""
    from datetime import timedelta

    with session_for(ctx) as session:
        items = publishing.calendar(
            session,
            workspace_id=ctx.workspace_id,
            start=ctx.now() - timedelta(days=1),
            end=ctx.now() + timedelta(days=days),
        )
    return [i.model_dump(mode="json") for i in items]
