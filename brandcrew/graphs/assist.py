"""Writing help on demand: draft variations, optimise a post, suggest hashtags, train the brand voice.

The content creator agent's model and prompt do the writing (the offline model when no key is set);
every call runs inside `llm_context(workspace_id=..., run_id=...)`, so the spend lands on the
workspace's ledger and budgets, and each result carries its cost and tokens from that ledger. The
server's `/api/ai/*` routes and the CLI call these functions.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field
from sqlmodel import Session

from brandcrew.agents.registry import AgentRegistry, default_agents
from brandcrew.connectors.drafts import PostDraft
from brandcrew.connectors.text_count import extract_hashtags
from brandcrew.connectors.validation import fix
from brandcrew.llm.chat import ChatBrandcrew
from brandcrew.llm.context import llm_context
from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.runtime import get_runtime
from brandcrew.memory.brand_voice import (
    BrandVoiceProfile,
    VoiceExample,
    load_brand_voice,
    save_brand_voice,
    train_brand_voice,
)
from brandcrew.memory.embedders import Embedder
from brandcrew.services import analytics
from brandcrew.services.autopilot.checks import risk_flags
from brandcrew.services.brand import BrandProfile
from brandcrew.services.container import Services
from brandcrew.services.workspaces import brand_of

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

AGENT = "content_creator"
ANGLES = (
    "",
    "lead with a question to the reader",
    "lead with a concrete detail or number",
    "tell it as a tiny story",
    "make it short and punchy",
)
"""How variations differ: each variation takes the next angle."""
_TAG = re.compile(r"[^\w]", re.UNICODE)


class DraftOut(BaseModel):
    """A social media post the model writes."""

    text: str = Field(description="The post text, ready to publish.")
    hashtags: list[str] = Field(default_factory=list, description="Hashtags in the post.")
    reasoning: str = Field(default="", description="Why this draft should work for the audience.")


class Suggestion(BaseModel):
    """One change the model suggests, with the original and the suggested wording."""

    type: str = Field(default="wording", description="hook | wording | hashtags | call_to_action | length")
    original: str = ""
    suggested: str = ""
    reasoning: str = ""


class OptimizeOut(BaseModel):
    """An improved post and the changes that made it better."""

    optimized_text: str = Field(description="The improved post text.")
    suggestions: list[Suggestion] = Field(default_factory=list)


class HashtagIdea(BaseModel):
    """A hashtag the model proposes, with how relevant it is to the post (0-1)."""

    tag: str
    relevance: float = Field(default=0.5, ge=0.0, le=1.0)


class HashtagsOut(BaseModel):
    """Hashtags for a post."""

    hashtags: list[HashtagIdea] = Field(default_factory=list)


class GenerateBrief(BaseModel):
    """What to write: a prompt and/or a topic, for which platforms, in which tone."""

    prompt: str | None = None
    topic: str | None = None
    tone: str | None = None
    platforms: list[str]
    target_audience: str | None = None
    keywords: list[str] = Field(default_factory=list)
    variations: int = Field(default=3, ge=1, le=5)
    brand_voice_id: str | None = None


class Spend(BaseModel):
    """What one assist call cost, from the ledger rows of its run."""

    run_id: str
    cost_usd: Decimal
    tokens_used: int
    calls: int


class Variation(BaseModel):
    """One drafted post for one platform, scored."""

    id: str
    platform: str
    text: str
    hashtags: list[str]
    link: str | None = None
    thread: list[str] = Field(default_factory=list)
    score: float
    """Brand-voice score when the workspace trained one, else the share of checks passed."""
    scored_by: Literal["brand_voice", "checks"]
    reasoning: str
    violations: list[str]
    risk_flags: list[str]


class GenerateResult(BaseModel):
    """The drafted variations and what they cost."""

    variations: list[Variation]
    spend: Spend


class OptimizeResult(BaseModel):
    """The improved post, the suggested changes, what the account's history predicts, and the cost."""

    optimized_text: str
    suggestions: list[Suggestion]
    engagement_rate: float
    """Mean engagement rate of the account's published posts on this platform (0 without history)."""
    reach_estimate: int
    """Mean impressions of those posts (0 without history)."""
    based_on_posts: int
    spend: Spend


class HashtagSuggestion(BaseModel):
    """A hashtag with what the brand's own published posts say about it."""

    tag: str
    category: Literal["high-reach", "medium-reach", "niche"]
    competition: Literal["low", "medium", "high"]
    relevance_score: float
    estimated_reach: int
    """Mean impressions of the brand's posts on this platform that used the tag (else all its posts)."""
    used_in_posts: int


class HashtagsResult(BaseModel):
    """Suggested hashtags and what they cost."""

    hashtags: list[HashtagSuggestion]
    spend: Spend


@functools.lru_cache(maxsize=8)
def _agents(configs_dir: Path) -> AgentRegistry:
    return default_agents(configs_dir)


