"""The campaign file (`configs/campaigns/*.yaml`): what an unattended campaign may do, validated."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from brandcrew._config_files import load_yaml_model
from brandcrew.connectors.capabilities import CAPABILITIES, get_capabilities
from brandcrew.errors import ConfigError

GoalMetric = Literal["engagement_rate", "impressions", "engagements", "followers_gained", "posts_published"]


class Goal(BaseModel):
    """A metric target over the whole campaign, e.g. engagement_rate 0.04."""

    model_config = ConfigDict(extra="forbid")

    metric: GoalMetric
    target: float = Field(gt=0)


class PlatformPlan(BaseModel):
    """A platform the campaign posts to, and how often."""

    model_config = ConfigDict(extra="forbid")

    platform: str
    per_day: float = Field(default=1.0, gt=0, le=24)
    """Posts per day; 0.5 is a post every other day."""
    account: str | None = None
    """The connected account's username; the workspace's only account on the platform when omitted."""

    @field_validator("platform")
    @classmethod
    def _known(cls, value: str) -> str:
        known = sorted(str(p.value) for p in CAPABILITIES)
        if value not in known:
            raise ValueError(f"unknown platform {value!r}; known: {', '.join(known)}")
        return value


class Pillar(BaseModel):
    """A content pillar: a theme, its share of posts, and topics to write about."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)
    topics: list[str] = Field(default_factory=list)


class QuietHours(BaseModel):
    """Local hours when nothing is published (may wrap midnight, e.g. 22:00-07:00)."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """True when `local` falls inside the quiet hours."""
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def contains_hour(self, hour: int) -> bool:
        """True when a post at `hour`:00 local would fall inside the quiet hours."""
        return self.contains(time(hour))


_RULE = re.compile(r"^auto\s+when\s+(?P<conds>.+)$", re.IGNORECASE)
_VOICE = re.compile(r"^brand\s+voice\s*>=\s*(?P<v>0(?:\.\d+)?|1(?:\.0+)?)$", re.IGNORECASE)


class ApprovalPolicy(BaseModel):
    """`auto`, `human`, or rules: "auto when brand voice >= 0.8 and no risk flags"."""

    mode: Literal["auto", "human", "rules"]
    min_brand_voice: float | None = None
    no_risk_flags: bool = False
    no_near_duplicates: bool = False
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> ApprovalPolicy:
        """Read a policy string; a clear error names what is not understood."""
        cleaned = " ".join(text.split())
        if cleaned.lower() in ("auto", "human"):
            return cls(mode=cleaned.lower(), text=cleaned)
        match = _RULE.match(cleaned)
        if match is None:
            raise ValueError(
                f"approval {text!r} is not understood; use 'auto', 'human', or rules like "
                "'auto when brand voice >= 0.8 and no risk flags'"
            )
        policy = cls(mode="rules", text=cleaned)
        for cond in re.split(r"\s+and\s+", match["conds"], flags=re.IGNORECASE):
            cond = cond.strip().lower()
            voice = _VOICE.match(cond)
            if voice:
                policy.min_brand_voice = float(voice["v"])
            elif cond == "no risk flags":
                policy.no_risk_flags = True
            elif cond in ("no near duplicates", "no near-duplicates"):
                policy.no_near_duplicates = True
            else:
                raise ValueError(
                    f"approval rule {cond!r} is not understood; rules are 'brand voice >= N' (0..1), "
                    "'no risk flags' and 'no near duplicates', joined by 'and'"
                )
        return policy


class VoiceExamples(BaseModel):
    """Posts the brand calls on-brand and off-brand, to train the brand-voice check."""

    model_config = ConfigDict(extra="forbid")

    good: list[str] = Field(default_factory=list)
    bad: list[str] = Field(default_factory=list)


class ListeningSpec(BaseModel):
    """Social listening while the campaign runs: a crisis alert pauses the brand's publishing."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    """A boolean query: words, "quoted phrases", AND, OR, NOT, parentheses."""
    alert_config: dict[str, Any] = Field(default_factory=dict)
    """Detector thresholds and cooldowns (see the crisis detector's settings)."""
    poll_minutes: int = Field(default=30, ge=5, le=1440)
    """How often a simulated run polls (real runs follow the worker's 5-minute schedule)."""

    @field_validator("query")
    @classmethod
    def _parses(cls, value: str) -> str:
        from brandcrew.services.listening.query import QuerySyntaxError, parse_query

        try:
            parse_query(value)
        except QuerySyntaxError as exc:  # a UserError: re-raise as a field error naming the file
            raise ValueError(str(exc)) from None
        return value


