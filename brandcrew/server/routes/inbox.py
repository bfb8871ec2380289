"""The unified inbox: conversations, messages, replies, assignment, status, saved replies, sync."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.models.inbox import (
    AssignIn,
    ConversationDetail,
    ConversationOut,
    ConversationPublic,
    ConversationsOut,
    MessagePublic,
    ParticipantOut,
    Priority,
    ReplyIn,
    ReplyOut,
    Status,
    StatusIn,
    SyncOut,
    TemplateIn,
    TemplateOut,
    TemplatePublic,
    TemplatesOut,
)
from brandcrew.server.models.listening import Platform, platform_name
from brandcrew.server.permissions import Permission
from brandcrew.services import inbox, saved_replies

router = APIRouter(prefix="/api/inbox", tags=["inbox"])
View = [require(Permission.INBOX_VIEW)]
Page = Annotated[int, Query(ge=1, le=10_000)]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("/conversations", response_model=ConversationsOut, dependencies=View)
def list_conversations(
    principal: PrincipalDep,
    session: SessionDep,
    status: Status | None = None,
    priority: Priority | None = None,
    sentiment: Literal["positive", "neutral", "negative"] | None = None,
    assigned_to: Annotated[str | None, Query(alias="assignedTo", min_length=1, max_length=64)] = None,
    platform: Platform | None = None,
    unread_only: Annotated[bool, Query(alias="unreadOnly")] = False,
    page: Page = 1,
    limit: Limit = 50,
) -> ConversationsOut:
    """Conversations, most recent message first."""
    result = inbox.list_conversations(
        session,
        workspace_id=principal.workspace_id,
        status=status,
        priority=priority,
        sentiment=sentiment,
        assigned_to=assigned_to,
        platform=platform_name(platform),
        unread_only=unread_only,
        offset=(page - 1) * limit,
        limit=limit,
    )
    return ConversationsOut(
        conversations=[ConversationPublic.model_validate(c) for c in result.conversations],
        total=result.total,
        unread_count=result.unread_count,
        page=page,
        limit=limit,
    )


@router.get("/messages/{conversation_id}", response_model=ConversationDetail, dependencies=View)
def get_messages(conversation_id: str, principal: PrincipalDep, session: SessionDep) -> ConversationDetail:
    """A conversation with its messages and participant; opening it marks it read."""
    view = inbox.open_conversation(
        session, workspace_id=principal.workspace_id, conversation_id=conversation_id
    )
    session.commit()
    return ConversationDetail(
        conversation=ConversationPublic.model_validate(view.conversation),
        messages=[MessagePublic.model_validate(m) for m in view.messages],
        participant=ParticipantOut.model_validate(view.participant, from_attributes=True),
    )


@router.post(
    "/messages/{conversation_id}/reply",
    response_model=ReplyOut,
    status_code=201,
    dependencies=[require(Permission.INBOX_REPLY)],
    responses={202: {"model": ReplyOut, "description": "held for approval by the reply workflow"}},
)
async def reply(
    conversation_id: str, body: ReplyIn, principal: PrincipalDep, services: ServicesDep, response: Response
) -> ReplyOut:
    """Reply as the conversation's account (sent now, or held for approval under a reply workflow)."""
    outcome = await inbox.send_reply(
        services.engine,
        services.accounts,
        workspace_id=principal.workspace_id,
        conversation_id=conversation_id,
        text=body.content,
        template_id=body.template_id,
        variables=body.variables,
        is_private=body.is_private,
        user_id=principal.user_id,
    )
    if outcome.approval_id is not None:
        response.status_code = 202
    return ReplyOut(
        message=MessagePublic.model_validate(outcome.message),
        conversation=ConversationPublic.model_validate(outcome.conversation),
        approval_id=outcome.approval_id,
    )


@router.put(
    "/conversations/{conversation_id}/assign",
    response_model=ConversationOut,
    dependencies=[require(Permission.INBOX_ASSIGN)],
)
def assign(
    conversation_id: str, body: AssignIn, principal: PrincipalDep, session: SessionDep
) -> ConversationOut:
    """Give a conversation to a member of the workspace."""
    conversation = inbox.assign_conversation(
        session,
        workspace_id=principal.workspace_id,
        conversation_id=conversation_id,
        assigned_to=body.assigned_to,
        note=body.note,
        user_id=principal.user_id,
    )
    session.commit()
    return ConversationOut(conversation=ConversationPublic.model_validate(conversation))


@router.put(
    "/conversations/{conversation_id}/status",
    response_model=ConversationOut,
    dependencies=[require(Permission.INBOX_REPLY)],
)
def set_status(
    conversation_id: str, body: StatusIn, principal: PrincipalDep, session: SessionDep
) -> ConversationOut:
    """Change a conversation's status (open, pending, resolved, archived) and/or priority."""
    conversation = inbox.set_conversation_status(
        session,
        workspace_id=principal.workspace_id,
        conversation_id=conversation_id,
        status=body.status,
        priority=body.priority,
        user_id=principal.user_id,
    )
    session.commit()
    return ConversationOut(conversation=ConversationPublic.model_validate(conversation))


@router.post(
    "/templates", response_model=TemplateOut, status_code=201, dependencies=[require(Permission.INBOX_REPLY)]
)
def create_template(body: TemplateIn, principal: PrincipalDep, session: SessionDep) -> TemplateOut:
    """Save a reply template; `{{name}}` and `{{platform}}` are filled from the conversation."""
    row = saved_replies.create_saved_reply(
        session,
        workspace_id=principal.workspace_id,
        name=body.name,
        content=body.content,
        category=body.category,
        variables=body.variables,
        user_id=principal.user_id,
    )
    session.commit()
    return TemplateOut(template=TemplatePublic.model_validate(row))


@router.get("/templates", response_model=TemplatesOut, dependencies=View)
def list_templates(
    principal: PrincipalDep,
    session: SessionDep,
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    page: Page = 1,
    limit: Limit = 50,
) -> TemplatesOut:
    """The workspace's saved replies, by name."""
    rows, total = saved_replies.list_saved_replies(
        session,
        workspace_id=principal.workspace_id,
        category=category,
        offset=(page - 1) * limit,
        limit=limit,
    )
    return TemplatesOut(
        templates=[TemplatePublic.model_validate(r) for r in rows], total=total, page=page, limit=limit
    )


@router.post("/sync", response_model=SyncOut, dependencies=[require(Permission.INBOX_REPLY)])
async def sync(principal: PrincipalDep, services: ServicesDep) -> SyncOut:
    """Pull the connected accounts' new DMs and comments into the inbox now."""
    report = await inbox.sync_inbox(services.engine, services.accounts, workspace_id=principal.workspace_id)
    return SyncOut.model_validate(report, from_attributes=True)


__all__ = ["router"]
