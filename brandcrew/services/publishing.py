"""Publishing: posts with per-platform variants and versions, scheduling into the outbox, calendar.

Graph nodes and agents never publish: they call these functions, which validate against the
platforms' limits and write outbox rows keyed by a deterministic idempotency key. The publisher job
(`brandcrew.jobs.publisher`) turns each outbox row into exactly one platform post.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.validation import Violation, validate
from brandcrew.services import audit, workflows
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import ApprovalRequired, Conflict, NotFound, PublishingPaused, ValidationFailed
from brandcrew.store.tables import (
    Campaign,
    MediaAsset,
    OutboxEntry,
    Post,
    PostVariant,
    PostVersion,
    SocialAccount,
    Workspace,
    as_utc,
    utcnow,
)

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_LINKEDIN_ESCAPE = re.compile(r"\\([|{}@\[\]()<>#\\*_~])")

EDITABLE = frozenset({"draft", "pending_approval", "approved", "scheduled", "failed"})


class PostContent(BaseModel):
    """The content of a post, shared by every platform unless a variant overrides it."""

    text: str = ""
    title: str | None = None
    media: list[str] = Field(default_factory=list)
    """Media asset ids, in order."""
    link: str | None = None
    first_comment: str | None = None
    thread: list[str] = Field(default_factory=list)


class PostTarget(BaseModel):
    """Where a post goes: a platform account, with optional custom content for it."""

    platform: str
    account_id: str
    custom: dict[str, Any] | None = None
    """Overrides of PostContent fields for this platform (text, title, media, link, thread)."""


def normalize_for_match(text: str) -> str:
    """Text as a platform may echo it back: URLs (shortened by X) masked, escapes and spacing removed."""
    text = unicodedata.normalize("NFC", text)
    text = _LINKEDIN_ESCAPE.sub(r"\1", text)
    text = _URL.sub("<url>", text)
    return _SPACE.sub(" ", text).strip().casefold()


def text_hash(text: str) -> str:
    """sha256 of the normalised text; how an outcome-unknown publish is found on the account."""
    return hashlib.sha256(normalize_for_match(text).encode()).hexdigest()


def idempotency_key(workspace_id: str, post_id: str, platform: str, account_id: str, version: int) -> str:
    """The deterministic key of one publish: the same post version on the same account is one post."""
    raw = f"{workspace_id}|{post_id}|{platform}|{account_id}|v{version}"
    return hashlib.sha256(raw.encode()).hexdigest()


# -- CRUD ------------------------------------------------------------------------------------
def get_post(session: Session, *, workspace_id: str, post_id: str) -> Post:
    """One post of the workspace, or NotFound."""
    return get_owned(session, Post, post_id, workspace_id=workspace_id, label="post")


def variants_of(session: Session, post_id: str) -> list[PostVariant]:
    """A post's per-platform variants."""
    return list(session.exec(select(PostVariant).where(PostVariant.post_id == post_id)).all())


def _check_targets(session: Session, workspace_id: str, targets: list[PostTarget]) -> None:
    if not targets:
        raise ValidationFailed("a post needs at least one target account", details={"field": "targets"})
    for target in targets:
        account = session.get(SocialAccount, target.account_id)
        if account is None or account.workspace_id != workspace_id:
            raise ValidationFailed(
                f"account {target.account_id} is not connected to this workspace",
                details={"field": "targets"},
            )
        if account.platform != target.platform:
            raise ValidationFailed(
                f"account {target.account_id} is a {account.platform} account, not {target.platform}",
                details={"field": "targets"},
            )


def _snapshot(session: Session, post: Post, variants: list[PostVariant], author_id: str | None) -> None:
    session.add(
        PostVersion(
            workspace_id=post.workspace_id,
            post_id=post.id,
            version=post.version,
            content=dict(post.content),
            variants=[
                {"platform": v.platform, "account_id": v.account_id, "custom": v.custom_content}
                for v in variants
            ],
            author_id=author_id,
        )
    )