def _system(services: Services, brand: BrandProfile, extra: Sequence[str]) -> str:
    values = {
        "brand_name": brand.name,
        "brand_tone": brand.voice.tone,
        "brand_audience": brand.audience or "the brand's audience",
        "brand_industry": brand.industry or "its industry",
    }
    prompt = _agents(services.settings.configs_dir).get(AGENT).render_prompt(values)
    return "\n".join([prompt, *[line for line in extra if line]])


def _model(brand: BrandProfile, platform: str | None) -> ChatBrandcrew:
    hints: dict[str, Any] = {"brand": brand.as_hints()}
    if platform:
        hints["platform"] = platform
    return ChatBrandcrew(agent=AGENT, step="write").model_copy(update={"metadata_hints": hints})


def spend_of(workspace_id: str, run_id: str) -> Spend:
    """Cost and tokens of one run of a workspace, from the ledger."""
    rows = get_runtime().ledger.totals([], CostFilter(workspace_id=workspace_id, run_id=run_id))
    cost = sum((r.cost_usd for r in rows), start=Decimal(0))
    tokens = sum(
        r.input_tokens + r.cache_read_tokens + r.cache_write_tokens + r.output_tokens + r.reasoning_tokens
        for r in rows
    )
    return Spend(run_id=run_id, cost_usd=cost, tokens_used=tokens, calls=sum(r.calls for r in rows))


def _new_run(kind: str) -> str:
    return f"ai-{kind}-{uuid.uuid4().hex[:12]}"


def _clean_tag(tag: str) -> str | None:
    word = _TAG.sub("", tag.strip().lstrip("#"))
    return f"#{word}" if word and not word.isdigit() else None


def _brand(services: Services, workspace_id: str) -> BrandProfile:
    with Session(services.engine) as session:
        return brand_of(session, workspace_id)


async def generate(
    services: Services,
    *,
    workspace_id: str,
    brief: GenerateBrief,
    store: BaseStore | None = None,
    run_id: str | None = None,
) -> GenerateResult:
    """Draft `brief.variations` posts per platform with the content creator, fit them to the platform's
    limits, and score each (brand voice when trained, else the checks it passes)."""
    run_id = run_id or _new_run("generate")
    brand = _brand(services, workspace_id)
    voice = _voice(store, workspace_id, brief.brand_voice_id)
    subject = brief.topic or brief.prompt or (brand.pillars[0] if brand.pillars else brand.name)
    guidance = [
        f"Write in a {brief.tone} tone." if brief.tone else "",
        f"Audience: {brief.target_audience}." if brief.target_audience else "",
        f"Work in these keywords: {', '.join(brief.keywords)}." if brief.keywords else "",
        f"The request in full: {brief.prompt}" if brief.prompt and brief.topic else "",
        "Answer with the post text only.",
    ]
    out: list[Variation] = []
    with llm_context(workspace_id=workspace_id, run_id=run_id):
        for platform in brief.platforms:
            model = _model(brand, platform).with_structured_output(DraftOut)
            for index in range(brief.variations):
                angle = ANGLES[index % len(ANGLES)]
                system = _system(services, brand, [*guidance, f"Angle: {angle}." if angle else ""])
                ask = f"Write a {platform} post about {subject}."
                if index:
                    ask += f" (variation {index + 1})"
                draft = await model.ainvoke([SystemMessage(system), HumanMessage(ask)])
                assert isinstance(draft, DraftOut)
                out.append(_variation(platform, draft, brand, voice))
    return GenerateResult(variations=out, spend=spend_of(workspace_id, run_id))


def _voice(store: BaseStore | None, workspace_id: str, voice_id: str | None) -> BrandVoiceProfile | None:
    if store is None:
        return None
    return load_brand_voice(store, workspace_id, voice_id=voice_id or "default")


def _variation(
    platform: str, draft: DraftOut, brand: BrandProfile, voice: BrandVoiceProfile | None
) -> Variation:
    fixed = fix(PostDraft(platform=platform, text=draft.text.strip()))
    text = fixed.draft.text
    violations = [v.message for v in fixed.remaining]
    flags = risk_flags(text, banned_words=brand.banned_words)
    if voice is not None:
        from brandcrew.memory.embedders import embedder_named

        embedder = embedder_named(voice.embedder, dimension=voice.dimension)
        score, scored_by = voice.score(text, platform=platform, embedder=embedder).score, "brand_voice"
    else:
        # Two checks, each worth half: within the platform's rules, and free of risk flags.
        score, scored_by = (0.5 if not violations else 0.0) + (0.5 if not flags else 0.0), "checks"
    return Variation(
        id=uuid.uuid4().hex,
        platform=platform,
        text=text,
        hashtags=[f"#{t}" for t in extract_hashtags(text)],
        thread=list(fixed.draft.thread),
        score=round(score, 3),
        scored_by=scored_by,
        reasoning=draft.reasoning,
        violations=violations,
        risk_flags=flags,
    )


