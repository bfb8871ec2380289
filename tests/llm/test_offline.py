"""The built-in offline model: deterministic, honest about being offline, and good enough to run every flow."""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from datetime import date
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from brandcrew.llm.backend import ModelBackend
from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk, ToolCall
from brandcrew.llm.offline import OfflineBackend, platform_length, x_length
from brandcrew.llm.tokens import count_message_tokens

TODAY = date(2026, 11, 25)  # a Wednesday

BRAND: dict[str, Any] = {
    "name": "Northwind Coffee",
    "audience": "home baristas and office coffee lovers",
    "voice": {"tone": "warm, knowledgeable, a little playful"},
    "banned_words": ["cheap", "guarantee", "best in the world"],
    "hashtags": ["#NorthwindCoffee", "#SpecialtyCoffee", "#HomeBarista"],
    "emoji": True,
    "call_to_action": "Order fresh beans today",
    "products": ["Ethiopia Guji", "Office Subscription Box", "House Espresso Blend"],
    "pillars": ["origin stories", "brewing tips", "community", "product launches"],
    "platforms": ["x", "linkedin", "instagram"],
}
LIMITS = {
    "x": 280,
    "threads": 500,
    "linkedin": 3000,
    "instagram": 2200,
    "facebook": 63206,
    "tiktok": 2200,
    "pinterest": 500,
    "youtube": 5000,
    "reddit": 40000,
}


def ask(text: str, *, system: str | None = None, **kwargs: Any) -> ModelRequest:
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    metadata = kwargs.pop("metadata", {})
    return ModelRequest(model="offline", messages=messages, metadata={"brand": BRAND, **metadata}, **kwargs)


def respond(request: ModelRequest) -> ModelResponse:
    return OfflineBackend(today=TODAY).respond(request)


def tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}