def create_post(
    session: Session,
    *,
    workspace_id: str,
    content: PostContent,
    targets: list[PostTarget],
    author_id: str | None = None,
    campaign_id: str | None = None,
    tags: list[str] | None = None,
    ai_generated: bool = False,
    ai_metadata: dict[str, Any] | None = None,
    status: Literal["draft", "pending_approval", "approved"] = "draft",
    actor: str = "user",
    post_id: str | None = None,
) -> Post:
    """Create a post and its variants (version 1); `post_id` lets a re-run job name the same post."""
    _check_targets(session, workspace_id, targets)
    if campaign_id is not None:
        campaign = session.get(Campaign, campaign_id)
        # Another workspace's campaign id must not attach a post to (and show it in) that campaign.
        if campaign is None or campaign.workspace_id != workspace_id:
            raise ValidationFailed(f"campaign {campaign_id} not found", details={"field": "campaign"})
    post = Post(
        workspace_id=workspace_id,
        author_id=author_id,
        content=content.model_dump(exclude_none=True),
        campaign_id=campaign_id,
        tags=list(tags or []),
        ai_generated=ai_generated,
        ai_metadata=ai_metadata,
        status=status,
        approval_status="approved" if status == "approved" else None,
    )
    if post_id:
        post.id = post_id
    session.add(post)
    session.flush()
    variants = [
        PostVariant(
            workspace_id=workspace_id,
            post_id=post.id,
            platform=t.platform,
            account_id=t.account_id,
            custom_content=t.custom,
        )
        for t in targets
    ]
    session.add_all(variants)
    _snapshot(session, post, variants, author_id)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=author_id,
        actor=actor,
        action="create",
        resource="post",
        resource_id=post.id,
        changes={"content": post.content, "targets": [t.model_dump() for t in targets]},
    )
    return post


def update_post(
    session: Session,
    *,
    workspace_id: str,
    post_id: str,
    content: PostContent | None = None,
    targets: list[PostTarget] | None = None,
    tags: list[str] | None = None,
    user_id: str | None = None,
    actor: str = "user",
) -> Post:
    """Edit a post not yet published; content changes bump the version (and so the publish key)."""
    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
    if post.status not in EDITABLE:
        raise Conflict(f"post {post_id} is {post.status} and can no longer be edited")
    changes: dict[str, Any] = {}
    if content is not None:
        changes["content"] = {"from": post.content, "to": content.model_dump(exclude_none=True)}
        post.content = content.model_dump(exclude_none=True)
    variants = variants_of(session, post.id)
    if targets is not None:
        _check_targets(session, workspace_id, targets)
        for variant in variants:
            session.delete(variant)
        # The unit of work inserts before it deletes: without this flush, re-targeting the same
        # account trips the (post, platform, account) unique constraint.
        session.flush()
        variants = [
            PostVariant(
                workspace_id=workspace_id,
                post_id=post.id,
                platform=t.platform,
                account_id=t.account_id,
                custom_content=t.custom,
            )
            for t in targets
        ]
        session.add_all(variants)
        changes["targets"] = [t.model_dump() for t in targets]
    if tags is not None:
        changes["tags"] = {"from": post.tags, "to": tags}
        post.tags = list(tags)
    if content is not None or targets is not None:
        post.version += 1
        _cancel_pending_outbox(session, post.id)
        if post.status in ("scheduled", "approved"):
            post.status = "draft"  # a changed post must be scheduled (and approved) again
        if post.approval_status == "approved":
            post.approval_status = None
        _snapshot(session, post, variants, user_id)
    post.updated_at = utcnow()
    session.add(post)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="update",
        resource="post",
        resource_id=post.id,
        changes=changes,
    )
    return post


def delete_post(session: Session, *, workspace_id: str, post_id: str, user_id: str | None = None) -> None:
    """Delete a post that has not started publishing; its pending outbox rows are cancelled."""
    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
    if post.status in ("publishing", "published", "partially_published"):
        raise Conflict(f"post {post_id} is {post.status}; delete it on the platform instead")
    _cancel_pending_outbox(session, post.id)
    # Variants and versions go with the post (ON DELETE CASCADE).
    session.delete(post)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="delete",
        resource="post",
        resource_id=post_id,
    )


