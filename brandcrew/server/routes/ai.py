"""AI writing help: draft posts, optimise a post, suggest hashtags, train the brand voice (the seed's
"AI APIs"). The work is `brandcrew.graphs.assist`'s; spend lands on the caller's workspace."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from brandcrew.graphs import assist
from brandcrew.memory.brand_voice import VoiceExample
from brandcrew.server.deps import PrincipalDep, ServicesDep, require
from brandcrew.server.errors import ApiError
from brandcrew.server.models.ai import (
    BrandVoiceOut,
    GeneratedContent,
    GenerateIn,
    GenerateOut,
    HashtagOut,
    HashtagsIn,
    HashtagsOut,
    OptimizeIn,
    OptimizeOut,
    PredictedPerformance,
    SuggestionOut,
    TrainIn,
    TrainOut,
    VariationOut,
)
from brandcrew.server.models.common import ERRORS
from brandcrew.server.permissions import Permission

router = APIRouter(
    prefix="/api/ai",
    tags=["ai"],
    responses={**ERRORS, 402: {**ERRORS[422], "description": "a budget of the workspace is exhausted"}},
)
_store_lock = threading.Lock()


def _open_store(request: Request) -> Any:
    # One long-term memory store per app, opened on first use (it loads the embedder).
    with _store_lock:
        store = getattr(request.app.state, "memory_store", None)
        if store is None:
            from brandcrew.memory.defaults import open_store

            store = open_store(request.app.state.settings)
            request.app.state.memory_store = store
        return store


async def _store(request: Request) -> Any:
    return await run_in_threadpool(_open_store, request)


def _usage(spend: assist.Spend) -> dict[str, Any]:
    return {"cost": spend.cost_usd, "tokens_used": spend.tokens_used, "run_id": spend.run_id}


@router.post("/generate", response_model=GenerateOut, dependencies=[require(Permission.AI_USE)])
async def generate(
    body: GenerateIn, request: Request, principal: PrincipalDep, services: ServicesDep
) -> GenerateOut:
    """Draft post variations per platform with the content creator agent, scored."""
    if not body.prompt and not body.context.topic:
        raise ApiError(422, "MISSING_REQUIRED_FIELD", "give a prompt or a context.topic", {"field": "prompt"})
    brief = assist.GenerateBrief(
        prompt=body.prompt,
        topic=body.context.topic,
        tone=body.context.tone,
        platforms=[p.value for p in dict.fromkeys(body.context.platforms)],
        target_audience=body.context.target_audience,
        keywords=body.context.keywords,
        variations=body.variations,
        brand_voice_id=body.brand_voice_id,
    )
    result = await assist.generate(
        services, workspace_id=principal.workspace_id, brief=brief, store=await _store(request)
    )
    return GenerateOut(
        **_usage(result.spend),
        variations=[
            VariationOut(
                id=v.id,
                platform=v.platform,
                content=GeneratedContent(text=v.text, hashtags=v.hashtags, thread=v.thread),
                score=v.score,
                scored_by=v.scored_by,
                reasoning=v.reasoning,
                violations=v.violations,
                risk_flags=v.risk_flags,
            )
            for v in result.variations
        ],
    )


@router.post("/optimize", response_model=OptimizeOut, dependencies=[require(Permission.AI_USE)])
async def optimize(body: OptimizeIn, principal: PrincipalDep, services: ServicesDep) -> OptimizeOut:
    """Improve a post for engagement, reach or conversions on one platform."""
    result = await assist.optimize(
        services,
        workspace_id=principal.workspace_id,
        content=body.content,
        platform=body.platform.value,
        goals=list(dict.fromkeys(body.optimization_goals)),
    )
    return OptimizeOut(
        **_usage(result.spend),
        optimized_content=result.optimized_text,
        suggestions=[SuggestionOut.model_validate(s.model_dump()) for s in result.suggestions],
        predicted_performance=PredictedPerformance(
            engagement_rate=result.engagement_rate,
            reach_estimate=result.reach_estimate,
            based_on_posts=result.based_on_posts,
        ),
    )


@router.post("/hashtags", response_model=HashtagsOut, dependencies=[require(Permission.AI_USE)])
async def hashtags(body: HashtagsIn, principal: PrincipalDep, services: ServicesDep) -> HashtagsOut:
    """Hashtags for a post, rated by the brand's own published posts."""
    result = await assist.hashtags(
        services,
        workspace_id=principal.workspace_id,
        content=body.content,
        platform=body.platform.value,
        count=body.count,
    )
    return HashtagsOut(
        **_usage(result.spend),
        hashtags=[HashtagOut.model_validate(h.model_dump()) for h in result.hashtags],
    )


@router.post("/train", response_model=TrainOut, dependencies=[require(Permission.AI_TRAIN)])
async def train(body: TrainIn, request: Request, principal: PrincipalDep, services: ServicesDep) -> TrainOut:
    """Learn the brand voice from good and bad examples and guidelines; agents check drafts against it."""
    if sum(1 for e in body.examples if e.is_good_example) < 2:
        raise ApiError(
            422, "VALIDATION_ERROR", "training needs at least two good examples", {"field": "examples"}
        )
    voice_id = body.brand_voice_id or "default"
    examples = [
        VoiceExample(
            content=e.content, platform=e.platform.value if e.platform else None, is_good=e.is_good_example
        )
        for e in body.examples
    ]
    store = await _store(request)
    profile = await run_in_threadpool(
        assist.train_voice,
        services,
        store,
        workspace_id=principal.workspace_id,
        examples=examples,
        guidelines=body.guidelines,
        voice_id=voice_id,
        embedder=getattr(store, "embedder", None),
    )
    return TrainOut(
        brand_voice=BrandVoiceOut(
            id=voice_id,
            tone=profile.tone,
            vocabulary=sorted(profile.vocabulary, key=lambda w: -profile.vocabulary[w])[:20],
            banned_phrases=profile.banned_phrases,
            brand_hashtags=profile.brand_hashtags,
            emoji_per_post=profile.emoji_per_post,
            hashtags_per_post=profile.hashtags_per_post,
            threshold=profile.threshold,
            examples=profile.examples,
            embedder=profile.embedder,
        ),
        training_status="completed",
    )