def tool_schema(tools: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(t["function"]["parameters"] for t in tools if t["function"]["name"] == name)


TOOLS = [
    tool(
        "get_post_metrics",
        "Fetch engagement metrics (impressions, likes, shares) of published posts on a platform.",
        {
            "platform": {"type": "string", "enum": ["x", "linkedin", "instagram", "facebook"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 90, "default": 7},
        },
        ["platform"],
    ),
    tool(
        "search_mentions",
        "Search brand mentions and comments from social listening.",
        {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 100}},
        ["query"],
    ),
    tool(
        "schedule_post",
        "Schedule an approved draft for publishing at a given time.",
        {"draft_id": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
        ["draft_id", "at"],
    ),
    tool(
        "get_trending_topics",
        "List trending hashtags and topics right now.",
        {"platform": {"type": "string"}},
        [],
    ),
    tool(
        "reply_to_comment",
        "Reply to a comment or mention on behalf of the brand.",
        {"comment_id": {"type": "string"}, "text": {"type": "string", "maxLength": 280}},
        ["comment_id", "text"],
    ),
    tool(
        "get_competitor_stats",
        "Benchmark competitor accounts: followers, posting frequency and engagement rate.",
        {"competitors": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        ["competitors"],
    ),
]


def conservative_x_length(text: str) -> int:
    """An independent, stricter count than X's: URLs 23, anything beyond Latin-1 and punctuation 2."""
    text = unicodedata.normalize("NFC", text)
    urls = re.findall(r"https?://\S+", text)
    rest = re.sub(r"https?://\S+", "", text)
    return 23 * len(urls) + sum(1 if ord(ch) <= 0x2FF or 0x2010 <= ord(ch) <= 0x201F else 2 for ch in rest)


# --- identity and determinism ---


def test_backend_satisfies_the_model_backend_protocol() -> None:
    backend = OfflineBackend()
    assert isinstance(backend, ModelBackend)
    assert backend.provider == "offline"


def test_response_is_marked_offline_and_counts_usage() -> None:
    request = ask("Write a LinkedIn post about our new espresso blend")
    response = respond(request)
    assert response.offline is True
    assert response.provider == "offline" and response.model == "offline"
    assert response.finish_reason == "stop"
    assert response.usage.requests == 1
    assert response.usage.input_tokens == count_message_tokens(request.messages)
    assert response.usage.output_tokens > 0


def test_same_request_gets_the_same_answer_from_separate_backends() -> None:
    request = ask("Write posts for X, LinkedIn and Instagram about our autumn menu", tools=TOOLS)
    first = OfflineBackend(today=TODAY).respond(request)
    second = OfflineBackend(today=TODAY).respond(request)
    assert first == second
    assert first.content


def test_different_briefs_vary_in_template() -> None:
    openers = {
        respond(ask(f"Write an X post about {topic}", metadata={"platform": "x"})).content.split(" ")[0]
        for topic in ("our espresso", "our grinder", "our mugs", "cold brew", "oat milk", "decaf", "filters")
    }
    assert len(openers) >= 2


# --- posts and platform limits ---


def test_x_length_counts_urls_as_23_and_emoji_and_cjk_as_2() -> None:
    assert x_length("hello") == 5
    assert x_length("see https://example.com/a/very/long/path/that/goes/on/and/on") == 4 + 23
    assert x_length("🎉") == 2
    assert x_length("👍🏽") == 2  # skin tone folds into the emoji
    assert x_length("コーヒー") == 8
    assert x_length("— ’") == 3


def test_x_post_fits_280_weighted_for_a_long_brief_with_urls_and_emoji() -> None:
    brief = (
        "Write an X post announcing our winter sale: 20% off every bag of beans 🎉☕️ until December 24, "
        "free shipping over €30 https://northwind.example/sale?utm_source=x&utm_campaign=winter-sale-2026, "
        "plus a brewing guide https://northwind.example/guides/pour-over-masterclass and tasting notes "
        "for each origin, 限定 コーヒー, with stories from the farmers in Guji, Huila and Nyeri who grow them "
        "and a thank-you to everyone who has supported our little roastery over the years. "
        "Our baristas will also host live cupping sessions every Saturday in December in all stores. "
        "Bring a friend, bring a mug, and tell us your favourite origin."
    )
    response = respond(ask(brief, metadata={"platform": "x", "agent": "content_creator", "step": "write"}))
    text = response.content
    assert x_length(text) <= 280
    assert conservative_x_length(text) <= 280
    assert "#NorthwindCoffee" in text or "winter sale" in text
    if "…" in text:
        last_word = text.split("…")[0].split()[-1].strip(".,;:!?")
        assert last_word in brief  # trimmed at a word boundary, never mid-word


@pytest.mark.parametrize("platform", sorted(LIMITS))
def test_every_platform_respects_its_limit_for_a_huge_brief(platform: str) -> None:
    sentence = "Our farmers in Guji pick every cherry by hand and dry it slowly on raised beds 🌱. "
    brief = "Write a post about our harvest story. " + sentence * 1200 + " https://northwind.example/harvest"
    response = respond(ask(brief, metadata={"platform": platform, "step": "write"}))
    assert 0 < platform_length(response.content, platform) <= LIMITS[platform]
    if platform == "x":
        assert conservative_x_length(response.content) <= 280
    if platform == "youtube":
        assert len(response.content.encode()) <= 5000


def test_banned_words_never_appear_even_when_the_brief_uses_them() -> None:
    brief = "Write a post about our cheap beans: the best in the world, guaranteed fresh, cheaper than ever"
    for platform in ("x", "linkedin", "instagram"):
        text = respond(ask(brief, metadata={"platform": platform})).content
        assert not re.search(r"\bcheap|\bguarante|best in the world", text, re.I), text


def test_instagram_caption_keeps_at_most_30_hashtags() -> None:
    brand = {**BRAND, "hashtags": [f"#Coffee{i}" for i in range(45)]}
    text = respond(
        ask("Write an Instagram caption about our roastery #LocalLove", metadata={"brand": brand})
    ).content
    assert 1 <= len(re.findall(r"#\w+", text)) <= 30
    assert len(text) <= 2200


def test_several_platforms_get_one_variant_each_within_their_limits() -> None:
    text = respond(ask("Draft posts for X, LinkedIn and Threads about our new oat latte")).content
    sections = re.split(r"^### (X|LinkedIn|Threads)$", text, flags=re.M)
    bodies = dict(zip(sections[1::2], (s.strip() for s in sections[2::2]), strict=True))
    assert list(bodies) == ["X", "LinkedIn", "Threads"]
    assert x_length(bodies["X"]) <= 280
    assert platform_length(bodies["Threads"], "threads") <= 500
    assert all("oat latte" in body.lower() for body in bodies.values())


def test_post_uses_brand_hashtags_call_to_action_and_emoji_habit() -> None:
    text = respond(ask("Write a LinkedIn post about our office subscription box")).content
    assert "#NorthwindCoffee" in text
    assert "Order fresh beans today" in text
    no_emoji = {**BRAND, "emoji": False}
    plain = respond(
        ask("Write an Instagram caption about our decaf 🎉", metadata={"brand": no_emoji})
    ).content
    assert not re.search("[\U0001f300-\U0001faff\u2600-\u27bf]", plain)


# --- structured output ---


class Platform(enum.StrEnum):
    X = "x"
    LINKEDIN = "linkedin"
    INSTAGRAM = "instagram"


class PostDraft(BaseModel):
    platform: Platform
    text: str = Field(min_length=20, max_length=280)
    hashtags: list[str] = Field(default_factory=list, max_length=5)
    title: str | None = None
    rationale: str


class Drafts(BaseModel):
    posts: list[PostDraft] = Field(min_length=1)


class Pillar(BaseModel):
    name: str
    description: str


class Slot(BaseModel):
    date: date
    platform: Literal["x", "linkedin", "instagram", "tiktok"]
    pillar: str
    idea: str = Field(min_length=5)
    format: Literal["text", "image", "video", "carousel"]


class ContentPlanOut(BaseModel):
    title: str
    goals: list[str] = Field(min_length=2)
    pillars: list[Pillar] = Field(min_length=3)
    calendar: list[Slot] = Field(min_length=5)
    kpis: list[str]
    posts_per_week: dict[str, int]
    confidence: float = Field(ge=0, le=1)


class Sentiment(enum.StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


class MentionLabel(BaseModel):
    sentiment: Sentiment
    score: float = Field(ge=-1, le=1)
    intent: Literal["question", "complaint", "praise", "other"]
    needs_reply: bool
    reason: str = Field(max_length=200)
    tags: list[str] = Field(min_length=2, max_length=4)
    priority: int = Field(ge=1, le=5)


def json_schema_format(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": model.model_json_schema()},
    }


def test_structured_post_drafts_validate_and_cover_each_platform() -> None:
    request = ask(
        "Write posts for X and LinkedIn announcing our winter sale: 20% off all beans until Dec 24 "
        "https://northwind.example/sale 🎉",
        response_format=json_schema_format(Drafts),
        metadata={"agent": "content_creator", "step": "write"},
    )
    content = respond(request).content
    jsonschema.validate(json.loads(content), Drafts.model_json_schema())
    drafts = Drafts.model_validate_json(content)
    assert [p.platform for p in drafts.posts] == [Platform.X, Platform.LINKEDIN]
    assert all("winter sale" in p.text.lower() for p in drafts.posts)
    assert x_length(drafts.posts[0].text) <= 280


def test_structured_content_plan_validates_with_nested_lists_enums_and_dates() -> None:
    request = ask(
        "Create a 2-week content plan for our winter sale on X, LinkedIn and Instagram",
        response_format=json_schema_format(ContentPlanOut),
        metadata={"agent": "strategy", "step": "plan"},
    )
    content = respond(request).content
    jsonschema.validate(json.loads(content), ContentPlanOut.model_json_schema())
    plan = ContentPlanOut.model_validate_json(content)
    assert [p.name for p in plan.pillars] == BRAND["pillars"]
    assert {s.platform for s in plan.calendar} == {"x", "linkedin", "instagram"}
    assert all(s.date > TODAY for s in plan.calendar)
    assert set(plan.posts_per_week) == {"x", "linkedin", "instagram"}


def test_structured_classification_uses_the_lexicon_and_fills_every_constraint() -> None:
    request = ask(
        "Classify this mention: 'My order is two weeks late and the bag arrived broken, terrible service'",
        response_format=json_schema_format(MentionLabel),
        metadata={"agent": "sentiment_analysis", "step": "classify"},
    )
    label = MentionLabel.model_validate_json(respond(request).content)
    assert label.sentiment is Sentiment.NEGATIVE and label.score < 0
    assert label.intent == "complaint"


def test_schema_with_refs_unions_and_bounds_validates() -> None:
    schema = {
        "type": "object",
        "$defs": {
            "Tag": {"type": "string", "pattern": "^[a-zA-Z0-9_]+$"},
            "Metric": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 3},
                    "value": {"type": "number", "exclusiveMinimum": 0, "maximum": 10, "multipleOf": 0.5},
                },
                "required": ["name", "value"],
                "additionalProperties": False,
            },
        },
        "properties": {
            "summary": {"type": "string", "minLength": 40, "maxLength": 120},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "minItems": 3, "uniqueItems": True},
            "metrics": {"type": "array", "items": {"$ref": "#/$defs/Metric"}, "minItems": 2, "maxItems": 3},
            "owner": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]},
            "level": {"type": ["string", "null"], "enum": ["low", "medium", "high", None]},
            "count": {"type": "integer", "minimum": 5, "maximum": 9},
            "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        "required": ["summary", "tags", "metrics", "owner", "level", "count", "extra"],
        "additionalProperties": False,
    }
    request = ask(
        "Summarise how our coffee posts did this month",
        response_format={"type": "json_schema", "json_schema": {"name": "Report", "schema": schema}},
    )
    jsonschema.validate(json.loads(respond(request).content), schema)