def _posts_query(
    workspace_id: str,
    *,
    status: str | None,
    campaign_id: str | None,
    platform: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:
    stmt = select(Post).where(Post.workspace_id == workspace_id)
    if status is not None:
        stmt = stmt.where(Post.status == status)
    if campaign_id is not None:
        stmt = stmt.where(Post.campaign_id == campaign_id)
    if platform is not None:
        on_platform = select(PostVariant.post_id).where(
            PostVariant.workspace_id == workspace_id, PostVariant.platform == platform
        )
        stmt = stmt.where(col(Post.id).in_(on_platform))
    if since is not None:
        stmt = stmt.where(col(Post.scheduled_at) >= since)
    if until is not None:
        stmt = stmt.where(col(Post.scheduled_at) < until)
    return stmt


def list_posts(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    campaign_id: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Post]:
    """Posts of a workspace, newest first, filtered by status, campaign, platform or schedule window."""
    stmt = _posts_query(
        workspace_id, status=status, campaign_id=campaign_id, platform=platform, since=since, until=until
    )
    stmt = stmt.order_by(col(Post.created_at).desc(), col(Post.id)).offset(offset).limit(limit)
    return list(session.exec(stmt).all())


def count_posts(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    campaign_id: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """How many posts `list_posts` would return with the same filters and no page."""
    stmt = _posts_query(
        workspace_id, status=status, campaign_id=campaign_id, platform=platform, since=since, until=until
    )
    return int(session.exec(select(func.count()).select_from(stmt.subquery())).one())


def variants_by_post(session: Session, post_ids: list[str]) -> dict[str, list[PostVariant]]:
    """The variants of many posts at once, by post id."""
    out: dict[str, list[PostVariant]] = {pid: [] for pid in post_ids}
    if post_ids:
        for v in session.exec(select(PostVariant).where(col(PostVariant.post_id).in_(post_ids))).all():
            out.setdefault(v.post_id, []).append(v)
    return out


def merged_content(post: Post, patch: dict[str, Any]) -> PostContent:
    """The post's content with some fields replaced (a partial edit)."""
    return PostContent.model_validate({**post.content, **patch})


def outbox_of(session: Session, *, workspace_id: str, post_id: str) -> list[OutboxEntry]:
    """The outbox rows of a post's current version (one per platform account)."""
    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
    return list(
        session.exec(
            select(OutboxEntry).where(
                OutboxEntry.workspace_id == workspace_id,
                OutboxEntry.post_id == post.id,
                OutboxEntry.content_version == post.version,
            )
        ).all()
    )


def _cancel_pending_outbox(session: Session, post_id: str) -> None:
    for entry in session.exec(
        select(OutboxEntry).where(OutboxEntry.post_id == post_id, OutboxEntry.status == "pending")
    ).all():
        entry.status = "cancelled"
        entry.updated_at = utcnow()
        session.add(entry)


# -- drafts and validation -------------------------------------------------------------------
def media_items(session: Session, workspace_id: str, ids: list[str]) -> tuple[MediaItem, ...]:
    """The draft media items of stored assets (ValidationFailed when one is missing)."""
    items = []
    for asset_id in ids:
        asset = session.get(MediaAsset, asset_id)
        if asset is None or asset.workspace_id != workspace_id:
            raise ValidationFailed(f"media asset {asset_id} not found", details={"field": "media"})
        items.append(
            MediaItem(
                type=asset.type,
                url=asset.url,
                mime=asset.mime_type,
                size_bytes=asset.size,
                duration_s=asset.duration_s,
            )
        )
    return tuple(items)


def draft_for(session: Session, post: Post, variant: PostVariant) -> PostDraft:
    """The exact draft a variant publishes: base content with the variant's overrides."""
    merged = {**post.content, **(variant.custom_content or {})}
    return PostDraft(
        platform=variant.platform,
        text=merged.get("text", ""),
        title=merged.get("title"),
        media=media_items(session, post.workspace_id, list(merged.get("media", []))),
        link=merged.get("link"),
        thread=tuple(merged.get("thread", [])),
    )


def validate_post(session: Session, *, workspace_id: str, post_id: str) -> dict[str, list[Violation]]:
    """Every platform violation of every variant, keyed by `platform:account_id`."""
    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
    return {
        f"{v.platform}:{v.account_id}": validate(draft_for(session, post, v))
        for v in variants_of(session, post.id)
    }


# -- scheduling --------------------------------------------------------------------------------
def _insert_outbox(session: Session, values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Any = OutboxEntry.__table__  # type: ignore[attr-defined]
    stmt = insert(table).values(**values)
    # The key already names that publish: re-scheduling the same version only moves a row that is
    # still waiting (one already claimed, published or failed keeps its state).
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"due_at": stmt.excluded.due_at, "updated_at": stmt.excluded.updated_at},
            where=table.c.status == "pending",
        )
    )


