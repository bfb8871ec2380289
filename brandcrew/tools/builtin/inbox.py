"""Tools over the unified inbox: read threads, save reply drafts, and send replies where the run's
policy grants the `reply` scope."""

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


@tool(scopes=["reply"], effect="write")
async def send_reply(ctx: ToolContext, conversation_id: str, text: str) -> dict[str, Any]:
    """Send a reply to a conversation now (needs the `reply` scope; waits for a person unless the run's
    policy allows auto-replies, and always when the text repeats what outsiders wrote)."""
    outcome = await inbox.send_reply(
        ctx.services.engine,
        ctx.services.accounts,
        workspace_id=ctx.workspace_id,
        conversation_id=conversation_id,
        text=text,
    )
    if outcome.approval_id:
        return {"status": "held for the workspace's reply workflow", "approval_id": outcome.approval_id}
    return {"status": outcome.message.direction, "message_id": outcome.message.id}