def test_json_object_answer_is_a_task_shaped_object() -> None:
    response = respond(ask("Write an X post about our cold brew", response_format={"type": "json_object"}))
    data = json.loads(response.content)
    assert data["posts"][0]["platform"] == "x"
    assert x_length(data["posts"][0]["text"]) <= 280


# --- tools ---


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("How did our posts perform on Instagram last week?", "get_post_metrics"),
        ("What are people saying about our new espresso blend?", "search_mentions"),
        ("Schedule draft_42 for 2026-12-01T09:00:00Z", "schedule_post"),
        ("What's trending on TikTok right now?", "get_trending_topics"),
        ('Reply "Thanks so much, enjoy the beans!" to comment c_981', "reply_to_comment"),
        ('How do we compare with competitors "Blue Bottle" and "Stumptown"?', "get_competitor_stats"),
    ],
)
def test_tool_selection_picks_the_matching_tool_with_valid_arguments(
    request_text: str, expected: str
) -> None:
    response = respond(ask(request_text, tools=TOOLS))
    assert response.finish_reason == "tool_calls" and not response.content
    (call,) = response.tool_calls
    assert call.name == expected
    jsonschema.validate(call.arguments, tool_schema(TOOLS, expected))


def test_tool_arguments_come_from_the_conversation() -> None:
    calls = {
        c.name: c.arguments
        for c in respond(ask("Schedule draft_42 for 2026-12-01T09:00:00Z", tools=TOOLS)).tool_calls
    }
    assert calls["schedule_post"] == {"draft_id": "draft_42", "at": "2026-12-01T09:00:00Z"}
    reply = respond(ask('Reply "Thanks so much, enjoy the beans!" to comment c_981', tools=TOOLS)).tool_calls[
        0
    ]
    assert reply.arguments == {"comment_id": "c_981", "text": "Thanks so much, enjoy the beans!"}
    stats = respond(ask('Compare us with competitors "Blue Bottle" and "Stumptown"', tools=TOOLS)).tool_calls[
        0
    ]
    assert stats.arguments["competitors"][:2] == ["Blue Bottle", "Stumptown"]


