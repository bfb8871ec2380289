"""The unified inbox: conversations, messages, replies, assignment, status, saved replies, sync."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as Path_
from fastapi.responses import PlainTextResponse

from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.errors import ApiError
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
from brandcrew.server.models.inbox_rules import (
    InboxSettingsIn,
    InboxSettingsOut,
    RuleConditionsIn,
    RuleIn,
    RuleOut,
    RulePatch,
    RulePublic,
    RulesOut,
    WebhookOut,
)
from brandcrew.server.models.listening import Platform, platform_name
from brandcrew.server.permissions import Permission
from brandcrew.services import inbox, inbox_rules, saved_replies
from brandcrew.store.tables import InboxRule

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
    sla_breached: Annotated[bool | None, Query(alias="slaBreached")] = None,
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
        sla_breached=sla_breached,
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


# -- routing rules, settings, webhooks ---------------------------------------------------------------

Assign = [require(Permission.INBOX_ASSIGN)]
RuleId = Annotated[str, Path_(min_length=1, max_length=64)]


def _rule_out(rule: InboxRule) -> RulePublic:
    return RulePublic.model_validate(rule)


def _conditions(body: RuleConditionsIn) -> inbox_rules.RuleConditions:
    data = body.model_dump()
    data["platforms"] = sorted({platform_name(p) or p for p in body.platforms})
    return inbox_rules.RuleConditions.model_validate(data)


@router.get("/rules", response_model=RulesOut, dependencies=View)
def list_rules(principal: PrincipalDep, session: SessionDep) -> RulesOut:
    """The workspace's routing rules in the order they are tried."""
    rows = inbox_rules.list_rules(session, workspace_id=principal.workspace_id)
    return RulesOut(rules=[_rule_out(r) for r in rows], total=len(rows))


@router.post("/rules", response_model=RuleOut, status_code=201, dependencies=Assign)
def create_rule(body: RuleIn, principal: PrincipalDep, session: SessionDep) -> RuleOut:
    """Add a routing rule, applied to every new inbound message."""
    rule = inbox_rules.create_rule(
        session,
        workspace_id=principal.workspace_id,
        name=body.name,
        conditions=_conditions(body.conditions),
        actions=inbox_rules.RuleActions.model_validate(body.actions.model_dump()),
        position=body.position,
        stop=body.stop,
        is_active=body.is_active,
        user_id=principal.user_id,
    )
    session.commit()
    return RuleOut(rule=_rule_out(rule))


@router.put("/rules/{rule_id}", response_model=RuleOut, dependencies=Assign)
def update_rule(rule_id: RuleId, body: RulePatch, principal: PrincipalDep, session: SessionDep) -> RuleOut:
    """Change a routing rule."""
    rule = inbox_rules.update_rule(
        session,
        workspace_id=principal.workspace_id,
        rule_id=rule_id,
        name=body.name,
        conditions=_conditions(body.conditions) if body.conditions is not None else None,
        actions=inbox_rules.RuleActions.model_validate(body.actions.model_dump())
        if body.actions is not None
        else None,
        position=body.position,
        stop=body.stop,
        is_active=body.is_active,
        user_id=principal.user_id,
    )
    session.commit()
    return RuleOut(rule=_rule_out(rule))


@router.delete("/rules/{rule_id}", status_code=204, response_class=Response, dependencies=Assign)
def delete_rule(rule_id: RuleId, principal: PrincipalDep, session: SessionDep) -> Response:
    """Remove a routing rule."""
    inbox_rules.delete_rule(
        session, workspace_id=principal.workspace_id, rule_id=rule_id, user_id=principal.user_id
    )
    session.commit()
    return Response(status_code=204)


@router.get("/settings", response_model=InboxSettingsOut, dependencies=View)
def get_settings(principal: PrincipalDep, session: SessionDep) -> InboxSettingsOut:
    """SLA minutes by priority, VIP authors, auto-replied intents, whether the webhook is set up."""
    return InboxSettingsOut.model_validate(inbox_rules.inbox_settings(session, principal.workspace_id))


@router.put("/settings", response_model=InboxSettingsOut, dependencies=Assign)
def put_settings(
    body: InboxSettingsIn, principal: PrincipalDep, session: SessionDep, services: ServicesDep
) -> InboxSettingsOut:
    """Change the SLA defaults, VIPs, auto-replied intents, or the Meta webhook secrets (write-only;
    they also need `settings:update`)."""
    if body.webhook_app_secret is not None and body.webhook_verify_token is not None:
        if not principal.can(Permission.SETTINGS_UPDATE):
            raise ApiError(
                403, "FORBIDDEN", "setting the webhook secrets needs the permission 'settings:update'"
            )
        inbox_rules.set_webhook_secrets(
            session,
            services.accounts.cipher,
            workspace_id=principal.workspace_id,
            app_secret=body.webhook_app_secret,
            verify_token=body.webhook_verify_token,
            user_id=principal.user_id,
        )
    settings = inbox_rules.update_inbox_settings(
        session,
        workspace_id=principal.workspace_id,
        sla_minutes={str(k): v for k, v in body.sla_minutes.items()}
        if body.sla_minutes is not None
        else None,
        vip_authors=body.vip_authors,
        vip_min_followers=body.vip_min_followers,
        auto_replies={str(k): v for k, v in body.auto_replies.items()}
        if body.auto_replies is not None
        else None,
        user_id=principal.user_id,
    )
    session.commit()
    return InboxSettingsOut.model_validate(settings)


WorkspaceParam = Annotated[str, Query(alias="workspace", min_length=1, max_length=64)]


def _webhook_routes(platform: str) -> None:
    """The Meta webhook of one platform: the GET subscription handshake and the POST of events.

    Not signed in: the handshake proves itself with the workspace's verify token, an event with the
    `X-Hub-Signature-256` HMAC of its raw body under the workspace's app secret."""

    @router.get(
        f"/webhooks/{platform}",
        response_class=PlainTextResponse,
        name=f"{platform}_webhook_handshake",
        responses={403: {"description": "the verify token does not match"}},
    )
    def handshake(
        workspace_id: WorkspaceParam,
        session: SessionDep,
        services: ServicesDep,
        mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
        token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
    ) -> PlainTextResponse:
        """Meta's subscription handshake: the challenge back when the verify token is the workspace's."""
        answer = inbox_rules.verify_subscription(
            session,
            services.accounts.cipher,
            workspace_id=workspace_id,
            mode=mode,
            verify_token=token,
            challenge=challenge,
        )
        return PlainTextResponse(answer)

    @router.post(
        f"/webhooks/{platform}",
        response_model=WebhookOut,
        name=f"{platform}_webhook_events",
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "the platform's event JSON, signed in X-Hub-Signature-256",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
        responses={401: {"description": "missing or wrong X-Hub-Signature-256"}},
    )
    async def events(
        workspace_id: WorkspaceParam,
        request: Request,
        services: ServicesDep,
        signature: Annotated[str | None, Header(alias="X-Hub-Signature-256", max_length=200)] = None,
    ) -> WebhookOut:
        """DMs and comments pushed by the platform, stored like a sync (routing applies, replays skipped)."""
        report = await inbox_rules.receive_webhook(
            services.engine,
            services.accounts,
            workspace_id=workspace_id,
            platform=platform,
            body=await request.body(),
            signature=signature,
        )
        return WebhookOut.model_validate(report, from_attributes=True)


for _platform in inbox_rules.META_PLATFORMS:
    _webhook_routes(_platform)


__all__ = ["router"]
