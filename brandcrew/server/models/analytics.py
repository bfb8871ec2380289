"""Wire models of the analytics API (`/api/analytics`)."""

from __future__ import annotations

from brandcrew.server.models.common import Utc
from brandcrew.server.models.posts import PostPublic
from brandcrew.server.schemas import ApiModel


class MetricChangeOut(ApiModel):
    """A figure now, before, and how it moved."""

    current: float
    previous: float
    change: float
    change_percent: float | None = None


class OverviewMetrics(ApiModel):
    """The headline figures of the window."""

    followers: MetricChangeOut
    engagement: MetricChangeOut
    reach: MetricChangeOut
    posts: MetricChangeOut


class TimeSeriesPoint(ApiModel):
    """One day of a chart."""

    date: str
    value: float


class PlatformData(ApiModel):
    """One platform's share of the window."""

    platform: str
    posts: int
    impressions: int
    engagements: int
    engagement_rate: float
    followers: int | None = None


class OverviewCharts(ApiModel):
    """Daily engagement, follower growth and the per-platform breakdown."""

    engagement: list[TimeSeriesPoint]
    follower_growth: list[TimeSeriesPoint]
    platform_breakdown: list[PlatformData]


class PostPerformanceOut(ApiModel):
    """A published post on one platform and its latest counters."""

    post_id: str
    platform: str
    account_id: str
    remote_id: str
    text: str
    published_at: Utc
    impressions: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int
    engagements: int
    engagement_rate: float


class OverviewOut(ApiModel):
    """The analytics dashboard of a window against its comparison window."""

    start_date: Utc
    end_date: Utc
    compare_start_date: Utc
    compare_end_date: Utc
    metrics: OverviewMetrics
    charts: OverviewCharts
    top_posts: list[PostPerformanceOut]


class PostMetrics(ApiModel):
    """A post's counters over all its platforms."""

    impressions: int
    reach: int
    engagement: int
    likes: int
    comments: int
    shares: int
    saves: int
    clicks: int


class PlatformMetrics(ApiModel):
    """A post's counters on one platform account."""

    platform: str
    account_id: str
    metrics: dict[str, float]


class TimelinePoint(ApiModel):
    """The post's totals at one metrics collection."""

    timestamp: Utc
    impressions: int
    engagement: int


class PostAnalyticsOut(ApiModel):
    """One post's analytics (the seed's `GET /api/analytics/posts/:id`)."""

    post: PostPublic
    metrics: PostMetrics
    platform_metrics: list[PlatformMetrics]
    timeline: list[TimelinePoint]


class SlotOut(ApiModel):
    """An hour of the week (the account's local time) and how its posts did."""

    weekday: int
    """0 = Monday."""
    hour: int
    posts: int
    mean_impressions: float
    mean_engagement_rate: float


class BestTimesOut(ApiModel):
    """Hours of the week ranked by the account's own results."""

    account_id: str
    utc_offset_hours: float
    slots: list[SlotOut]


class CollectOut(ApiModel):
    """How many metric points one collection stored."""

    points: int