def test_one_call_per_platform_when_the_tool_takes_a_single_platform() -> None:
    response = respond(
        ask("Show me the metrics for LinkedIn and Instagram over the last 30 days", tools=TOOLS)
    )
    assert [(c.name, c.arguments) for c in response.tool_calls] == [
        ("get_post_metrics", {"platform": "linkedin", "days": 30}),
        ("get_post_metrics", {"platform": "instagram", "days": 30}),
    ]
    assert len({c.id for c in response.tool_calls}) == 2


def test_writing_a_post_never_triggers_side_effect_tools() -> None:
    response = respond(ask("Write a tweet about our new espresso blend", tools=TOOLS))
    assert response.tool_calls == []
    assert "espresso blend" in response.content


def test_unrelated_request_answers_directly() -> None:
    response = respond(ask("hello there", tools=TOOLS))
    assert response.tool_calls == [] and "offline" in response.content


def tool_turn(calls: list[ToolCall], results: list[Any]) -> list[dict[str, Any]]:
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in calls
        ],
    }
    tools = [
        {"role": "tool", "tool_call_id": c.id, "content": json.dumps(r)}
        for c, r in zip(calls, results, strict=True)
    ]
    return [assistant, *tools]


def test_after_tool_results_it_answers_with_their_numbers_and_does_not_repeat_the_call() -> None:
    first = ask(
        "How did our posts perform on Instagram last week?", tools=TOOLS, metadata={"agent": "analytics"}
    )
    calls = respond(first).tool_calls
    result = {
        "platform": "instagram",
        "posts": [
            {"id": "p1", "title": "Guji launch reel", "impressions": 5400, "likes": 320},
            {"id": "p2", "title": "Brewing tips carousel", "impressions": 3100, "likes": 150},
            {"id": "p3", "title": "Farm story", "impressions": 1200, "likes": 90},
        ],
    }
    second = first.model_copy(update={"messages": [*first.messages, *tool_turn(calls, [result])]})
    response = respond(second)
    assert response.tool_calls == [] and response.finish_reason == "stop"
    assert "3 posts" in response.content
    assert "9,700" in response.content  # total impressions
    assert "Guji launch reel" in response.content