class SandboxCrisisSpec(BaseModel):
    """A scripted burst of negative mentions on the sandbox (to rehearse the crisis pause)."""

    model_config = ConfigDict(extra="forbid")

    day: int = Field(ge=0)
    hour: int = Field(default=10, ge=0, le=23)
    hours: float = Field(default=6.0, gt=0)
    intensity: float = Field(default=8.0, gt=0)


class CampaignSpec(BaseModel):
    """A campaign file, validated."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    workspace: str = Field(min_length=1)
    """A brand profile in configs/workspaces/ (its file name without .yaml)."""
    description: str = ""
    goals: list[Goal] = Field(default_factory=list)
    platforms: list[PlatformPlan] = Field(min_length=1)
    pillars: list[Pillar] = Field(min_length=1)
    start: date
    days: int = Field(default=14, ge=1, le=366)
    cycle_days: int = Field(default=1, ge=1, le=31)
    """Length of one plan -> publish -> measure -> adjust cycle."""
    budget_usd: Decimal = Field(ge=0)
    approval: ApprovalPolicy = Field(default_factory=lambda: ApprovalPolicy(mode="human", text="human"))
    quiet_hours: QuietHours | None = None
    timezone: str = "UTC"
    posting_hours: list[int] = Field(default_factory=lambda: [9, 12, 17])
    """Local hours to post at before the account's own results say better."""
    sensitive_topics: list[str] = Field(default_factory=list)
    """Extra words and phrases that flag a draft as risky (on top of the built-in list)."""
    voice: VoiceExamples | None = None
    media: list[str] = Field(default_factory=list)
    """Image or video files (relative to the campaign file) attached in turn where a platform needs media."""
    near_duplicate_threshold: float = Field(default=0.8, gt=0, le=1)
    listening: ListeningSpec | None = None
    sandbox_crisis: SandboxCrisisSpec | None = None
    sandbox_seed: int = 7
    """Seed of the simulated platform world when the campaign runs on the sandbox."""

    @field_validator("approval", mode="before")
    @classmethod
    def _policy(cls, value: object) -> object:
        return ApprovalPolicy.parse(value) if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/London)") from None
        return value

    @field_validator("posting_hours")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= h <= 23 for h in value):
            raise ValueError("posting_hours must be a non-empty list of hours 0..23")
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> CampaignSpec:
        platforms = [p.platform for p in self.platforms]
        if len(set(platforms)) != len(platforms):
            raise ValueError("each platform may appear once in platforms")
        if self.quiet_hours is not None and all(
            self.quiet_hours.contains(time(h)) for h in self.posting_hours
        ):
            raise ValueError("every posting hour falls in the quiet hours: nothing could be published")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The campaign's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def cycles(self) -> int:
        """How many cycles the campaign runs."""
        return -(-self.days // self.cycle_days)

    def starts_at(self) -> datetime:
        """Local midnight of the start date, as an aware datetime."""
        return datetime.combine(self.start, time(0), tzinfo=self.zone)

    def cycle_window(self, cycle: int) -> tuple[datetime, datetime]:
        """The [start, end) of a cycle, in the campaign's zone (the last cycle ends with the campaign)."""
        start = self.starts_at() + timedelta(days=cycle * self.cycle_days)
        end = min(start + timedelta(days=self.cycle_days), self.starts_at() + timedelta(days=self.days))
        return start, end


def load_campaign(path: Path) -> CampaignSpec:
    """Read and validate a campaign file; errors name the file and the field."""
    spec = load_yaml_model(path, CampaignSpec)
    missing = [m for m in spec.media if not (path.parent / m).is_file()]
    if missing:
        raise ConfigError(f"{path}: media: files not found (relative to the campaign file): {missing}")
    needs_media = [p.platform for p in spec.platforms if get_capabilities(p.platform).media_required]
    if needs_media and not spec.media:
        raise ConfigError(f"{path}: media: {', '.join(needs_media)} posts need media; list image files")
    spec.media = [str((path.parent / m).resolve()) for m in spec.media]
    if spec.voice is not None and spec.voice.good and len(spec.voice.good) < 2:
        raise ConfigError(f"{path}: voice.good: give at least two on-brand example posts")
    return spec
