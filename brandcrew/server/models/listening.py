"""Wire models of the listening API: queries, mentions, sentiment, trends, alert rules and alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AnyHttpUrl, Field, field_validator

from brandcrew.server.schemas import ApiModel

Platform = Literal[
    "instagram",
    "facebook",
    "x",
    "twitter",
    "linkedin",
    "tiktok",
    "youtube",
    "pinterest",
    "threads",
    "reddit",
    "sandbox",
]
Sentiment = Literal["positive", "neutral", "negative"]


def to_utc(value: datetime) -> datetime:
    """An ISO 8601 time as aware UTC (a time without an offset is taken as UTC); years 1970-2200."""
    if not 1970 <= value.year <= 2200:
        raise ValueError("dates must fall between the years 1970 and 2200")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(to_utc)]


def platform_name(value: str | None) -> str | None:
    """brandcrew's name of a platform (the seed's `twitter` is `x`)."""
    return "x" if value == "twitter" else value


Term = Annotated[str, Field(min_length=1, max_length=200)]


class QueryIn(ApiModel):
    """A listening query to save (the seed's request, plus `isActive`)."""

    name: str = Field(min_length=1, max_length=255)
    keywords: list[Term] = Field(default_factory=list, max_length=50)
    boolean_query: str | None = Field(default=None, max_length=2000)
    platforms: list[Platform] = Field(default_factory=list, max_length=11)
    languages: list[Annotated[str, Field(min_length=2, max_length=12)]] = Field(
        default_factory=list, max_length=20
    )
    locations: list[str] = Field(default_factory=list, max_length=0)
    """Not supported: the connectors give mentions no location to filter on (must be empty)."""
    exclude_keywords: list[Term] = Field(default_factory=list, max_length=50)
    sentiment_filter: Sentiment | None = None
    is_active: bool = True


class QueryUpdate(ApiModel):
    """Fields of a query to change; the ones left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    keywords: list[Term] | None = Field(default=None, max_length=50)
    boolean_query: str | None = Field(default=None, max_length=2000)
    platforms: list[Platform] | None = Field(default=None, max_length=11)
    languages: list[Annotated[str, Field(min_length=2, max_length=12)]] | None = Field(
        default=None, max_length=20
    )
    exclude_keywords: list[Term] | None = Field(default=None, max_length=50)
    sentiment_filter: Sentiment | None = None
    is_active: bool | None = None


class QueryPublic(ApiModel):
    """A saved listening query."""

    id: str
    name: str
    keywords: list[str]
    boolean_query: str
    platforms: list[str]
    languages: list[str]
    exclude_keywords: list[str]
    sentiment_filter: str | None
    is_active: bool
    last_polled_at: datetime | None
    created_at: datetime


class QueryOut(ApiModel):
    """`{query}` as the seed answers."""

    query: QueryPublic


class QueryList(ApiModel):
    """A page of queries."""

    queries: list[QueryPublic]
    total: int
    page: int
    limit: int


class MentionAuthor(ApiModel):
    """Who wrote a mention."""

    id: str
    username: str
    name: str
    avatar: str | None = None
    followers: int


class MentionPublic(ApiModel):
    """A mention as the seed shows it."""

    id: str
    query_id: str | None
    platform: str
    author: MentionAuthor
    content: str
    url: str | None
    sentiment: str | None
    sentiment_score: float | None
    reach: int
    engagement: int
    language: str | None
    location: str | None
    is_influencer: bool
    tags: list[str]
    created_at: datetime
    fetched_at: datetime


class SentimentBreakdown(ApiModel):
    """Counts by sentiment label."""

    positive: int
    neutral: int
    negative: int


class MentionsOut(ApiModel):
    """A page of mentions, the total, and their sentiment counts."""

    mentions: list[MentionPublic]
    total: int
    page: int
    limit: int
    sentiment_breakdown: SentimentBreakdown


class SentimentOverall(ApiModel):
    """Mean sentiment of the window."""

    score: float
    sentiment: str
    volume: int


class SentimentPointOut(ApiModel):
    """One time bucket."""

    timestamp: datetime
    score: float
    volume: int


class TopicSentimentOut(ApiModel):
    """One topic."""

    topic: str
    sentiment: float
    volume: int


class SentimentOut(ApiModel):
    """Sentiment overall, over time and by topic."""

    overall: SentimentOverall
    timeline: list[SentimentPointOut]
    topics: list[TopicSentimentOut]


class TrendOut(ApiModel):
    """A trending topic."""

    id: str
    topic: str
    hashtag: str | None
    volume: int
    growth_rate: float
    sentiment: float
    related_topics: list[str]
    platforms: list[str]
    reason: str


class TrendsOut(ApiModel):
    """Trending topics, strongest growth first."""

    trends: list[TrendOut]
    window_hours: int
    as_of: datetime


class ConditionIn(ApiModel):
    """One alert condition."""

    type: Literal["volume_spike", "sentiment_drop", "keyword_match", "influencer_mention", "crisis"]
    threshold: float | None = Field(default=None, ge=0, le=1e10)
    keywords: list[Term] = Field(default_factory=list, max_length=50)


class EmailServerIn(ApiModel):
    """The SMTP server that sends a rule's emails."""

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3, max_length=255)
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024)
    starttls: bool = True
    use_tls: bool = False


