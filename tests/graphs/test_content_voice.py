"""The content agent checks its drafts against the trained brand voice before proposing them."""

from __future__ import annotations

from typing import Any

from langgraph.store.memory import InMemoryStore

from brandcrew.llm.testing import reply
from brandcrew.llm.usage import LlmUsage
from brandcrew.memory.brand_voice import save_brand_voice, train_brand_voice
from brandcrew.memory.embedders import HashingEmbedder

USAGE = LlmUsage(input_tokens=40, output_tokens=30, requests=1)
GOOD = [
    "Our autumn Guji is in: blueberry, jasmine and a honeyed finish. Brew it as a pour-over and tell us what you taste.",
    "Meet the farmers behind this week's roast. Three generations on the same hillside in Guji.",
    "Brewing tip: grind a little coarser for the French press, four minutes, then pour it all at once.",
    "The office box is back with two new origins. Fresh beans, roasted on Monday, at your desk by Thursday.",
    "A quiet Sunday, a warm cup and the first frost outside. What's in your mug this morning?",
    "We cupped twelve lots to find this one. Notes of stone fruit and a long, sweet finish.",
]
BAD = [
    "MEGA SALE!!! 50% OFF EVERYTHING!!! BUY NOW BEFORE IT'S GONE!!! #sale #deal #discount #cheap #offer",
    "Best coffee in the world, guaranteed. Nobody beats our prices. Click the link now!!!",
    "Synergize your morning workflow with our scalable caffeine solutions for enterprise stakeholders.",
    "lol mondays amirite 💀💀💀 #mood #relatable #coffee #memes #viral #fyp",
    "Limited time only!!! Don't miss out!!! Cheapest beans on the market!!!",
    "Our competitors are terrible. Switch to us today and save big!!!",
]


async def test_off_brand_draft_is_revised_before_it_is_proposed(make_team: Any) -> None:
    store = InMemoryStore()
    embedder = HashingEmbedder(384)
    examples = [{"content": t, "isGoodExample": True} for t in GOOD] + [
        {"content": t, "isGoodExample": False} for t in BAD
    ]
    profile = train_brand_voice(
        examples, "Warm, knowledgeable, a little playful. No hype.", embedder=embedder
    )
    save_brand_voice(store, "demo", profile)
    off_brand = "HUGE SALE!!! BUY OUR GUJI NOW!!! CHEAPEST EVER!!! #sale #deal #discount #offer #cheap"
    on_brand = "Our autumn Guji is here: blueberry and jasmine, roasted this week. What will you brew it as?"
    team = make_team([reply(off_brand, usage=USAGE), reply(on_brand, usage=USAGE)], store=store)
    out = await team.graph.ainvoke(
        {"messages": [("user", "Write an Instagram caption for the autumn Guji")]}, team.config()
    )
    assert out["messages"][-1].content == on_brand
    second = team.llm.calls[1].messages
    feedback = [m for m in second if m.get("role") == "user" and "Brand voice check" in str(m.get("content"))]
    assert feedback, "the agent was told why its first draft failed the voice check"


async def test_without_a_trained_voice_the_draft_passes_through(make_team: Any) -> None:
    team = make_team([reply("Fresh Guji, roasted this week.", usage=USAGE)])
    out = await team.graph.ainvoke(
        {"messages": [("user", "Write an Instagram caption for the Guji")]}, team.config()
    )
    assert out["messages"][-1].content == "Fresh Guji, roasted this week." and len(team.llm.calls) == 1
