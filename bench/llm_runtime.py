"""Benchmark of the LLM runtime: budget overshoot under concurrency, routing savings, overheads.

    python -m bench.llm_runtime [--json] [--calls 1000] [--steps 1000]

(a) 1,000 concurrent simulated calls with random latency and sizes against a $5 cap: brandcrew's
    reserve-settle budgets beside a naive check-then-record baseline (what LiteLLM's BudgetManager
    does), on SQLite, and on PostgreSQL/Redis when reachable.
(b) The router on a reference workload of steps drawn from the eight agents' step kinds with
    realistic token sizes, against always using the first frontier model. Cost only: this does not
    measure answer quality.
(c) Router decision time per call, and a call's time when served from the cache vs a cache miss
    (zero-latency model, so what is left is brandcrew's own overhead).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from bench._table import console, emit_json, percentile, print_table
from brandcrew.errors import BudgetExceeded
from brandcrew.llm._cost import cost_of, from_nanos
from brandcrew.llm.budgets import RedisBudgetStore, SqlBudgetStore
from brandcrew.llm.config import ModelsConfig, load_models_config
from brandcrew.llm.context import llm_context
from brandcrew.llm.messages import ModelRequest, ModelResponse, StepKind
from brandcrew.llm.prices import PriceOverride, PriceTable
from brandcrew.llm.router import ModelRouter, RouteRequest
from brandcrew.llm.runtime import CallOptions, LlmRuntime
from brandcrew.llm.testing import ScriptedLlm, Step
from brandcrew.llm.usage import LlmUsage
from brandcrew.settings import Settings
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade

CAP_USD = Decimal(5)
SIM_MODEL = "sim/frontier"
# A frontier-priced model ($15 in / $75 out per million), so 1,000 calls want far more than $5.
SIM_PRICE = PriceOverride(input=15, output=75, provider="sim")


# --------------------------------------------------------------------------------------------
# (a) overshoot
# --------------------------------------------------------------------------------------------
@dataclass
class SimCall:
    latency_s: float
    input_tokens: int
    output_tokens: int
    max_tokens: int


def sim_calls(n: int, seed: int = 11) -> list[SimCall]:
    """Random latencies (20-400 ms) and sizes, fixed by the seed so both contenders see the same calls."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        max_tokens = rng.choice([256, 512, 1024, 2048])
        out.append(
            SimCall(
                latency_s=rng.uniform(0.02, 0.4),
                input_tokens=rng.randint(200, 6000),
                output_tokens=rng.randint(20, max_tokens),
                max_tokens=max_tokens,
            )
        )
    return out


def _sim_price() -> Any:
    return PriceTable({SIM_MODEL: SIM_PRICE}).get(SIM_MODEL)


async def naive_check_then_record(calls: list[SimCall]) -> Decimal:
    """Spend under a check-then-record budget: check spent < cap, call, then add the cost."""
    price = _sim_price()
    spent = Decimal(0)

    async def one(call: SimCall) -> None:
        nonlocal spent
        if spent >= CAP_USD:
            return
        await asyncio.sleep(call.latency_s)
        spent += cost_of(LlmUsage(input_tokens=call.input_tokens, output_tokens=call.output_tokens), price)

    await asyncio.gather(*(one(c) for c in calls))
    return spent


def _runtime(engine: Any, budgets: Any, calls: list[SimCall]) -> tuple[LlmRuntime, dict[str, SimCall]]:
    by_prompt: dict[str, SimCall] = {}

    def respond(request: ModelRequest) -> ModelResponse:
        call = by_prompt[request.messages[-1]["content"]]
        usage = LlmUsage(input_tokens=call.input_tokens, output_tokens=call.output_tokens, requests=1)
        return ModelResponse(model=request.model, provider="sim", content="ok", usage=usage)

    class SimBackend(ScriptedLlm):
        async def complete(self, request: ModelRequest) -> ModelResponse:
            await asyncio.sleep(by_prompt[request.messages[-1]["content"]].latency_s)
            return respond(request)

    config = ModelsConfig.model_validate(
        {
            "tiers": {t: [SIM_MODEL] for t in ("small", "balanced", "frontier")},
            "prices": {SIM_MODEL: SIM_PRICE},
        }
    )
    prices = PriceTable(config.price_overrides())
    router = ModelRouter(config, prices, has_credentials=lambda m, p: True)
    runtime = LlmRuntime(
        config=config,
        engine=engine,
        prices=prices,
        router=router,
        budgets=budgets,
        backends={"sim": SimBackend([Step()], provider="sim")},
        settings=Settings(),
    )
    for call in calls:
        # A prompt of about the size the call bills, so that reservations see what a provider would.
        by_prompt[f"call {uuid.uuid4().hex}: " + " coffee" * (call.input_tokens - 30)] = call
    return runtime, by_prompt