class SmsGatewayIn(ApiModel):
    """The Twilio-style API that sends a rule's text messages."""

    account_sid: str = Field(min_length=1, max_length=255)
    auth_token: str = Field(min_length=1, max_length=1024)
    sender: str = Field(min_length=3, max_length=32)
    base_url: AnyHttpUrl | None = None


Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=255)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{6,20}$")]


class NotificationsIn(ApiModel):
    """Who hears a rule's alerts (the seed's shape, plus the servers email and SMS are sent through)."""

    email: list[Email] = Field(default_factory=list, max_length=50)
    sms: list[Phone] = Field(default_factory=list, max_length=20)
    slack: AnyHttpUrl | None = None
    webhook: AnyHttpUrl | None = None
    webhook_secret: str | None = Field(default=None, min_length=8, max_length=255)
    email_server: EmailServerIn | None = None
    email_people: bool = False
    """Also email the people an approval notice is for: each step's approvers, then the requester."""
    sms_gateway: SmsGatewayIn | None = None


class AlertRuleIn(ApiModel):
    """An alert rule on a query (one per query; posting again replaces it)."""

    name: str = Field(min_length=1, max_length=200)
    query_id: str = Field(min_length=1, max_length=64)
    conditions: list[ConditionIn] = Field(min_length=1, max_length=10)
    notifications: NotificationsIn = Field(default_factory=NotificationsIn)
    is_active: bool = True


class ConditionOut(ApiModel):
    """A stored condition."""

    type: str
    threshold: float | None
    keywords: list[str]


class AlertRulePublic(ApiModel):
    """A stored alert rule (secrets left out)."""

    id: str
    query_id: str
    name: str
    conditions: list[ConditionOut]
    notifications: dict[str, Any]
    is_active: bool
    channel_ids: list[str]
    created_at: datetime
    updated_at: datetime


class AlertRuleOut(ApiModel):
    """`{alert}` as the seed answers."""

    alert: AlertRulePublic


class AlertRulesOut(ApiModel):
    """The workspace's alert rules."""

    rules: list[AlertRulePublic]


class AlertPublic(ApiModel):
    """An alert that fired."""

    id: str
    query_id: str | None
    kind: str
    severity: str
    status: str
    reason: str
    details: dict[str, Any]
    window_start: datetime | None
    window_end: datetime | None
    paused_publishing: bool
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime


class AlertsOut(ApiModel):
    """Alerts, newest first."""

    alerts: list[AlertPublic]


class AlertActionOut(ApiModel):
    """An alert after a person acted on it, and whether the brand's publishing is still paused."""

    alert: AlertPublic
    publishing_paused_reason: str | None


class AcknowledgeIn(ApiModel):
    """Acknowledge an alert; `keepPaused` keeps the brand's publishing paused."""

    keep_paused: bool = False


class ResolveIn(ApiModel):
    """Resolve an alert, with what was done about it."""

    note: str | None = Field(default=None, max_length=2000)

    @field_validator("note")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None
