"""The demo until the autopilot lands: a routed, costed, cached day of agent steps on embedded defaults."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from rich.console import Console
from rich.table import Table

from brandcrew.llm._cost import cost_of, usd_text
from brandcrew.llm.chat import ChatBrandcrew, response_text
from brandcrew.llm.context import llm_context
from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.messages import StepKind
from brandcrew.llm.prices import PriceTable
from brandcrew.llm.router import ModelRouter, RouteRequest
from brandcrew.llm.runtime import get_runtime
from brandcrew.llm.usage import LlmUsage
from brandcrew.services.brand import BrandProfile, load_brand_profile
from brandcrew.settings import get_settings

WEEK_METRICS = {
    "x": {
        "posts": 9,
        "impressions": 18400,
        "likes": 611,
        "replies": 74,
        "reposts": 95,
        "followers_delta": 121,
    },
    "linkedin": {"posts": 3, "impressions": 9100, "reactions": 402, "comments": 37, "followers_delta": 64},
    "instagram": {"posts": 5, "impressions": 22600, "likes": 1480, "comments": 112, "followers_delta": 203},
}
MENTIONS = [
    "Just tried the Guji from @northwind and wow, blueberries in a cup!",
    "@northwind my order is two weeks late and nobody answers my emails",
    "Is the office subscription box worth it for a team of 10? @northwind",
]


@dataclass
class DemoStep:
    agent: str
    step: StepKind
    ask: str
    platform: str | None = None


def demo_steps(brand: BrandProfile) -> list[DemoStep]:
    """One working day of the eight agents, as a marketer would ask for it."""
    launch = brand.products[0] if brand.products else "our new product"
    return [
        DemoStep("supervisor", "route", f"Who should plan the launch of {launch}?"),
        DemoStep(
            "trend_detection",
            "analyze",
            "Which coffee topics are rising this week? Mentions: " + json.dumps(MENTIONS),
        ),
        DemoStep(
            "strategy",
            "plan",
            f"Plan next week's posts on X, LinkedIn and Instagram for the launch of {launch}.",
        ),
        DemoStep("content_creator", "write", f"Write an X post announcing {launch}.", "x"),
        DemoStep(
            "content_creator",
            "write",
            f"Write a LinkedIn post about {launch} for office managers.",
            "linkedin",
        ),
        DemoStep("content_creator", "write", f"Write an Instagram caption for {launch}.", "instagram"),
        DemoStep("sentiment_analysis", "classify", "Classify the sentiment of: " + MENTIONS[1]),
        DemoStep("engagement", "write", "Draft a reply to this message: " + MENTIONS[1]),
        DemoStep("analytics", "analyze", "Summarise last week's results: " + json.dumps(WEEK_METRICS)),
        DemoStep("competitor_analysis", "analyze", "Compare our week with a competitor posting daily reels."),
        DemoStep("crisis_management", "write", "Draft a holding statement about late deliveries this week."),
    ]


async def run_demo(console: Console, *, workspace: str = "demo") -> dict[str, Any]:
    """Run the day twice (the second pass is served from the cache) and print steps, costs and routing."""
    settings = get_settings()
    brand = load_brand_profile(settings.configs_dir / "workspaces" / f"{workspace}.yaml")
    runtime = get_runtime()
    run_id = f"demo-{uuid.uuid4().hex[:8]}"
    runtime.limits.set("run", run_id, Decimal("1.00"))
    with_keys = ModelRouter(
        runtime.config, PriceTable(runtime.config.price_overrides()), has_credentials=lambda m, p: True
    )
    frontier = runtime.config.tiers["frontier"][0]
    frontier_price = runtime.prices.get(frontier)
    mode = (
        "offline model (no provider key set)"
        if not runtime.router.any_provider_available()
        else "configured providers"
    )
    console.print(f"[bold]brandcrew demo[/bold] - {brand.name}, run {run_id}, {mode}")
    console.print(f"database: {settings.resolved_database_url()}\n")

    steps = demo_steps(brand)
    table = Table(
        title="Agent steps (pass 1: model calls; pass 2: served from the cache)", title_justify="left"
    )
    for name in (
        "pass",
        "agent",
        "step",
        "model",
        "tokens in/out",
        "USD",
        "cache",
        "ms",
        "with keys: model",
        "est. USD",
    ):
        table.add_column(
            name, justify="right" if name in ("tokens in/out", "USD", "ms", "est. USD") else "left"
        )
    outputs: dict[str, str] = {}
    estimate = frontier_estimate = Decimal(0)
    started = time.perf_counter()
    for pass_no in (1, 2):
        for s in steps:
            model = ChatBrandcrew(
                runtime=runtime,
                agent=s.agent,
                step=s.step,
                metadata_hints={
                    "brand": brand.as_hints(),
                    **({"platform": s.platform} if s.platform else {}),
                },
            )
            system = (
                f"You are the {s.agent.replace('_', ' ')} agent of {brand.name}. Voice: {brand.voice.tone}. "
                f"Audience: {brand.audience}. Working session {run_id}."  # fresh per demo run: pass 2 hits
            )
            t0 = time.perf_counter()
            with llm_context(workspace_id=brand.workspace_id, run_id=run_id, campaign_id="demo-campaign"):
                message = await model.ainvoke([SystemMessage(system), HumanMessage(s.ask)])
            meta = message.response_metadata
            usage = message.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
            decision = with_keys.decide(
                RouteRequest(
                    agent=s.agent,
                    step=s.step,
                    prompt_tokens=usage["input_tokens"] or 0,
                    max_output_tokens=1024,
                )
            )
            est = Decimal(0)
            if pass_no == 1:
                tokens = LlmUsage(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])
                price = runtime.prices.get(decision.chosen.model)
                est = cost_of(tokens, price) if price else Decimal(0)
                estimate += est
                if frontier_price is not None:
                    frontier_estimate += cost_of(tokens, frontier_price)
                outputs[f"{s.agent}/{s.platform or s.step}"] = response_text(message)
            table.add_row(
                str(pass_no),
                s.agent,
                s.step,
                f"{meta['model_name']}{' (offline)' if meta['offline'] else ''}",
                f"{usage['input_tokens']}/{usage['output_tokens']}",
                meta["cost_usd"] or "unpriced",
                "hit" if meta["cache_hit"] else "miss",
                f"{(time.perf_counter() - t0) * 1000:.0f}",
                decision.chosen.model,
                f"{est:.5f}" if pass_no == 1 else "-",
            )
    elapsed = time.perf_counter() - started
    console.print(table)
    for key in ("strategy/plan", "content_creator/x", "content_creator/linkedin", "crisis_management/write"):
        if key in outputs:
            console.print(f"\n[bold]{key}[/bold] [dim](offline model output)[/dim]\n{outputs[key]}")

    by_agent = runtime.ledger.totals(["agent", "model"], CostFilter(run_id=run_id))
    cost_table = Table(title=f"\nCost ledger for run {run_id}", title_justify="left")
    for name in ("agent", "model", "calls", "cache hits", "input tok", "output tok", "USD"):
        cost_table.add_column(name, justify="left" if name in ("agent", "model") else "right")
    for r in by_agent:
        cost_table.add_row(
            r.group["agent"] or "-",
            r.group["model"] or "-",
            str(r.calls),
            str(r.cache_hits),
            str(r.input_tokens),
            str(r.output_tokens),
            f"{r.cost_usd:.6f}",
        )
    console.print(cost_table)
    (total,) = runtime.ledger.totals(None, CostFilter(run_id=run_id))
    saving = 1 - estimate / frontier_estimate if frontier_estimate else Decimal(0)
    console.print(
        f"\nTotal: {total.calls} calls, {total.cache_hits} cache hits, spent ${total.cost_usd:.6f} "
        f"(offline model is free). With provider keys the router would have spent about ${estimate:.4f} "
        f"for pass 1, against ${frontier_estimate:.4f} always on {frontier} ({saving:.0%} less). "
        f"Took {elapsed:.1f}s."
    )
    return {
        "run_id": run_id,
        "calls": total.calls,
        "cache_hits": total.cache_hits,
        "spend_usd": usd_text(total.cost_usd),
        "estimated_routed_usd": str(round(estimate, 6)),
        "estimated_frontier_usd": str(round(frontier_estimate, 6)),
        "seconds": round(elapsed, 2),
    }
