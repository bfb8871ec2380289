"""Helpers of the runs API tests: a sandbox world behind a workspace, and small readers."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from brandcrew.store.tables import Post

DRAFT_REQUEST = "Write an X post about our autumn Guji beans"


def connect_sandbox(app: Any, workspace_id: str) -> None:
    """Give the workspace sandbox accounts on X and LinkedIn (agents draft posts for them)."""
    from brandcrew.connectors.sandbox import SandboxWorld
    from brandcrew.services.workspaces import connect_sandbox_world

    services = app.state.services
    world = SandboxWorld.create(
        services.engine, seed=workspace_id, brand="Northwind Coffee", platforms=("x", "linkedin")
    )
    with Session(services.engine) as session:
        connect_sandbox_world(session, services.accounts, workspace_id=workspace_id, world=world)
        session.commit()


def posts_of(app: Any, workspace_id: str) -> list[Post]:
    """The workspace's posts."""
    with Session(app.state.services.engine) as session:
        return list(session.exec(select(Post).where(Post.workspace_id == workspace_id)))


def user_message(text: str) -> dict[str, Any]:
    """A run input with one user message."""
    return {"messages": [{"role": "user", "content": text}]}
