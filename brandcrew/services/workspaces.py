"""Workspaces and their brand profiles; connecting a sandbox world's accounts to a workspace."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from brandcrew.connectors.base import TokenSet
from brandcrew.services import audit
from brandcrew.services.accounts import AccountsService
from brandcrew.services.brand import BrandProfile
from brandcrew.services.errors import NotFound
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import SocialAccount, Workspace, utcnow

if TYPE_CHECKING:
    from brandcrew.connectors.sandbox import SandboxWorld


def slugify(name: str) -> str:
    """A URL-safe slug from a name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "workspace"


def ensure_workspace(session: Session, profile: BrandProfile) -> Workspace:
    """The workspace of a brand profile (created on first use); its branding follows the profile."""
    workspace = session.get(Workspace, profile.workspace_id)
    if workspace is None:
        workspace = Workspace(id=profile.workspace_id, name=profile.name, slug=slugify(profile.workspace_id))
        session.add(workspace)
        audit.record(
            session,
            workspace_id=workspace.id,
            actor="system",
            action="create",
            resource="workspace",
            resource_id=workspace.id,
        )
    workspace.name = profile.name
    workspace.branding = profile.model_dump(mode="json")
    workspace.updated_at = utcnow()
    session.add(workspace)
    session.flush()
    return workspace


def get_workspace(session: Session, workspace_id: str) -> Workspace:
    """A workspace, or NotFound."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


def brand_of(session: Session, workspace_id: str) -> BrandProfile:
    """The workspace's brand profile (a minimal one when none was set)."""
    workspace = get_workspace(session, workspace_id)
    if workspace.branding:
        return BrandProfile.model_validate(workspace.branding)
    return BrandProfile(workspace_id=workspace.id, name=workspace.name)


def set_publishing_pause(
    session: Session,
    *,
    workspace_id: str,
    reason: str | None,
    user_id: str | None = None,
    actor: str = "user",
) -> Workspace:
    """Pause (reason) or resume (None) all publishing of a brand."""
    workspace = get_workspace(session, workspace_id)
    workspace.publishing_paused_reason = reason
    workspace.updated_at = utcnow()
    session.add(workspace)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        actor=actor,
        action="pause_publishing" if reason else "resume_publishing",
        resource="workspace",
        resource_id=workspace_id,
        changes={"reason": reason},
    )
    return workspace


def competitors(session: Session, workspace_id: str) -> list[dict[str, Any]]:
    """The competitor accounts a workspace tracks: [{platform, username}]."""
    return list(get_workspace(session, workspace_id).settings.get("competitors", []))


def connect_sandbox_world(
    session: Session, accounts: AccountsService, *, workspace_id: str, world: SandboxWorld
) -> list[SocialAccount]:
    """Connect the world's own accounts to the workspace and track its competitors."""
    connected = []
    for own in world.own_accounts():
        connected.append(
            accounts.connect(
                session,
                workspace_id=workspace_id,
                platform=own.platform,
                platform_account_id=own.platform_account_id,
                username=own.username,
                display_name=own.display_name,
                tokens=TokenSet(
                    access_token=own.access_token or "",
                    refresh_token=own.refresh_token,
                    expires_at=own.token_expiry,
                ),
                extra={**own.extra, "audience_profile": own.audience_profile},
                user_id=None,
            )
        )
    workspace = get_workspace(session, workspace_id)
    workspace.settings = {
        **workspace.settings,
        "competitors": [{"platform": c.platform, "username": c.username} for c in world.competitors()],
        "sandbox_world": world.id,
    }
    session.add(workspace)
    session.flush()
    return connected


def connect_sandbox(
    engine: Engine,
    accounts: AccountsService,
    *,
    workspace_id: str,
    platforms: Sequence[str] = ("x", "linkedin", "instagram"),
    speed: float = 1.0,
) -> list[SocialAccount]:
    """Create (or reuse) the workspace's sandbox world and connect its accounts, so every flow works
    without credentials; the world is seeded by the workspace id, so calling again changes nothing.

    Runs its own transactions (the world is created in one, the accounts connected in another): pass
    no session that already holds SQLite's write lock.
    """
    from brandcrew.connectors.sandbox import SandboxWorld

    with Session(engine) as session:
        brand = brand_of(session, workspace_id)
    world = SandboxWorld.create(
        engine, seed=workspace_id, brand=brand.model_dump(), platforms=tuple(platforms), speed=speed
    )
    with session_scope(engine) as session:
        connected = connect_sandbox_world(session, accounts, workspace_id=workspace_id, world=world)
        audit.record(
            session,
            workspace_id=workspace_id,
            action="connect_sandbox",
            resource="workspace",
            resource_id=workspace_id,
            changes={"world": world.id, "accounts": [a.id for a in connected]},
        )
    return connected


def update_brand(
    session: Session, *, workspace_id: str, profile: BrandProfile, user_id: str | None = None
) -> Workspace:
    """Replace the workspace's brand profile (its id always stays the workspace's)."""
    workspace = get_workspace(session, workspace_id)
    profile = profile.model_copy(update={"workspace_id": workspace_id})
    before = dict(workspace.branding)
    workspace.branding = profile.model_dump(mode="json")
    workspace.updated_at = utcnow()
    session.add(workspace)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update_brand",
        resource="workspace",
        resource_id=workspace_id,
        changes={"from": before, "to": workspace.branding},
    )
    return workspace