async def brandcrew_reserved(engine: Any, budgets: Any, calls: list[SimCall]) -> tuple[Decimal, int, int]:
    """Spend under brandcrew's budgets; returns (spent, calls made, calls refused)."""
    runtime, by_prompt = _runtime(engine, budgets, calls)
    campaign = f"bench-{uuid.uuid4().hex[:8]}"
    runtime.limits.set("campaign", campaign, CAP_USD)
    made = refused = 0

    async def one(prompt: str, call: SimCall) -> None:
        nonlocal made, refused
        request = ModelRequest(
            model="auto", messages=[{"role": "user", "content": prompt}], max_tokens=call.max_tokens
        )
        try:
            with llm_context(workspace_id="bench", campaign_id=campaign, agent="bench"):
                await runtime.complete(request, opts=CallOptions(cache=False))
            made += 1
        except BudgetExceeded:
            refused += 1

    await asyncio.gather(*(one(p, c) for p, c in by_prompt.items()))
    (status,) = runtime.budgets.status([f"campaign:{campaign}"])
    ledger_total = sum((r.cost_usd for r in runtime.ledger.totals(flt=None)), Decimal(0))
    assert from_nanos(status.spent_nanos) == ledger_total, "ledger must sum to the budget's spend"
    return from_nanos(status.spent_nanos), made, refused


_PG_SCHEMAS: dict[int, tuple[str, str]] = {}


