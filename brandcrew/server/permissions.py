"""The seed's permission system: named permissions and what each role holds.

The seed lists post, analytics, team, settings and billing permissions; brandcrew's other resources
(campaigns, listening, inbox, approvals, runs, audit, costs) follow the same pattern and the same
spirit: viewers read, editors write drafts, managers decide and publish, admins configure, owners bill.
AI spend is read with `analytics:view` (marketers watch it); changing budgets needs `billing:manage`.
Commerce: viewers read the catalog and its revenue (`commerce:view`); managers connect stores, import
catalogs and send conversion events (`commerce:manage`); tagging products on a post is a post edit.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Every permission a route may require."""

    POST_CREATE = "post:create"
    POST_READ = "post:read"
    POST_UPDATE = "post:update"
    POST_DELETE = "post:delete"
    POST_PUBLISH = "post:publish"
    ANALYTICS_VIEW = "analytics:view"
    ANALYTICS_EXPORT = "analytics:export"
    TEAM_INVITE = "team:invite"
    TEAM_MANAGE = "team:manage"
    SETTINGS_VIEW = "settings:view"
    SETTINGS_UPDATE = "settings:update"
    BILLING_VIEW = "billing:view"
    BILLING_MANAGE = "billing:manage"
    CAMPAIGN_READ = "campaign:read"
    CAMPAIGN_MANAGE = "campaign:manage"
    AI_USE = "ai:use"
    AI_TRAIN = "ai:train"
    LISTENING_VIEW = "listening:view"
    LISTENING_MANAGE = "listening:manage"
    INBOX_VIEW = "inbox:view"
    INBOX_REPLY = "inbox:reply"
    INBOX_ASSIGN = "inbox:assign"
    APPROVAL_VIEW = "approval:view"
    APPROVAL_DECIDE = "approval:decide"
    WORKFLOW_MANAGE = "workflow:manage"
    AUDIT_VIEW = "audit:view"
    RUNS_READ = "runs:read"
    RUNS_CREATE = "runs:create"
    APIKEY_MANAGE = "apikey:manage"
    INFLUENCER_VIEW = "influencer:view"
    INFLUENCER_MANAGE = "influencer:manage"
    COMMERCE_VIEW = "commerce:view"
    COMMERCE_MANAGE = "commerce:manage"


P = Permission
_VIEWER = {
    P.POST_READ,
    P.ANALYTICS_VIEW,
    P.CAMPAIGN_READ,
    P.LISTENING_VIEW,
    P.INBOX_VIEW,
    P.APPROVAL_VIEW,
    P.RUNS_READ,
    P.INFLUENCER_VIEW,
    P.COMMERCE_VIEW,
}
_EDITOR = _VIEWER | {P.POST_CREATE, P.POST_UPDATE, P.AI_USE, P.INBOX_REPLY, P.RUNS_CREATE}
_MANAGER = _EDITOR | {
    P.POST_PUBLISH,
    P.TEAM_INVITE,
    P.CAMPAIGN_MANAGE,
    P.LISTENING_MANAGE,
    P.INBOX_ASSIGN,
    P.APPROVAL_DECIDE,
    P.AI_TRAIN,
    P.INFLUENCER_MANAGE,
    P.COMMERCE_MANAGE,
}
_ADMIN = _MANAGER | {
    P.POST_DELETE,
    P.ANALYTICS_EXPORT,
    P.SETTINGS_VIEW,
    P.SETTINGS_UPDATE,
    P.WORKFLOW_MANAGE,
    P.AUDIT_VIEW,
    P.APIKEY_MANAGE,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(p.value for p in Permission),
    "admin": frozenset(p.value for p in _ADMIN),
    "manager": frozenset(p.value for p in _MANAGER),
    "editor": frozenset(p.value for p in _EDITOR),
    "viewer": frozenset(p.value for p in _VIEWER),
}


def permissions_of(role: str, extra: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    """The permissions of a role plus any granted to the user individually."""
    known = {p.value for p in Permission}
    return ROLE_PERMISSIONS.get(role, frozenset()) | {p for p in extra if p in known}