def test_tool_rounds_are_bounded() -> None:
    request = ask("Search mentions of our espresso and our trending topics and competitor stats", tools=TOOLS)
    messages = list(request.messages)
    for _ in range(5):
        response = respond(request.model_copy(update={"messages": messages}))
        if not response.tool_calls:
            break
        messages += tool_turn(response.tool_calls, [{"items": []}] * len(response.tool_calls))
    assert response.tool_calls == []
    assert sum(1 for m in messages if m.get("tool_calls")) <= 3


def test_forced_tool_is_called_with_schema_valid_arguments() -> None:
    forced = {"type": "function", "function": {"name": "get_post_metrics"}}
    response = respond(ask("hello", tools=TOOLS, tool_choice=forced))
    (call,) = response.tool_calls
    assert call.name == "get_post_metrics"
    jsonschema.validate(call.arguments, tool_schema(TOOLS, "get_post_metrics"))

    carrier = {
        "type": "function",
        "function": {"name": "PostDraft", "parameters": PostDraft.model_json_schema()},
    }
    request = ask(
        "Draft an Instagram caption about our barista workshop on Saturday",
        tools=[carrier],
        tool_choice={"type": "function", "function": {"name": "PostDraft"}},
    )
    draft = PostDraft.model_validate(respond(request).tool_calls[0].arguments)
    assert draft.platform is Platform.INSTAGRAM and "workshop" in draft.text


def test_required_tool_choice_always_calls_a_tool() -> None:
    response = respond(ask("hello", tools=TOOLS, tool_choice="required"))
    assert len(response.tool_calls) >= 1
    call = response.tool_calls[0]
    jsonschema.validate(call.arguments, tool_schema(TOOLS, call.name))


def test_tool_choice_none_never_calls_a_tool() -> None:
    response = respond(
        ask("How did our posts perform on Instagram last week?", tools=TOOLS, tool_choice="none")
    )
    assert response.tool_calls == [] and response.content


def test_final_result_tool_carries_the_structured_answer_after_tool_results() -> None:
    carrier = {
        "type": "function",
        "function": {"name": "final_result", "parameters": MentionLabel.model_json_schema()},
    }
    tools = [*TOOLS, carrier]
    first = ask("What are people saying about our espresso?", tools=tools)
    calls = respond(first).tool_calls
    assert calls[0].name == "search_mentions"
    mentions = [{"text": "Love the new espresso, amazing crema!"}, {"text": "Great espresso, thanks!"}]
    second = first.model_copy(update={"messages": [*first.messages, *tool_turn(calls, [mentions])]})
    (final,) = respond(second).tool_calls
    assert final.name == "final_result"
    MentionLabel.model_validate(final.arguments)


# --- routing, classification, analysis, plans, crisis ---

SUPERVISOR = """You are the supervisor. Route the request to one of these agents:
- content_creator: writes and rewrites posts, captions and threads
- strategy: plans campaigns, content calendars and goals
- engagement: replies to comments, DMs and reviews
- analytics: reports on metrics and performance
- trend_detection: spots trending topics and hashtags
- competitor_analysis: benchmarks competitors
- crisis_management: handles backlash and drafts holding statements
- sentiment_analysis: measures how people feel about the brand
Answer with the agent name only."""


