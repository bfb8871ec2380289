"""What each platform accepts in a post: text limits and how they are counted, media, tags, quotas.

Every number comes from the platform's documentation, cited beside its entry (and kept in
`PlatformCapabilities.sources`). Where the docs are silent the field is `None` and a note says so.
Tables are frozen: a connector that knows better (an X Premium account, a sandbox with other
rules) passes its own `caps.model_copy(update=...)` to `validate`/`fix`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from brandcrew.connectors.text_count import CountMethod

__all__ = (
    "CAPABILITIES",
    "MediaLimit",
    "MediaType",
    "Platform",
    "PlatformCapabilities",
    "ReplySetting",
    "TextLimit",
    "TextSyntax",
    "get_capabilities",
)


class Platform(StrEnum):
    """A social network brandcrew knows the rules of."""

    X = "x"
    LINKEDIN = "linkedin"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    THREADS = "threads"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"
    PINTEREST = "pinterest"
    REDDIT = "reddit"
    SANDBOX = "sandbox"


class MediaType(StrEnum):
    """Kind of media attached to a post; an animated GIF is its own kind on most platforms."""

    IMAGE = "image"
    VIDEO = "video"
    GIF = "gif"


ReplySetting = Literal["everyone", "following", "mentioned", "followers", "verified", "subscribers"]
"""Who may reply, normalised across X `reply_settings` and Threads `reply_control`."""

TextSyntax = Literal["plain", "linkedin_little"]
"""`linkedin_little`: LinkedIn Posts API commentary, where reserved characters must be escaped."""

_MB: Final = 1024 * 1024
_GB: Final = 1024 * _MB


class TextLimit(BaseModel):
    """Limit on one text field and the unit the platform counts it in."""

    model_config = ConfigDict(frozen=True)

    max_length: int = Field(gt=0)
    count: CountMethod = CountMethod.CHARS
    required: bool = False
    forbidden_chars: str = ""
    """Characters the platform rejects outright in this field (YouTube: `<` and `>`)."""


class MediaLimit(BaseModel):
    """Limits for one media type; `None` means the docs give no limit."""

    model_config = ConfigDict(frozen=True)

    max_count: int = Field(gt=0)
    max_bytes: int | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    mime_types: frozenset[str] = frozenset()
    """Accepted MIME types; empty when the docs do not restrict them."""


class PlatformCapabilities(BaseModel):
    """Everything `validate` and `fix` need to know about one platform."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    name: str
    text: TextLimit
    """The post body: tweet, commentary, caption, description (YouTube, Pinterest) or self-text (Reddit)."""
    title: TextLimit | None = None
    media: Mapping[MediaType, MediaLimit] = Field(default_factory=dict)
    """Allowed media types and their limits; a type missing here is not accepted."""
    max_media: int = 0
    """Most media items in one post, all types together (a carousel's maximum)."""
    mixed_media: bool = False
    """Whether one post may combine media types (image + video in a carousel)."""
    media_required: bool = False
    hashtag_limit: int | None = None
    mention_limit: int | None = None
    link_limit: int | None = None
    """Most distinct URLs in the text."""
    link_attachment: bool = False
    """Whether a post carries a link outside its text (a destination link, a link card)."""
    link_max_length: int | None = None
    links_clickable: bool = True
    """Whether URLs in the text become links (Instagram captions: no)."""
    threads: bool = False
    """Whether a long text can go out as a chain of replies (X, Threads)."""
    daily_post_quota: int | None = None
    """Posts one account may publish through the API per rolling 24 hours, when documented."""
    daily_reply_quota: int | None = None
    reply_settings: frozenset[ReplySetting] = frozenset()
    """Reply audiences the API accepts besides the default (everyone)."""
    text_syntax: TextSyntax = "plain"
    can_publish: bool = False
    """True when brandcrew has a connector that publishes here; set by the connector registry."""
    sources: tuple[str, ...] = ()
    notes: str = ""

    @property
    def media_types(self) -> frozenset[MediaType]:
        """Media types this platform accepts."""
        return frozenset(self.media)


_IMAGE_MIMES: Final = frozenset({"image/jpeg", "image/png"})

