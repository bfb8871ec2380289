"""Wire models of the AI API (`/api/ai`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from brandcrew.connectors.capabilities import Platform
from brandcrew.server.schemas import ApiModel

Keyword = Annotated[str, Field(min_length=1, max_length=100)]
Goal = Literal["engagement", "reach", "conversions"]
_ENGAGEMENT: Goal = "engagement"
VoiceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class GenerateContext(ApiModel):
    """What the posts are about and for whom."""

    topic: str | None = Field(default=None, max_length=1000)
    tone: Literal["professional", "casual", "friendly", "formal", "humorous"] | None = None
    platforms: list[Platform] = Field(min_length=1, max_length=10)
    target_audience: str | None = Field(default=None, max_length=1000)
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)


class GenerateIn(ApiModel):
    """Draft posts (the seed's `POST /api/ai/generate`); needs a prompt or a topic."""

    prompt: str | None = Field(default=None, min_length=1, max_length=4000)
    context: GenerateContext
    variations: int = Field(default=3, ge=1, le=5)
    brand_voice_id: VoiceId | None = None


class GeneratedContent(ApiModel):
    """A drafted post's content."""

    text: str
    hashtags: list[str]
    thread: list[str]


class VariationOut(ApiModel):
    """One drafted post for one platform, scored."""

    id: str
    platform: str
    content: GeneratedContent
    score: float
    scored_by: str
    """`brand_voice` (trained profile) or `checks` (platform rules and risk flags passed)."""
    reasoning: str
    violations: list[str]
    risk_flags: list[str]


class Usage(ApiModel):
    """What a call cost, from the ledger rows of its run."""

    cost: Decimal
    """USD."""
    tokens_used: int
    run_id: str


class GenerateOut(Usage):
    """The drafted variations and their cost."""

    variations: list[VariationOut]


class OptimizeIn(ApiModel):
    """A post to improve for some goals on one platform."""

    content: str = Field(min_length=1, max_length=10_000)
    platform: Platform
    optimization_goals: list[Goal] = Field(default_factory=lambda: [_ENGAGEMENT], min_length=1, max_length=3)


class SuggestionOut(ApiModel):
    """One change and why."""

    type: str
    original: str
    suggested: str
    reasoning: str


class PredictedPerformance(ApiModel):
    """What the account's own history on the platform predicts (zeros without history)."""

    engagement_rate: float
    reach_estimate: int
    based_on_posts: int


class OptimizeOut(Usage):
    """The improved post, the changes, and the prediction."""

    optimized_content: str
    suggestions: list[SuggestionOut]
    predicted_performance: PredictedPerformance


class HashtagsIn(ApiModel):
    """A post to find hashtags for."""

    content: str = Field(min_length=1, max_length=10_000)
    platform: Platform
    count: int = Field(default=30, ge=1, le=50)


class HashtagOut(ApiModel):
    """A hashtag, rated by the brand's own published posts."""

    tag: str
    category: str
    competition: str
    relevance_score: float
    estimated_reach: int
    used_in_posts: int


class HashtagsOut(Usage):
    """Suggested hashtags."""

    hashtags: list[HashtagOut]


class TrainExample(ApiModel):
    """A post marked on-brand or off-brand."""

    content: str = Field(min_length=1, max_length=10_000)
    platform: Platform | None = None
    is_good_example: bool


class TrainIn(ApiModel):
    """Examples and guidelines to learn the brand voice from (at least two good examples)."""

    brand_voice_id: VoiceId | None = None
    examples: list[TrainExample] = Field(min_length=2, max_length=500)
    guidelines: str = Field(default="", max_length=20_000)


class BrandVoiceOut(ApiModel):
    """What the trained voice learned."""

    id: str
    tone: list[str]
    vocabulary: list[str]
    banned_phrases: list[str]
    brand_hashtags: list[str]
    emoji_per_post: float
    hashtags_per_post: float
    threshold: float
    examples: dict[str, int]
    embedder: str


class TrainOut(ApiModel):
    """The trained brand voice (agents' drafts are checked against it from now on)."""

    brand_voice: BrandVoiceOut
    training_status: Literal["completed", "processing"]
