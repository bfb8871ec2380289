"""The workspace's influencer list: save a discovered author, edit notes and tags, remove."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlmodel import Session, func, select

from brandcrew.memory.embedders import Embedder
from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict
from brandcrew.services.influencers.discovery import find_candidate, tier_of
from brandcrew.store.tables import Collaboration, Influencer, utcnow

_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
Tag = Field(min_length=1, max_length=64)


def _clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if tag and tag not in out:
            out.append(tag)
    return out


class InfluencerSave(BaseModel):
    """An author to save to the list; discovery fills what is not given from their mentions."""

    model_config = _CONFIG

    platform: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_]+$")
    username: str = Field(min_length=1, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)
    followers: int | None = Field(default=None, ge=0, le=10_000_000_000)
    notes: str = Field(default="", max_length=10_000)
    tags: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("username")
    @classmethod
    def _handle(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not value:
            raise ValueError("username is empty")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if any(len(t.strip()) == 0 or len(t) > 64 for t in value):
            raise ValueError("tags are 1 to 64 characters")
        return _clean_tags(value)


class InfluencerChanges(BaseModel):
    """Fields of a saved influencer a person may change."""

    model_config = _CONFIG

    display_name: str | None = Field(default=None, max_length=255)
    notes: str | None = Field(default=None, max_length=10_000)
    tags: list[str] | None = Field(default=None, max_length=50)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if any(len(t.strip()) == 0 or len(t) > 64 for t in value):
            raise ValueError("tags are 1 to 64 characters")
        return _clean_tags(value)


def save_influencer(
    session: Session,
    *,
    workspace_id: str,
    data: InfluencerSave,
    user_id: str | None = None,
    actor: str = "user",
    embedder: Embedder | None = None,
) -> Influencer:
    """Save an author to the workspace's list with their discovery analysis; 409 when already saved."""
    existing = session.exec(
        select(Influencer).where(
            Influencer.workspace_id == workspace_id,
            Influencer.platform == data.platform,
            func.lower(Influencer.username) == data.username.lower(),
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"{data.platform} user @{data.username} is already on the list",
            details={"influencerId": existing.id},
        )
    found = find_candidate(
        session, workspace_id=workspace_id, platform=data.platform, username=data.username, embedder=embedder
    )
    followers = data.followers if data.followers is not None else (found.followers if found else 0)
    row = Influencer(
        workspace_id=workspace_id,
        platform=data.platform,
        username=found.username if found else data.username,
        platform_user_id=found.author_id if found else "",
        display_name=data.display_name or (found.display_name if found else ""),
        followers=followers,
        tier=tier_of(followers),
        score=found.score if found else None,
        analysis=found.model_dump(mode="json", by_alias=True, exclude={"saved_influencer_id"})
        if found
        else {},
        notes=data.notes,
        tags=data.tags,
        created_by=user_id,
    )
    session.add(row)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="influencer.save",
        resource="influencer",
        resource_id=row.id,
        changes={"platform": row.platform, "username": row.username, "score": row.score, "tags": row.tags},
    )
    session.flush()
    return row


def get_influencer(session: Session, *, workspace_id: str, influencer_id: str) -> Influencer:
    """A saved influencer of this workspace, or NotFound (also for other workspaces' ids)."""
    return get_owned(session, Influencer, influencer_id, workspace_id=workspace_id, label="influencer")


def list_influencers(
    session: Session,
    *,
    workspace_id: str,
    platform: str | None = None,
    tag: str | None = None,
    tier: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Influencer], int]:
    """The workspace's saved influencers, best score first, and how many match in all."""
    stmt = select(Influencer).where(Influencer.workspace_id == workspace_id)
    if platform:
        stmt = stmt.where(Influencer.platform == platform)
    if tier:
        stmt = stmt.where(Influencer.tier == tier)
    if search:
        needle = search.lower()
        stmt = stmt.where(
            func.lower(Influencer.username).contains(needle)
            | func.lower(Influencer.display_name).contains(needle)
        )
    rows = list(session.exec(stmt).all())
    if tag:
        # Tags are a JSON list; filtering them in Python keeps one query for SQLite and PostgreSQL.
        rows = [r for r in rows if tag in r.tags]
    rows.sort(key=lambda r: (-(r.score if r.score is not None else -1.0), r.username.lower()))
    return rows[offset : offset + limit], len(rows)


def analyze_influencer(
    session: Session,
    *,
    workspace_id: str,
    influencer_id: str,
    user_id: str | None = None,
    actor: str = "user",
    embedder: Embedder | None = None,
) -> Influencer:
    """Re-score a saved influencer from the workspace's current mentions (followers, tier, score,
    signals); the previous score is kept in the audit trail."""
    row = get_influencer(session, workspace_id=workspace_id, influencer_id=influencer_id)
    found = find_candidate(
        session, workspace_id=workspace_id, platform=row.platform, username=row.username, embedder=embedder
    )
    if found is None:
        return row
    before = {"score": row.score, "followers": row.followers, "flags": row.analysis.get("flags", [])}
    row.followers = found.followers
    row.tier = tier_of(found.followers)
    row.score = found.score
    row.platform_user_id = row.platform_user_id or found.author_id
    row.analysis = found.model_dump(mode="json", by_alias=True, exclude={"saved_influencer_id"})
    row.updated_at = utcnow()
    session.add(row)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="influencer.analyze",
        resource="influencer",
        resource_id=row.id,
        changes={
            "from": before,
            "to": {"score": row.score, "followers": row.followers, "flags": found.flags},
        },
    )
    return row


def update_influencer(
    session: Session,
    *,
    workspace_id: str,
    influencer_id: str,
    changes: InfluencerChanges,
    user_id: str | None = None,
    actor: str = "user",
) -> Influencer:
    """Change notes, tags or the display name of a saved influencer."""
    row = get_influencer(session, workspace_id=workspace_id, influencer_id=influencer_id)
    diff: dict[str, Any] = {}
    for name in changes.model_fields_set:
        value = getattr(changes, name)
        if value is None or value == getattr(row, name):
            continue
        diff[name] = {"from": getattr(row, name), "to": value}
        setattr(row, name, value)
    if diff:
        row.updated_at = utcnow()
        session.add(row)
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            actor=actor,
            action="influencer.update",
            resource="influencer",
            resource_id=row.id,
            changes=diff,
        )
    return row


def delete_influencer(
    session: Session,
    *,
    workspace_id: str,
    influencer_id: str,
    user_id: str | None = None,
    actor: str = "user",
) -> None:
    """Remove an influencer from the list with their prospect or declined collaborations; refused (409)
    while a collaboration went further (contacted .. completed), whose history would go with them."""
    row = get_influencer(session, workspace_id=workspace_id, influencer_id=influencer_id)
    collabs = session.exec(
        select(Collaboration).where(
            Collaboration.influencer_id == row.id, Collaboration.workspace_id == workspace_id
        )
    ).all()
    active = [c for c in collabs if c.status not in ("prospect", "declined")]
    if active:
        raise Conflict(
            f"@{row.username} has {len(active)} collaboration(s) past the prospect stage; "
            "decline them (or let them complete) and keep the record",
            details={"collaborations": [{"id": c.id, "status": c.status} for c in active]},
        )
    for c in collabs:
        session.delete(c)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="influencer.delete",
        resource="influencer",
        resource_id=row.id,
        changes={
            "platform": row.platform,
            "username": row.username,
            "collaborationsRemoved": [c.id for c in collabs],
        },
    )
    session.delete(row)