_TABLE: tuple[PlatformCapabilities, ...] = (
    # X: https://docs.x.com/fundamentals/counting-characters (280 weighted, URLs 23, NFC),
    # https://github.com/twitter/twitter-text/blob/master/config/v3.json (weights),
    # https://docs.x.com/x-api/media/quickstart/best-practices ("up to 4 photos, 1 animated GIF or 1 video"),
    # https://docs.x.com/x-api/media (image 5 MB, GIF 15 MB, video 512 MB),
    # https://help.x.com/en/rules-and-policies/x-limits (2,400 posts per day per account).
    PlatformCapabilities(
        platform=Platform.X,
        name="X",
        text=TextLimit(max_length=280, count=CountMethod.X_WEIGHTED),
        media={
            MediaType.IMAGE: MediaLimit(
                max_count=4, max_bytes=5 * _MB, mime_types=_IMAGE_MIMES | {"image/webp"}
            ),
            MediaType.GIF: MediaLimit(max_count=1, max_bytes=15 * _MB, mime_types=frozenset({"image/gif"})),
            MediaType.VIDEO: MediaLimit(
                max_count=1,
                max_bytes=512 * _MB,
                min_duration_s=0.5,
                max_duration_s=140,
                mime_types=frozenset({"video/mp4", "video/quicktime"}),
            ),
        },
        max_media=4,
        threads=True,
        daily_post_quota=2400,
        reply_settings=frozenset({"following", "mentioned", "verified", "subscribers"}),
        sources=(
            "https://docs.x.com/fundamentals/counting-characters",
            "https://github.com/twitter/twitter-text/blob/master/config/v3.json",
            "https://docs.x.com/x-api/media/quickstart/best-practices",
            "https://docs.x.com/x-api/media",
            "https://help.x.com/en/rules-and-policies/x-limits",
        ),
        notes=(
            "Premium accounts may post longer text: pass caps with a larger text limit. API tiers cap "
            "posting far below 2,400/day (e.g. Basic: 100 per user per 24 h). Video duration 140 s is the "
            "non-Premium limit."
        ),
    ),
    # LinkedIn Posts API: commentary uses the "little" text format; reserved characters must be
    # escaped or the post is silently truncated at the first one.
    # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
    # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
    # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
    # (2 to 20 images), .../shares/videos-api (one video, MP4, 3 s to 30 min, up to 500 MB).
    PlatformCapabilities(
        platform=Platform.LINKEDIN,
        name="LinkedIn",
        text=TextLimit(max_length=3000),
        media={
            MediaType.IMAGE: MediaLimit(max_count=20, mime_types=_IMAGE_MIMES),
            MediaType.GIF: MediaLimit(max_count=1, mime_types=frozenset({"image/gif"})),
            MediaType.VIDEO: MediaLimit(
                max_count=1,
                max_bytes=500 * _MB,
                min_duration_s=3,
                max_duration_s=30 * 60,
                mime_types=frozenset({"video/mp4"}),
            ),
        },
        max_media=20,
        link_attachment=True,
        daily_post_quota=150,
        text_syntax="linkedin_little",
        sources=(
            "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format",
            "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api",
            "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api",
            "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api",
            "https://www.ayrshare.com/docs/apis/post/social-networks/linkedin",
        ),
        notes=(
            "3,000 characters and 150 posts/day per member come from Ayrshare's LinkedIn notes. The text "
            "is counted as sent, escapes included. One video or images, never both."
        ),
    ),
    # Instagram Graph API: POST /{ig-user-id}/media caption "Maximum 2200 characters, 30 hashtags,
    # and 20 @ tags"; carousel children "up to 10"; JPEG images up to 8 MB; Reels 3 s to 15 min, 300 MB.
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
    # media_publish: "can only publish 50 posts within a 24 hour moving period".
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish
    # Hashtags: Instagram announced (Dec 2025) that captions take at most 5 hashtags; the API
    # reference still says 30. We enforce the stricter, newer rule.
    PlatformCapabilities(
        platform=Platform.INSTAGRAM,
        name="Instagram",
        text=TextLimit(max_length=2200),
        media={
            MediaType.IMAGE: MediaLimit(
                max_count=10, max_bytes=8 * _MB, mime_types=frozenset({"image/jpeg"})
            ),
            MediaType.VIDEO: MediaLimit(
                max_count=10,
                max_bytes=300 * _MB,
                min_duration_s=3,
                max_duration_s=15 * 60,
                mime_types=frozenset({"video/mp4", "video/quicktime"}),
            ),
        },
        max_media=10,
        mixed_media=True,
        media_required=True,
        hashtag_limit=30,
        mention_limit=20,
        links_clickable=False,
        daily_post_quota=50,
        sources=(
            "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media",
            "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media_publish",
            "https://developers.facebook.com/docs/instagram-platform/content-publishing",
        ),
        notes=(
            "Hashtags: 30 per the API reference (a Dec 2025 announcement of 5 is not yet in the API docs). "
            "Carousels count as one "
            "post. Links in captions are not clickable. Requires a Business or Creator account."
        ),
    ),
    # Facebook Pages: no documented caption limit in the Pages API; 63,206 is the limit the
    # composer enforces (Postiz facebook.provider.ts); photos "less than 4 MB" per the Pages API.
    # https://developers.facebook.com/docs/pages-api/posts
    # https://developers.facebook.com/docs/video-api/guides/publishing
    PlatformCapabilities(
        platform=Platform.FACEBOOK,
        name="Facebook Page",
        text=TextLimit(max_length=63206),
        media={
            MediaType.IMAGE: MediaLimit(max_count=10, max_bytes=4 * _MB),
            MediaType.GIF: MediaLimit(max_count=1, max_bytes=4 * _MB, mime_types=frozenset({"image/gif"})),
            MediaType.VIDEO: MediaLimit(max_count=1, max_bytes=10 * _GB, max_duration_s=240 * 60),
        },
        max_media=10,
        link_attachment=True,
        sources=(
            "https://developers.facebook.com/docs/pages-api/posts",
            "https://developers.facebook.com/docs/video-api/guides/publishing",
            "https://github.com/gitroomhq/postiz-app (facebook.provider.ts: 63,206)",
            "https://github.com/inovector/mixpost (config/mixpost.php: 10 photos)",
        ),
        notes="Text and photo-count limits come from open-source schedulers; Meta documents neither.",
    ),
    # Threads API: "Text posts are limited to 500 characters. Emojis are counted as the number of
    # UTF-8 bytes." https://developers.facebook.com/docs/threads/posts
    # Overview: 250 API-published posts and 1,000 replies per 24 h; carousels up to 20 items; one
    # topic tag per post. https://developers.facebook.com/docs/threads/overview
    # Text attachments page: at most 5 links per post (THREADS_API__LINK_LIMIT_EXCEEDED).
    # https://developers.facebook.com/documentation/threads/create-posts/text-attachments
    PlatformCapabilities(
        platform=Platform.THREADS,
        name="Threads",
        text=TextLimit(max_length=500, count=CountMethod.CHARS_EMOJI_UTF8),
        media={
            MediaType.IMAGE: MediaLimit(max_count=20, max_bytes=8 * _MB, mime_types=_IMAGE_MIMES),
            MediaType.VIDEO: MediaLimit(
                max_count=20,
                max_bytes=1 * _GB,
                max_duration_s=5 * 60,
                mime_types=frozenset({"video/mp4", "video/quicktime"}),
            ),
        },
        max_media=20,
        mixed_media=True,
        hashtag_limit=1,
        link_limit=5,
        link_attachment=True,
        threads=True,
        daily_post_quota=250,
        daily_reply_quota=1000,
        reply_settings=frozenset({"following", "mentioned", "followers"}),
        sources=(
            "https://developers.facebook.com/docs/threads/posts",
            "https://developers.facebook.com/docs/threads/overview",
            "https://developers.facebook.com/documentation/threads/create-posts/text-attachments",
        ),
        notes="One hashtag per post becomes its topic tag. Carousels count as one post.",
    ),
    # TikTok Content Posting API, Direct Post: post_info.title up to 2,200 UTF-16 runes; one video
    # (MP4/WebM/MOV, up to 4 GB, 3 s to 10 min) or a photo post of up to 35 images.
    # https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
    # https://developers.tiktok.com/doc/content-posting-api-reference-photo-post
    # https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide
    PlatformCapabilities(
        platform=Platform.TIKTOK,
        name="TikTok",
        text=TextLimit(max_length=2200, count=CountMethod.UTF16_UNITS),
        media={
            MediaType.VIDEO: MediaLimit(
                max_count=1,
                max_bytes=4 * _GB,
                min_duration_s=3,
                max_duration_s=10 * 60,
                mime_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
            ),
            MediaType.IMAGE: MediaLimit(
                max_count=35, max_bytes=20 * _MB, mime_types=frozenset({"image/jpeg", "image/webp"})
            ),
        },
        max_media=35,
        media_required=True,
        sources=(
            "https://developers.tiktok.com/doc/content-posting-api-reference-direct-post",
            "https://developers.tiktok.com/doc/content-posting-api-reference-photo-post",
            "https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide",
            "https://developers.tiktok.com/doc/content-sharing-guidelines/",
        ),
        notes=(
            "A daily per-creator cap exists (error spam_risk_too_many_posts) but is not published. "
            "Unaudited API clients post privately only. Photo posts: title 90, description 4,000."
        ),
    ),
    # YouTube Data API videos resource: snippet.title "maximum length of 100 characters",
    # snippet.description "maximum length of 5000 bytes", both "may contain all valid UTF-8
    # characters except < and >". videos.insert: files up to 256 GB, video/*.
    # https://developers.google.com/youtube/v3/docs/videos
    # https://developers.google.com/youtube/v3/docs/videos/insert
    PlatformCapabilities(
        platform=Platform.YOUTUBE,
        name="YouTube",
        text=TextLimit(max_length=5000, count=CountMethod.UTF8_BYTES, forbidden_chars="<>"),
        title=TextLimit(max_length=100, required=True, forbidden_chars="<>"),
        media={MediaType.VIDEO: MediaLimit(max_count=1, max_bytes=256 * _GB)},
        max_media=1,
        media_required=True,
        daily_post_quota=100,
        sources=(
            "https://developers.google.com/youtube/v3/docs/videos",
            "https://developers.google.com/youtube/v3/docs/videos/insert",
            "https://developers.google.com/youtube/v3/determine_quota_cost",
        ),
        notes=(
            "Upload quota: the current videos.insert page gives a separate bucket of 100 uploads per day; "
            "older pages charge 1,600 of the default 10,000 daily units (about 6 uploads). Unverified API "
            "projects upload privately only."
        ),
    ),
    # Pinterest API v5 POST /v5/pins: title up to 100, description up to 500, link up to 2,048;
    # a Pin needs an image or a video; carousels of up to 5 images.
    # https://developers.pinterest.com/docs/api/v5/pins-create
    # https://ayrshare.com/integration/pinterest
    PlatformCapabilities(
        platform=Platform.PINTEREST,
        name="Pinterest",
        text=TextLimit(max_length=500),
        title=TextLimit(max_length=100),
        media={
            MediaType.IMAGE: MediaLimit(max_count=5, max_bytes=20 * _MB),
            MediaType.VIDEO: MediaLimit(
                max_count=1, max_bytes=2 * _GB, min_duration_s=4, max_duration_s=15 * 60
            ),
        },
        max_media=5,
        media_required=True,
        link_attachment=True,
        link_max_length=2048,
        links_clickable=False,
        sources=(
            "https://developers.pinterest.com/docs/api/v5/pins-create",
            "https://ayrshare.com/integration/pinterest",
        ),
        notes="Links in the description are not clickable; use the Pin's destination link.",
    ),
    # Reddit /api/submit: "title of the submission. up to 300 characters long".
    # https://www.reddit.com/dev/api/#POST_api_submit
    # Self-text 40,000 characters: Reddit's submit form; no API document states it (Postiz uses 10,000).
    PlatformCapabilities(
        platform=Platform.REDDIT,
        name="Reddit",
        text=TextLimit(max_length=40000),
        title=TextLimit(max_length=300, required=True),
        media={
            MediaType.IMAGE: MediaLimit(max_count=20),
            MediaType.VIDEO: MediaLimit(max_count=1),
            MediaType.GIF: MediaLimit(max_count=1),
        },
        max_media=20,
        link_attachment=True,
        sources=(
            "https://www.reddit.com/dev/api/#POST_api_submit",
            "https://github.com/reddit/reddit/wiki/API",
        ),
        notes=(
            "Body limit and gallery size (20) are not in Reddit's API docs. Subreddit rules (flair, karma, "
            "link vs self posts) apply on top. OAuth clients get 60 requests per minute."
        ),
    ),
    # The sandbox is brandcrew's simulated network (no external source): X-like, counted in plain
    # characters so tests can reason about lengths easily.
    PlatformCapabilities(
        platform=Platform.SANDBOX,
        name="Sandbox",
        text=TextLimit(max_length=500),
        media={
            MediaType.IMAGE: MediaLimit(max_count=4),
            MediaType.GIF: MediaLimit(max_count=1),
            MediaType.VIDEO: MediaLimit(max_count=1),
        },
        max_media=4,
        hashtag_limit=10,
        mention_limit=10,
        link_attachment=True,
        threads=True,
        daily_post_quota=1000,
        reply_settings=frozenset({"following", "mentioned", "followers"}),
        notes="Simulated platform; its connector may pass its own capabilities.",
    ),
)

CAPABILITIES: Final[Mapping[Platform, PlatformCapabilities]] = MappingProxyType(
    {c.platform: c for c in _TABLE}
)
"""The capability table, keyed by platform (read-only)."""


def get_capabilities(platform: Platform | str) -> PlatformCapabilities:
    """Capabilities of `platform` (a `Platform` or its value, e.g. "x")."""
    return CAPABILITIES[Platform(platform)]
