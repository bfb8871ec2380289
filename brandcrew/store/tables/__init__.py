"""Every table, imported so that SQLModel's metadata (and Alembic) sees them all."""

from brandcrew.store.tables import sandbox as _sandbox  # noqa: F401
from brandcrew.store.tables._base import as_utc, new_id, utcnow
from brandcrew.store.tables.accounts import SocialAccount
from brandcrew.store.tables.audit import AuditLog
from brandcrew.store.tables.auth import ApiKey, AuthSession
from brandcrew.store.tables.autopilot import AutopilotCycle, AutopilotRun
from brandcrew.store.tables.commerce import (
    CommerceStore,
    CommerceWebhookSecret,
    ConversionEvent,
    PostProduct,
    Product,
)
from brandcrew.store.tables.community import Conversation, Message, SavedReply
from brandcrew.store.tables.content import Campaign, MediaAsset, Post, PostVariant, PostVersion
from brandcrew.store.tables.inbox_rules import InboxRule
from brandcrew.store.tables.influencers import Collaboration, Influencer, InfluencerCampaign
from brandcrew.store.tables.listening import (
    Alert,
    AlertChannel,
    AlertDelivery,
    ListeningMatch,
    ListeningQuery,
    Mention,
)
from brandcrew.store.tables.llm import BudgetCounter, BudgetLimit, BudgetReservation, LlmCacheEntry, LlmCall
from brandcrew.store.tables.metrics import MetricPoint
from brandcrew.store.tables.publishing import OutboxEntry
from brandcrew.store.tables.runs import Run, RunAssistant, RunEvent, RunThread
from brandcrew.store.tables.tenancy import User, Workspace
from brandcrew.store.tables.untrusted import UntrustedSeen
from brandcrew.store.tables.workflows import Approval, WorkflowDefinition

__all__ = (
    "Alert",
    "AlertChannel",
    "AlertDelivery",
    "ApiKey",
    "Approval",
    "AuditLog",
    "AuthSession",
    "AutopilotCycle",
    "AutopilotRun",
    "BudgetCounter",
    "BudgetLimit",
    "BudgetReservation",
    "Campaign",
    "Collaboration",
    "CommerceStore",
    "CommerceWebhookSecret",
    "Conversation",
    "ConversionEvent",
    "InboxRule",
    "Influencer",
    "InfluencerCampaign",
    "ListeningMatch",
    "ListeningQuery",
    "LlmCacheEntry",
    "LlmCall",
    "MediaAsset",
    "Mention",
    "Message",
    "MetricPoint",
    "OutboxEntry",
    "Post",
    "PostProduct",
    "PostVariant",
    "PostVersion",
    "Product",
    "Run",
    "RunAssistant",
    "RunEvent",
    "RunThread",
    "SavedReply",
    "SocialAccount",
    "UntrustedSeen",
    "User",
    "WorkflowDefinition",
    "Workspace",
    "as_utc",
    "new_id",
    "utcnow",
)