@pytest.mark.parametrize(
    ("request_text", "agent"),
    [
        ("Draft three captions for our autumn blend", "content_creator"),
        ("Build next month's content calendar", "strategy"),
        ("Answer the DMs that came in overnight", "engagement"),
        ("How many impressions did we get last week?", "analytics"),
        ("Which hashtags are trending in coffee today?", "trend_detection"),
        ("How do we benchmark against Blue Bottle?", "competitor_analysis"),
        ("There's a boycott brewing over our ad, we need a statement", "crisis_management"),
        ("How do people feel about our brand lately?", "sentiment_analysis"),
    ],
)
def test_route_picks_the_listed_agent_that_fits(request_text: str, agent: str) -> None:
    response = respond(ask(request_text, system=SUPERVISOR, metadata={"step": "route"}))
    assert response.content == agent


def test_route_without_a_list_falls_back_to_the_built_in_agents() -> None:
    response = respond(ask("Who should plan the launch of our Guji?", metadata={"step": "route"}))
    assert response.content == "strategy"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I absolutely love this coffee, best morning ever!", "positive"),
        ("My order is late again and nobody answers. Terrible.", "negative"),
        ("The shop opens at 9 on Saturdays.", "neutral"),
        ("Not bad at all", "positive"),
    ],
)
def test_classify_uses_the_sentiment_lexicon(text: str, label: str) -> None:
    response = respond(ask(f"Classify the sentiment of: {text}", metadata={"step": "classify"}))
    assert response.content == label


def test_classify_picks_among_the_labels_the_prompt_offers() -> None:
    system = "Label the message with one of: question, complaint, praise, spam"
    response = respond(
        ask("How long does shipping to Berlin take?", system=system, metadata={"step": "classify"})
    )
    assert response.content == "question"


def test_plan_has_goals_pillars_cadence_dated_calendar_and_kpis() -> None:
    response = respond(
        ask(
            "Plan next week's posts on X and LinkedIn for the launch of Ethiopia Guji",
            metadata={"step": "plan"},
        )
    )
    text = response.content
    for heading in ("## Goals", "## Content pillars", "## Cadence", "## Calendar", "## KPIs"):
        assert heading in text
    days = re.findall(r"^- \w{3} (\d{4}-\d{2}-\d{2})", text, flags=re.M)
    assert days and all(date.fromisoformat(d) > TODAY for d in days)
    assert min(days) == "2026-11-30"  # next Monday
    assert "X: " in text and "LinkedIn: " in text and "Instagram" not in text.split("## Calendar")[1]


def test_long_plans_are_outlined_week_by_week() -> None:
    text = respond(
        ask("Create a 6-week content strategy for our subscription box", metadata={"agent": "strategy"})
    ).content
    assert len(re.findall(r"^### Week \d", text, flags=re.M)) == 6


def test_analysis_without_tools_summarises_data_in_the_request() -> None:
    data = {"x": {"posts": 9, "impressions": 18400}, "instagram": {"posts": 5, "impressions": 22600}}
    response = respond(
        ask(
            "Summarise last week's results: " + json.dumps(data),
            metadata={"agent": "analytics", "step": "analyze"},
        )
    )
    assert "41,000" in response.content  # total impressions
    assert "instagram" in response.content.split("Takeaway")[1]


def test_crisis_holding_statement_acknowledges_acts_and_never_admits_liability() -> None:
    request = ask(
        "Draft a holding statement about the contaminated batch that we caused because our QA failed",
        metadata={"agent": "crisis_management", "step": "write"},
    )
    text = respond(request).content
    assert "Holding statement" in text and "Next steps" in text
    assert re.search(r"aware|seen the posts", text) and "24 hours" in text
    assert not re.search(
        r"\b(fault|liab|negligen|we caused|our mistake|admit|QA failed|responsible for)", text, re.I
    )


def test_reply_to_a_complaint_is_calm_and_offers_help() -> None:
    text = respond(
        ask("Draft a reply to this comment: @jo_b my beans arrived broken", metadata={"agent": "engagement"})
    ).content
    assert "@jo_b" in text and "DM" in text
    assert x_length(text) <= 280


# --- streaming ---


async def collect(request: ModelRequest) -> list[ResponseChunk]:
    return [chunk async for chunk in OfflineBackend(today=TODAY).stream(request)]


