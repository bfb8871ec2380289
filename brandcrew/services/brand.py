"""Brand profiles: what agents know about the brand they speak for (configs/workspaces/*.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from brandcrew._config_files import load_yaml_model


class BrandVoice(BaseModel):
    """How the brand sounds."""

    model_config = ConfigDict(extra="forbid")

    tone: str = "friendly and clear"
    do: list[str] = Field(default_factory=list)
    dont: list[str] = Field(default_factory=list)


class BrandProfile(BaseModel):
    """A workspace's brand: voice, audience, vocabulary, products and content pillars."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: str
    name: str
    industry: str = ""
    audience: str = ""
    voice: BrandVoice = Field(default_factory=BrandVoice)
    banned_words: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    emoji: bool = False
    call_to_action: str = ""
    products: list[str] = Field(default_factory=list)
    pillars: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)

    def as_hints(self) -> dict[str, object]:
        """The profile as the plain dict that model backends read from request metadata."""
        return self.model_dump()


def load_brand_profile(path: Path) -> BrandProfile:
    """Read and validate a brand profile YAML, with errors naming the file and field."""
    return load_yaml_model(path, BrandProfile)