def schedule_post(
    session: Session,
    *,
    workspace_id: str,
    post_id: str,
    at: datetime,
    now: datetime | None = None,
    user_id: str | None = None,
    actor: str = "user",
) -> list[OutboxEntry]:
    """Validate every variant, then queue one outbox row per variant, due at `at` (UTC)."""
    now = now or utcnow()
    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
    workspace = session.get(Workspace, workspace_id)
    if workspace is not None and workspace.publishing_paused_reason:
        raise PublishingPaused(f"publishing is paused for this brand: {workspace.publishing_paused_reason}")
    if post.status not in ("draft", "approved", "scheduled", "failed"):
        raise Conflict(f"post {post_id} is {post.status} and cannot be scheduled")
    workflow = workflows.active_workflow(session, workspace_id, "post")
    if workflow is not None and post.approval_status != "approved":
        raise ApprovalRequired(
            f"post {post_id} needs approval under the workflow {workflow.name!r} before it is scheduled "
            "or published: submit it with POST /api/workflows/execute",
            details={"workflowId": workflow.id, "approvalStatus": post.approval_status},
        )
    at = as_utc(at) or now
    if at < now - timedelta(minutes=1):
        raise ValidationFailed(
            f"scheduled time {at.isoformat()} is in the past", details={"field": "scheduled_at"}
        )
    variants = variants_of(session, post.id)
    problems = {}
    drafts = {}
    for variant in variants:
        draft = draft_for(session, post, variant)
        violations = validate(draft)
        if violations:
            problems[f"{variant.platform}:{variant.account_id}"] = [
                v.model_dump(mode="json") for v in violations
            ]
        drafts[variant.id] = draft
    if problems:
        raise ValidationFailed("the post breaks platform limits", details=problems)
    for variant in variants:
        draft = drafts[variant.id]
        key = idempotency_key(workspace_id, post.id, variant.platform, variant.account_id, post.version)
        _insert_outbox(
            session,
            {
                "key": key,
                "workspace_id": workspace_id,
                "post_id": post.id,
                "variant_id": variant.id,
                "platform": variant.platform,
                "account_id": variant.account_id,
                "content_version": post.version,
                "payload": draft.model_dump(mode="json", exclude={"hashtags", "mentions"}),
                "text_hash": text_hash(draft.text),
                "status": "pending",
                "due_at": at,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        variant.publish_status = "pending"
        session.add(variant)
    post.status = "scheduled"
    post.scheduled_at = at
    post.updated_at = now
    session.add(post)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="schedule",
        resource="post",
        resource_id=post.id,
        changes={"at": at, "version": post.version},
    )
    session.flush()
    return list(
        session.exec(
            select(OutboxEntry).where(
                OutboxEntry.post_id == post.id, OutboxEntry.content_version == post.version
            )
        ).all()
    )


def publish_now(
    session: Session,
    *,
    workspace_id: str,
    post_id: str,
    now: datetime | None = None,
    user_id: str | None = None,
) -> list[OutboxEntry]:
    """Queue a post for immediate publishing."""
    now = now or utcnow()
    return schedule_post(
        session, workspace_id=workspace_id, post_id=post_id, at=now, now=now, user_id=user_id
    )


class BulkResult(BaseModel):
    """What happened to each post of a bulk operation."""

    ok: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


def bulk(
    session: Session,
    *,
    workspace_id: str,
    operation: Literal["schedule", "delete", "publish", "update"],
    post_ids: list[str],
    at: datetime | None = None,
    content_patch: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    now: datetime | None = None,
    user_id: str | None = None,
) -> BulkResult:
    """Apply one operation to many posts; each succeeds or fails on its own (savepoints)."""
    result = BulkResult()
    for post_id in post_ids:
        try:
            with session.begin_nested():
                if operation == "delete":
                    delete_post(session, workspace_id=workspace_id, post_id=post_id, user_id=user_id)
                elif operation == "publish":
                    publish_now(session, workspace_id=workspace_id, post_id=post_id, now=now, user_id=user_id)
                elif operation == "update":
                    if content_patch is None and tags is None:
                        raise ValidationFailed("bulk update needs content or tags")
                    post = get_post(session, workspace_id=workspace_id, post_id=post_id)
                    update_post(
                        session,
                        workspace_id=workspace_id,
                        post_id=post_id,
                        content=None if content_patch is None else merged_content(post, content_patch),
                        tags=tags,
                        user_id=user_id,
                    )
                else:
                    if at is None:
                        raise ValidationFailed("bulk schedule needs `at`")
                    schedule_post(
                        session, workspace_id=workspace_id, post_id=post_id, at=at, now=now, user_id=user_id
                    )
            result.ok.append(post_id)
        except (NotFound, Conflict, ValidationFailed, PublishingPaused) as exc:
            result.failed[post_id] = str(exc)
    return result


def sync_post_status(session: Session, post_id: str) -> Post | None:
    """Derive a post's status from its variants after publishes finish."""
    post = session.get(Post, post_id)
    if post is None:
        return None
    states = [v.publish_status for v in variants_of(session, post_id)]
    if states and all(s == "published" for s in states):
        post.status = "published"
        published = [as_utc(v.published_at) for v in variants_of(session, post_id) if v.published_at]
        post.published_at = min(p for p in published if p is not None) if published else utcnow()
    elif any(s in ("pending", "publishing", "unknown") for s in states):
        post.status = "publishing" if any(s != "pending" for s in states) else post.status
    elif any(s == "published" for s in states):
        post.status = "partially_published"
    elif states:
        post.status = "failed"
    post.updated_at = utcnow()
    session.add(post)
    return post


class CalendarItem(BaseModel):
    """One scheduled or published publish in the calendar."""

    post_id: str
    platform: str
    account_id: str
    at: datetime
    status: str
    text: str


def calendar(session: Session, *, workspace_id: str, start: datetime, end: datetime) -> list[CalendarItem]:
    """Every publish due or done in a window, in time order."""
    rows = session.exec(
        select(OutboxEntry)
        .where(
            OutboxEntry.workspace_id == workspace_id,
            col(OutboxEntry.due_at) >= start,
            col(OutboxEntry.due_at) < end,
            OutboxEntry.status != "cancelled",
        )
        .order_by(col(OutboxEntry.due_at))
    ).all()
    return [
        CalendarItem(
            post_id=r.post_id,
            platform=r.platform,
            account_id=r.account_id,
            at=as_utc(r.published_at or r.due_at) or r.due_at,
            status=r.status,
            text=str(r.payload.get("text", "")),
        )
        for r in rows
    ]


def published_count(session: Session, *, account_id: str, since: datetime) -> int:
    """Posts an account published (or is publishing) since a time: the daily quota counter."""
    return int(
        session.exec(
            select(func.count())
            .select_from(OutboxEntry)
            .where(
                OutboxEntry.account_id == account_id,
                col(OutboxEntry.status).in_(["published", "publishing", "unknown"]),
                col(OutboxEntry.published_at).is_(None) | (col(OutboxEntry.published_at) >= since),
                col(OutboxEntry.updated_at) >= since,
            )
        ).one()
    )