@pytest.mark.asyncio
async def test_stream_yields_the_same_text_as_complete() -> None:
    request = ask("Write posts for X and LinkedIn about our holiday gift box")
    chunks = await collect(request)
    complete = await OfflineBackend(today=TODAY).complete(request)
    assert "".join(c.content for c in chunks) == complete.content
    assert len(chunks) > 5
    assert chunks[-1].usage == complete.usage and chunks[-1].finish_reason == "stop"
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.asyncio
async def test_stream_sends_tool_calls_as_openai_deltas() -> None:
    request = ask("Show me the metrics for LinkedIn and Instagram", tools=TOOLS)
    chunks = await collect(request)
    complete = await OfflineBackend(today=TODAY).complete(request)
    deltas = [d for c in chunks for d in c.tool_call_deltas]
    assert [(d["index"], d["id"], d["name"], json.loads(d["arguments"])) for d in deltas] == [
        (i, c.id, c.name, c.arguments) for i, c in enumerate(complete.tool_calls)
    ]
    assert chunks[-1].finish_reason == "tool_calls" and chunks[-1].usage == complete.usage


# --- robustness ---


def test_agents_called_as_tools_have_their_answer_forwarded_verbatim() -> None:
    agents = [
        tool(name, description, {"task": {"type": "string"}}, ["task"])
        for name, description in (
            ("content_creator", "Writes posts and captions"),
            ("strategy", "Plans campaigns and calendars"),
            ("analytics", "Reports on metrics"),
        )
    ]
    first = ask("Draft a LinkedIn post about our hiring push", tools=agents)
    (call,) = respond(first).tool_calls
    assert call.name == "content_creator"
    assert call.arguments == {"task": "Draft a LinkedIn post about our hiring push"}
    worker_answer = "We're hiring baristas in Berlin! Apply at northwind.example/jobs"
    turn = tool_turn([call], [None])
    turn[1]["content"] = worker_answer
    final = respond(first.model_copy(update={"messages": [*first.messages, *turn]}))
    assert final.content == worker_answer


def test_a_failed_tool_is_reported_not_hidden() -> None:
    first = ask("How did our posts perform on X last week?", tools=TOOLS)
    calls = respond(first).tool_calls
    turn = tool_turn(calls, [None])
    turn[1]["content"] = "Error: rate limited, retry in 60 seconds"
    response = respond(first.model_copy(update={"messages": [*first.messages, *turn]}))
    assert response.tool_calls == []
    assert "failed" in response.content and "rate limited" in response.content


def test_recursive_schema_terminates_and_validates() -> None:
    class Node(BaseModel):
        name: str
        children: list[Node] = Field(default_factory=list)
        parent: Node | None = None

    request = ask("Outline our content themes", response_format=json_schema_format(Node))
    Node.model_validate_json(respond(request).content)


def test_sentiment_agent_reads_the_mentions_a_tool_returned() -> None:
    first = ask(
        "How do people feel about our espresso?", tools=TOOLS, metadata={"agent": "sentiment_analysis"}
    )
    calls = respond(first).tool_calls
    assert calls[0].name == "search_mentions"
    mentions = {
        "mentions": [
            {"text": "Love the new espresso, amazing crema!", "likes": 12},
            {"text": "Great espresso, thanks!", "likes": 4},
            {"text": "Espresso was bitter and the cup arrived broken, awful", "likes": 30},
        ]
    }
    response = respond(
        first.model_copy(update={"messages": [*first.messages, *tool_turn(calls, [mentions])]})
    )
    assert response.content.startswith("Sentiment: 67% positive, 33% negative, 0% neutral (3 mentions)")


@pytest.mark.parametrize(
    ("text", "expected_heading"),
    [
        ("Write a LinkedIn post about our new strategy", None),
        ("Create a 4-week content plan for our podcast", "## Goals"),
        ("Draft a reply to this comment: 'where do you ship?'", None),
    ],
)
def test_the_wording_decides_between_post_plan_and_reply(text: str, expected_heading: str | None) -> None:
    content = respond(ask(text)).content
    assert ("## Goals" in content) is (expected_heading is not None)
    if "reply" in text:
        assert content.startswith("Great question")


def test_content_parts_stop_sequences_and_metadata_today_are_honoured() -> None:
    parts = [{"type": "text", "text": "Plan our posts for next week"}]
    request = ModelRequest(
        model="offline",
        messages=[{"role": "user", "content": parts}],
        metadata={"today": "2027-03-03", "step": "plan"},
        stop=["## KPIs"],
    )
    content = OfflineBackend().respond(request).content
    assert "Period: 2027-03-08 to 2027-03-14" in content
    assert "## KPIs" not in content and "## Calendar" in content
