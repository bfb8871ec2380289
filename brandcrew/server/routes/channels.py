"""The workspace's notification channels: webhook, Slack, email and SMS targets of alerts and notices."""

from __future__ import annotations

from fastapi import APIRouter, Response

from brandcrew.server.deps import PrincipalDep, ServicesDep, SessionDep, require
from brandcrew.server.models.channels import ChannelPublic, ChannelsIn, ChannelsOut
from brandcrew.server.permissions import Permission
from brandcrew.services import alerts
from brandcrew.services.alerts.rules import Notifications, add_workspace_channels

router = APIRouter(prefix="/api/notifications/channels", tags=["notifications"])
View = [require(Permission.SETTINGS_UPDATE)]
Manage = [require(Permission.SETTINGS_UPDATE)]


@router.get("", response_model=ChannelsOut, dependencies=View)
def list_channels(principal: PrincipalDep, session: SessionDep) -> ChannelsOut:
    """The workspace's active channels, those of alert rules included."""
    rows = alerts.list_channels(session, principal.workspace_id)
    return ChannelsOut(channels=[ChannelPublic.model_validate(r, from_attributes=True) for r in rows])


@router.post("", response_model=ChannelsOut, status_code=201, dependencies=Manage)
def add_channels(
    body: ChannelsIn, principal: PrincipalDep, services: ServicesDep, session: SessionDep
) -> ChannelsOut:
    """Add one channel per target for the given kinds (`approval_requested` and `approval_decided`
    carry approval notices: a channel hears them only when it names them)."""
    rows = add_workspace_channels(
        session,
        services.accounts.cipher,
        workspace_id=principal.workspace_id,
        name=body.name,
        kinds=body.kinds,
        notifications=Notifications.model_validate(body.notifications.model_dump(mode="json")),
        user_id=principal.user_id,
    )
    out = ChannelsOut(channels=[ChannelPublic.model_validate(r, from_attributes=True) for r in rows])
    session.commit()
    return out


@router.delete("/{channel_id}", status_code=204, dependencies=Manage)
def remove_channel(channel_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """Stop delivering to a channel (kept with its delivery history)."""
    alerts.remove_channel(
        session, workspace_id=principal.workspace_id, channel_id=channel_id, user_id=principal.user_id
    )
    session.commit()
    return Response(status_code=204)
