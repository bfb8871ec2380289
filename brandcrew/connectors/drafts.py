"""The post draft that is validated, fixed and handed to a connector to publish."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from brandcrew.connectors.capabilities import MediaType, Platform, ReplySetting
from brandcrew.connectors.text_count import extract_hashtags, extract_mentions

__all__ = ("MediaItem", "PostDraft")


class MediaItem(BaseModel):
    """One attached image, video or GIF; size and duration are checked when known."""

    model_config = ConfigDict(frozen=True)

    type: MediaType
    url: str | None = None
    mime: str | None = None
    size_bytes: int | None = Field(default=None, ge=0)
    duration_s: float | None = Field(default=None, ge=0)
    alt_text: str | None = None


class PostDraft(BaseModel):
    """A post for one platform, as it will be sent.

    `text` is the body in the platform's own syntax (for LinkedIn, escaped "little" text).
    `thread` holds follow-up parts published as replies to the previous part (X, Threads).
    `title` is used by YouTube, Pinterest and Reddit; `link` is a link outside the text
    (Pinterest destination, Facebook/LinkedIn link card, Threads link attachment, Reddit link post).
    """

    model_config = ConfigDict(frozen=True)

    platform: Platform
    text: str = ""
    title: str | None = None
    media: tuple[MediaItem, ...] = ()
    link: str | None = None
    thread: tuple[str, ...] = ()
    reply_settings: ReplySetting | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def hashtags(self) -> tuple[str, ...]:
        """Hashtags of the first part, in order, without `#`."""
        return tuple(extract_hashtags(self.text))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mentions(self) -> tuple[str, ...]:
        """@mentions of the first part, in order, without `@`."""
        return tuple(extract_mentions(self.text))

    @property
    def parts(self) -> tuple[str, ...]:
        """Every text that will be published: the first part, then the thread replies."""
        return (self.text, *self.thread)
