"""Tools over the unified inbox: read threads, save reply drafts (never sent without approval)."""

from __future__ import annotations

from typing import Any

from brandcrew.services import inbox
from brandcrew.tools.builtin._session import session_for
from brandcrew.tools.context import ToolContext
from brandcrew.tools.decorator import tool


@tool(untrusted_output=True)
def inbox_threads(ctx: ToolContext, status: str = "open", limit: int = 10) -> list[dict[str, Any]]:
    """Open conversations (DMs, comments, mentions) with their last messages, most recent first."""
    with session_for(ctx) as session:
        threads = inbox.list_threads(session, workspace_id=ctx.workspace_id, status=status, limit=limit)
    return [t.model_dump(mode="json") for t in threads]


@tool(scopes=["write"], effect="write")
def draft_reply(ctx: ToolContext, conversation_id: str, text: str) -> dict[str, Any]:
    """Save a reply draft to a conversation for a person to approve and send."""
    with session_for(ctx) as session:
        draft = inbox.save_reply_draft(
            session, workspace_id=ctx.workspace_id, conversation_id=conversation_id, text=text
        )
        return {"draft_id": draft.id, "conversation_id": conversation_id, "status": "awaiting approval"}
