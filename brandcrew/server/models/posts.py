"""Wire models of the publishing API (`/api/posts`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from brandcrew.connectors.capabilities import Platform
from brandcrew.server.models.common import IdStr, Instant, Tag, Utc
from brandcrew.server.schemas import ApiModel

PostStatus = Literal[
    "draft",
    "pending_approval",
    "approved",
    "scheduled",
    "publishing",
    "published",
    "partially_published",
    "failed",
]


class PostContentIn(ApiModel):
    """A post's content: text, media asset ids, a link, a first comment, thread parts, a title."""

    text: str = Field(default="", max_length=20_000)
    title: str | None = Field(default=None, max_length=500)
    media: list[IdStr] = Field(default_factory=list, max_length=20)
    link: str | None = Field(default=None, max_length=2048)
    first_comment: str | None = Field(default=None, max_length=5_000)
    thread: list[str] = Field(default_factory=list, max_length=25)


class PostContentPatch(ApiModel):
    """Some fields of a post's content; the others keep their value."""

    text: str | None = Field(default=None, max_length=20_000)
    title: str | None = Field(default=None, max_length=500)
    media: list[IdStr] | None = Field(default=None, max_length=20)
    link: str | None = Field(default=None, max_length=2048)
    first_comment: str | None = Field(default=None, max_length=5_000)
    thread: list[str] | None = Field(default=None, max_length=25)

    @model_validator(mode="after")
    def _no_null_lists_or_text(self) -> PostContentPatch:
        # `null` clears an optional field (title, link, first comment); text and lists have no "unset".
        nulls = [
            f for f in ("text", "media", "thread") if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null; send an empty value instead")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, by their service names."""
        return self.model_dump(exclude_unset=True, by_alias=False)


class PlatformTargetIn(ApiModel):
    """One platform account a post goes to, with optional content of its own there."""

    platform: Platform
    account_id: IdStr
    custom_content: PostContentPatch | None = None


class PostCreate(ApiModel):
    """A new post (the seed's `POST /api/posts` body)."""

    content: PostContentIn
    platforms: list[PlatformTargetIn] = Field(min_length=1, max_length=20)
    scheduled_at: Instant | None = None
    campaign: IdStr | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class PostUpdate(ApiModel):
    """Changes to a post; a content or platform change makes a new version."""

    content: PostContentPatch | None = None
    platforms: list[PlatformTargetIn] | None = Field(default=None, min_length=1, max_length=20)
    scheduled_at: Instant | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class PostContentOut(ApiModel):
    """A post's stored content."""

    text: str = ""
    title: str | None = None
    media: list[str] = Field(default_factory=list)
    link: str | None = None
    first_comment: str | None = None
    thread: list[str] = Field(default_factory=list)


class CustomContentOut(ApiModel):
    """The fields a platform variant overrides (absent ones come from the post's content)."""

    text: str | None = None
    title: str | None = None
    media: list[str] | None = None
    link: str | None = None
    first_comment: str | None = None
    thread: list[str] | None = None


class PlatformPostPublic(ApiModel):
    """A post on one platform account and its publish state there."""

    platform: str
    account_id: str
    custom_content: CustomContentOut | None = None
    publish_status: str
    platform_post_id: str | None = None
    url: str | None = None
    error: str | None = None
    published_at: Utc | None = None


class PostPublic(ApiModel):
    """A post as the API shows it."""

    id: str
    workspace_id: str
    author_id: str | None = None
    content: PostContentOut
    platforms: list[PlatformPostPublic]
    status: str
    scheduled_at: Utc | None = None
    published_at: Utc | None = None
    campaign: str | None = None
    tags: list[str]
    ai_generated: bool
    approval_status: str | None = None
    version: int
    created_at: Utc
    updated_at: Utc


class PostOut(ApiModel):
    """`{post}`."""

    post: PostPublic


class PostList(ApiModel):
    """One page of posts."""

    posts: list[PostPublic]
    total: int
    page: int
    limit: int


class ScheduleIn(ApiModel):
    """When to publish (UTC or with an offset)."""

    scheduled_at: Instant


class PublishResult(ApiModel):
    """Where one platform's publish stands when the call returns (the worker publishes the queue)."""

    platform: str
    account_id: str
    success: bool
    """False only when the publish failed for good."""
    status: str
    """pending (queued) | publishing | published | failed | unknown"""
    platform_post_id: str | None = None
    url: str | None = None
    error: str | None = None


class PublishOut(ApiModel):
    """The post and the state of each platform's publish."""

    post: PostPublic
    results: list[PublishResult]


class BulkData(ApiModel):
    """What a bulk action needs: `scheduledAt` to schedule; `content` and/or `tags` to update."""

    scheduled_at: Instant | None = None
    content: PostContentPatch | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class BulkIn(ApiModel):
    """One action on many posts (the seed's `POST /api/posts/bulk`)."""

    action: Literal["schedule", "delete", "update", "publish"]
    post_ids: list[IdStr] = Field(min_length=1, max_length=200)
    data: BulkData | None = None

    @model_validator(mode="after")
    def _needs_data(self) -> BulkIn:
        if self.action == "schedule" and (self.data is None or self.data.scheduled_at is None):
            raise ValueError("action 'schedule' needs data.scheduledAt")
        if self.action == "update" and (
            self.data is None or (self.data.content is None and self.data.tags is None)
        ):
            raise ValueError("action 'update' needs data.content or data.tags")
        return self


class BulkError(ApiModel):
    """Why one post of a bulk action failed."""

    post_id: str
    error: str


class BulkOut(ApiModel):
    """How many posts the action succeeded and failed on, and why each failure."""

    success: int
    failed: int
    errors: list[BulkError]


class CalendarEntry(ApiModel):
    """One publish on the content calendar."""

    post_id: str
    platform: str
    account_id: str
    at: Utc
    status: str
    text: str


class CalendarOut(ApiModel):
    """The publishes due or done in a window, in time order."""

    items: list[CalendarEntry]


class ViolationOut(ApiModel):
    """One platform rule a post breaks."""

    field: str
    code: str
    message: str
    fixable: bool
    limit: int | None = None
    actual: int | None = None


class PlatformValidation(ApiModel):
    """The violations of a post on one platform account."""

    platform: str
    account_id: str
    valid: bool
    violations: list[ViolationOut]


class ValidateOut(ApiModel):
    """Whether the post fits every platform it targets."""

    valid: bool
    platforms: list[PlatformValidation]