def _history(services: Services, workspace_id: str, platform: str) -> list[analytics.PostPerformance]:
    with Session(services.engine) as session:
        posts = analytics.post_performance(session, workspace_id=workspace_id, platform=platform)
    return [p for p in posts if p.impressions > 0]


async def optimize(
    services: Services,
    *,
    workspace_id: str,
    content: str,
    platform: str,
    goals: Sequence[str] = ("engagement",),
    run_id: str | None = None,
) -> OptimizeResult:
    """Rewrite a post for the given goals with the content creator, fitted to the platform's limits;
    the prediction is the account's own history on that platform."""
    run_id = run_id or _new_run("optimize")
    brand = _brand(services, workspace_id)
    system = _system(
        services,
        brand,
        [
            f"Improve the post the user gives for {', '.join(goals)} on {platform}.",
            "Keep its meaning and facts; list each change you made as a suggestion.",
        ],
    )
    with llm_context(workspace_id=workspace_id, run_id=run_id):
        model = _model(brand, platform).with_structured_output(OptimizeOut)
        result = await model.ainvoke([SystemMessage(system), HumanMessage(content)])
    assert isinstance(result, OptimizeOut)
    fixed = fix(PostDraft(platform=platform, text=result.optimized_text.strip()))
    history = _history(services, workspace_id, platform)
    suggestions = [s for s in result.suggestions if s.suggested or s.reasoning]
    return OptimizeResult(
        optimized_text=fixed.draft.text,
        suggestions=suggestions,
        engagement_rate=round(mean(p.engagement_rate for p in history), 4) if history else 0.0,
        reach_estimate=round(mean(p.impressions for p in history)) if history else 0,
        based_on_posts=len(history),
        spend=spend_of(workspace_id, run_id),
    )


async def hashtags(
    services: Services,
    *,
    workspace_id: str,
    content: str,
    platform: str,
    count: int = 30,
    run_id: str | None = None,
) -> HashtagsResult:
    """Hashtags for a post: the model proposes, the brand's own published posts rate the reach."""
    run_id = run_id or _new_run("hashtags")
    brand = _brand(services, workspace_id)
    system = _system(
        services,
        brand,
        [f"Suggest up to {count} hashtags for the user's {platform} post, most relevant first."],
    )
    with llm_context(workspace_id=workspace_id, run_id=run_id):
        model = _model(brand, platform).with_structured_output(HashtagsOut)
        result = await model.ainvoke([SystemMessage(system), HumanMessage(content)])
    assert isinstance(result, HashtagsOut)
    ideas: dict[str, float] = {}
    proposed = [(i.tag, i.relevance) for i in result.hashtags]
    proposed += [(f"#{t}", 0.5) for t in extract_hashtags(content)]
    for raw, relevance in proposed:
        tag = _clean_tag(raw)
        if tag and tag.lower() not in {t.lower() for t in ideas}:
            ideas[tag] = relevance
    history = _history(services, workspace_id, platform)
    baseline = mean(p.impressions for p in history) if history else 0.0
    out = []
    for tag, relevance in list(ideas.items())[:count]:
        used = [p for p in history if tag.lower() in {f"#{t}".lower() for t in extract_hashtags(p.text)}]
        reach = mean(p.impressions for p in used) if used else baseline
        ratio = reach / baseline if baseline else 0.0
        category: Literal["high-reach", "medium-reach", "niche"] = (
            "high-reach" if ratio >= 1.2 else "medium-reach" if ratio >= 0.8 else "niche"
        )
        # Broad tags reach more people and compete with more posts; niche ones the reverse.
        competition: Literal["low", "medium", "high"] = {
            "high-reach": "high",
            "medium-reach": "medium",
            "niche": "low",
        }[category]  # type: ignore[assignment]
        out.append(
            HashtagSuggestion(
                tag=tag,
                category=category,
                competition=competition,
                relevance_score=round(relevance, 3),
                estimated_reach=round(reach),
                used_in_posts=len(used),
            )
        )
    return HashtagsResult(hashtags=out, spend=spend_of(workspace_id, run_id))


def train_voice(
    services: Services,
    store: BaseStore,
    *,
    workspace_id: str,
    examples: Sequence[VoiceExample],
    guidelines: str = "",
    voice_id: str = "default",
    embedder: Embedder | None = None,
) -> BrandVoiceProfile:
    """Train the workspace's brand voice from examples and guidelines and keep it where the agents'
    brand-voice check reads it (`embedder`: the store's, else the default one)."""
    brand = _brand(services, workspace_id)
    profile = train_brand_voice(examples, guidelines, embedder=embedder, banned_words=brand.banned_words)
    save_brand_voice(store, workspace_id, profile, voice_id=voice_id)
    return profile