def _postgres_engine() -> Any | None:
    url = os.environ.get("BRANDCREW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        schema = f"bc_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception:
        return None
    engine = make_engine(f"{url}?options=-csearch_path%3D{schema}")
    upgrade(engine)
    _PG_SCHEMAS[id(engine)] = (url, schema)
    return engine


def _drop_postgres(engine: Any) -> None:
    import psycopg

    url, schema = _PG_SCHEMAS.pop(id(engine))
    engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _redis_client() -> Any | None:
    try:
        import redis

        client = redis.Redis.from_url(os.environ.get("BRANDCREW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
        client.ping()
        return client
    except Exception:
        return None


def bench_overshoot(n: int, workdir: Path) -> dict[str, Any]:
    """Part (a)."""
    calls = sim_calls(n)
    demand = sum(
        (
            cost_of(LlmUsage(input_tokens=c.input_tokens, output_tokens=c.output_tokens), _sim_price())
            for c in calls
        ),
        Decimal(0),
    )
    rows: list[list[Any]] = []
    naive = asyncio.run(naive_check_then_record(calls))
    rows.append(
        [
            "naive check-then-record (in-process)",
            f"${naive:.2f}",
            f"${max(Decimal(0), naive - CAP_USD):.2f}",
            "-",
            "-",
        ]
    )
    sqlite_engine = make_engine(f"sqlite:///{workdir / 'overshoot.db'}")
    upgrade(sqlite_engine)
    results: dict[str, Decimal] = {}
    contenders: list[tuple[str, Any, Any]] = [
        ("brandcrew, SQLite", sqlite_engine, SqlBudgetStore(sqlite_engine))
    ]
    pg = _postgres_engine()
    if pg is not None:
        contenders.append(("brandcrew, PostgreSQL", pg, SqlBudgetStore(pg)))
    client = _redis_client()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    if client is not None:
        from brandcrew.llm.ledger import CostLedger

        redis_engine = make_engine(f"sqlite:///{workdir / 'overshoot-redis.db'}")
        upgrade(redis_engine)
        contenders.append(
            (
                "brandcrew, Redis",
                redis_engine,
                RedisBudgetStore(client, prefix=prefix, ledger=CostLedger(redis_engine)),
            )
        )
    for name, engine, store in contenders:
        started = time.perf_counter()
        spent, made, refused = asyncio.run(brandcrew_reserved(engine, store, calls))
        elapsed = time.perf_counter() - started
        results[name] = max(Decimal(0), spent - CAP_USD)
        rows.append([name, f"${spent:.2f}", f"${results[name]:.2f}", f"{made}/{refused}", f"{elapsed:.1f}s"])
    if pg is not None:
        _drop_postgres(pg)
    if client is not None:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    print_table(
        f"(a) {n} concurrent calls against a ${CAP_USD} cap (demand ${demand:.2f})",
        ["contender", "spent", "overshoot", "made/refused", "wall"],
        rows,
    )
    return {
        "budget_overshoot_usd": float(max(results.values())),
        "baseline_overshoot_usd": float(max(Decimal(0), naive - CAP_USD)),
        "budget_overshoot_by_store": {k: float(v) for k, v in results.items()},
        "demand_usd": float(demand),
    }


# --------------------------------------------------------------------------------------------
# (b) routing savings
# --------------------------------------------------------------------------------------------
# Each agent's mix of step kinds, and token sizes per kind (prompt and output ranges), chosen to
# look like the product's flows: short routing/classification calls, mid-size drafting, long
# analysis over tool results. Fixed here, not fitted to any result.
AGENT_STEPS: dict[str, list[tuple[StepKind, float]]] = {
    "supervisor": [("route", 1.0)],
    "content_creator": [("write", 0.7), ("extract", 0.1), ("classify", 0.2)],
    "strategy": [("plan", 0.5), ("analyze", 0.3), ("route", 0.2)],
    "engagement": [("classify", 0.4), ("write", 0.6)],
    "analytics": [("analyze", 0.7), ("extract", 0.3)],
    "trend_detection": [("classify", 0.5), ("analyze", 0.5)],
    "competitor_analysis": [("extract", 0.4), ("analyze", 0.6)],
    "crisis_management": [("classify", 0.5), ("write", 0.3), ("analyze", 0.2)],
    "sentiment_analysis": [("classify", 0.9), ("extract", 0.1)],
}
AGENT_WEIGHTS = {
    "supervisor": 0.2,
    "content_creator": 0.2,
    "strategy": 0.08,
    "engagement": 0.15,
    "analytics": 0.08,
    "trend_detection": 0.08,
    "competitor_analysis": 0.05,
    "crisis_management": 0.04,
    "sentiment_analysis": 0.12,
}
SIZES: dict[StepKind, tuple[tuple[int, int], tuple[int, int], bool]] = {
    # kind: ((prompt min, max), (output min, max), needs tools)
    "route": ((300, 900), (5, 40), True),
    "classify": ((150, 1500), (3, 60), False),
    "extract": ((800, 6000), (80, 400), False),
    "write": ((800, 3500), (120, 600), True),
    "plan": ((2000, 9000), (600, 2000), True),
    "analyze": ((2000, 24000), (250, 1200), True),
}


@dataclass
class WorkStep:
    agent: str
    step: StepKind
    prompt_tokens: int
    output_tokens: int
    needs_tools: bool


def reference_workload(n: int, seed: int = 3) -> list[WorkStep]:
    """n steps drawn from the agents' step mixes."""
    rng = random.Random(seed)
    agents = list(AGENT_WEIGHTS)
    out = []
    for _ in range(n):
        agent = rng.choices(agents, weights=[AGENT_WEIGHTS[a] for a in agents])[0]
        kinds, weights = zip(*AGENT_STEPS[agent], strict=True)
        step = rng.choices(kinds, weights=weights)[0]
        (pmin, pmax), (omin, omax), tools = SIZES[step]
        out.append(WorkStep(agent, step, rng.randint(pmin, pmax), rng.randint(omin, omax), tools))
    return out


def bench_routing(n: int) -> tuple[dict[str, Any], ModelRouter, list[RouteRequest]]:
    """Part (b)."""
    config = load_models_config(Path(__file__).resolve().parent.parent / "configs" / "models.yaml")
    prices = PriceTable(config.price_overrides())
    router = ModelRouter(config, prices, has_credentials=lambda m, p: True)
    frontier_model = config.tiers["frontier"][0]
    frontier_price = prices.get(frontier_model)
    assert frontier_price is not None
    routed_cost = frontier_cost = Decimal(0)
    per_tier: Counter[str] = Counter()
    per_model: Counter[str] = Counter()
    requests = []
    for step in reference_workload(n):
        req = RouteRequest(
            agent=step.agent,
            step=step.step,
            prompt_tokens=step.prompt_tokens,
            max_output_tokens=2048 if step.step == "plan" else 1024,
            needs_tools=step.needs_tools,
        )
        requests.append(req)
        decision = router.decide(req)
        price = prices.get(decision.chosen.model)
        assert price is not None
        usage = LlmUsage(input_tokens=step.prompt_tokens, output_tokens=step.output_tokens)
        routed_cost += cost_of(usage, price)
        frontier_cost += cost_of(usage, frontier_price)
        per_tier[decision.chosen.tier] += 1
        per_model[decision.chosen.model] += 1
    savings = float(1 - routed_cost / frontier_cost)
    print_table(
        f"(b) router vs always-{frontier_model} on {n} reference steps "
        "(cost only; quality not measured here)",
        ["policy", "cost", "per step", "saved"],
        [
            [f"always {frontier_model}", f"${frontier_cost:.4f}", f"${frontier_cost / n:.6f}", "-"],
            ["brandcrew router", f"${routed_cost:.4f}", f"${routed_cost / n:.6f}", f"{savings:.1%}"],
        ],
    )
    print_table(
        "    share of steps per tier and model",
        ["tier / model", "steps", "share"],
        [[f"tier {t}", c, f"{c / n:.1%}"] for t, c in sorted(per_tier.items())]
        + [[m, c, f"{c / n:.1%}"] for m, c in per_model.most_common()],
    )
    figures = {
        "router_savings": round(savings, 4),
        "router_cost_usd": float(routed_cost),
        "frontier_cost_usd": float(frontier_cost),
        "tier_share": {t: round(c / n, 4) for t, c in per_tier.items()},
        "model_share": {m: round(c / n, 4) for m, c in per_model.items()},
    }
    return figures, router, requests


# --------------------------------------------------------------------------------------------
# (c) overheads
# --------------------------------------------------------------------------------------------
def bench_overheads(router: ModelRouter, requests: list[RouteRequest], workdir: Path) -> dict[str, Any]:
    """Part (c)."""
    # Router decision, with a budget in play so the budget branch runs too.
    for req in requests[:50]:
        router.decide(req)
    timings = []
    for req in requests:
        budgeted = req.model_copy(update={"budget_remaining_nanos": 10**9, "budget_limit_nanos": 2 * 10**9})
        started = time.perf_counter_ns()
        router.decide(budgeted)
        timings.append((time.perf_counter_ns() - started) / 1e6)

    engine = make_engine(f"sqlite:///{workdir / 'overhead.db'}")
    upgrade(engine)
    usage = LlmUsage(input_tokens=500, output_tokens=100, requests=1)

    def respond(request: ModelRequest) -> ModelResponse:
        return ModelResponse(model=request.model, provider="sim", content="ok", usage=usage)

    config = ModelsConfig.model_validate(
        {
            "tiers": {t: [SIM_MODEL] for t in ("small", "balanced", "frontier")},
            "prices": {SIM_MODEL: SIM_PRICE},
        }
    )
    prices = PriceTable(config.price_overrides())
    runtime = LlmRuntime(
        config=config,
        engine=engine,
        prices=prices,
        router=ModelRouter(config, prices, has_credentials=lambda m, p: True),
        backends={"sim": ScriptedLlm([Step(respond=respond)], provider="sim", repeat_last=True)},
        settings=Settings(),
    )
    runtime.limits.set("run", "overhead", 1000)

    async def measure(prompts: list[str], cache: bool) -> list[float]:
        out = []
        with llm_context(workspace_id="bench", run_id="overhead", agent="content_creator"):
            for prompt in prompts:
                request = ModelRequest(
                    model="auto", messages=[{"role": "user", "content": prompt}], max_tokens=256
                )
                started = time.perf_counter_ns()
                await runtime.complete(request, opts=CallOptions(cache=cache))
                out.append((time.perf_counter_ns() - started) / 1e3)
        return out

    n = 300
    asyncio.run(measure([f"warm {i}" for i in range(20)], True))
    nocache = asyncio.run(measure([f"nocache {i}" for i in range(n)], False))
    miss = asyncio.run(measure([f"miss {i}" for i in range(n)], True))
    hit = asyncio.run(measure([f"miss {i}" for i in range(n)], True))
    p50 = {name: percentile(v, 50) for name, v in (("nocache", nocache), ("miss", miss), ("hit", hit))}
    print_table(
        "(c) overheads (zero-latency model, SQLite ledger, budget on)",
        ["what", "p50", "p99"],
        [
            ["router decision", f"{percentile(timings, 50):.3f} ms", f"{percentile(timings, 99):.3f} ms"],
            ["call, cache off", f"{p50['nocache']:.0f} us", f"{percentile(nocache, 99):.0f} us"],
            ["call, cache miss", f"{p50['miss']:.0f} us", f"{percentile(miss, 99):.0f} us"],
            ["call, cache hit", f"{p50['hit']:.0f} us", f"{percentile(hit, 99):.0f} us"],
        ],
    )
    console.print(
        "    A miss adds the cache lookup and write to a full call (reserve, settle, ledger row); "
        "a hit skips the model and the budget and writes one $0 ledger row."
    )
    return {
        "router_p50_ms": round(percentile(timings, 50), 4),
        "router_p99_ms": round(percentile(timings, 99), 4),
        "cache_hit_us": round(p50["hit"], 1),
        "cache_miss_us": round(p50["miss"], 1),
        "call_nocache_us": round(p50["nocache"], 1),
    }


def main() -> None:
    """Run all three parts and print their tables (and the JSON line with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bc-bench-") as tmp:
        workdir = Path(tmp)
        figures = bench_overshoot(args.calls, workdir)
        routing, router, requests = bench_routing(args.steps)
        figures.update(routing)
        figures.update(bench_overheads(router, requests, workdir))
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
