"""Benchmark of orchestration overhead: one supervisor -> agent -> tool -> answer round trip.

    python -m bench.orchestration [--json] [--rounds 100] [--profile]

Every contender runs on zero-latency scripted models, so what is timed is the framework's own work.
The scripted models answer from the conversation (no queue), the same way on every side:

  supervisor path - 4 model calls and 1 tool call: the supervisor model delegates to the worker
  agent (`ask_worker`); the worker model calls `lookup_price`; the worker model answers; the
  supervisor model reads the answer and finishes.
  direct path     - 2 model calls and 1 tool call: the worker alone (tool call, then answer).

Contenders:
- brandcrew, supervisor path: brandcrew's real supervisor graph (`build_supervisor`) with a fast
  router that is never confident (`min_keyword_score` out of reach), so the supervisor model
  decides. Each model call goes through `ChatBrandcrew` and the `LlmRuntime`: token counting, the
  model router (over ten priced models, 4/3/3 per tier as in `configs/models.yaml`; one model in
  every tier made a decision about 3.5x cheaper than production's), a run budget reserved before
  and settled after the call, and one cost-ledger row in SQLite (a temporary file), as in
  production; the response cache is off (the rounds repeat the same prompts, and a hit would skip
  the model). As in production, the budget is reserved through budget leases (`brandcrew.llm.leases`): a call's
  reservation is carved in memory from a lease the runtime took in the database for several calls,
  and its settlement and ledger row are committed write-behind, in batches, by a writer thread that
  runs during the timed rounds; the run ends with a flush before the ledger rows are counted. The agent's
  model step also takes the brand profile for its prompt from the process's brand cache, which
  reads the workspace's row again at most once a second (`BRAND_RECHECK_S`, as in production: in a
  round trip of a few milliseconds, most steps read no row), and tools run with brandcrew's tool
  context (scopes, approval policy).
- brandcrew, fast-router path: the same graph with the default fast router, on a request it is sure
  of (no supervisor model call; the router runs without sentence embeddings here).
- LangGraph, hand-written: a supervisor graph (supervisor model node, a delegate node running the
  worker as a compiled subgraph, the worker's model node and a prebuilt `ToolNode`) on a trivial
  `BaseChatModel` that returns the scripted `AIMessage`s. It keeps no ledger, no budget, no
  routing, no token counts and converts no messages to a provider's format. Its direct path runs
  the worker subgraph alone.
- CrewAI, hierarchical: a crew with a manager LLM and one worker agent with a CrewAI tool, both on a
  `BaseLLM` returning scripted ReAct text (manager delegates, worker calls the tool, worker answers,
  manager answers: 4 LLM calls and 1 tool call, plus CrewAI's own delegation tool). Skipped ("n/a")
  when `crewai` is not installed.

No contender uses a checkpointer. The rounds of brandcrew and LangGraph are interleaved, so that a busy
machine slows them alike; figures are medians. CrewAI's rounds run after them, in a block of their own
in the same run: interleaved, its round trip (about 8x longer, on a worker thread, with event handlers
on threads of its own) slowed whichever contender ran right after it, on cold CPU caches. In a fixed
order that was always brandcrew's supervisor path (measured on one machine: wall ratio 1.74-1.79
interleaved with CrewAI, 1.38-1.41 without it); rotating the order spread the slowdown over every
contender and made all of them noisier.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("OTEL_SDK_DISABLED", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("CREWAI_DISABLE_VERSION_CHECK", "true")

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool as lc_tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from sqlmodel import Session, func, select

from bench._table import console, emit_json, percentile, print_table

PRICE = "14.50 EUR for 250 g"
ANSWER = f"The Guji espresso blend costs {PRICE}."
TASK = "Find the price of the Guji espresso blend."
VAGUE_REQUEST = "Could you help me with something for the shop?"
CLEAR_REQUEST = "What is the price of the Guji espresso blend?"
WORKER_PROMPT = "You answer questions about {brand_name}'s product prices. Use lookup_price."
WORKER_DESCRIPTION = "Answers questions about product prices from the catalogue."
WRITER_DESCRIPTION = "Writes social media posts for the brand."


def lookup_price_impl(product: str) -> str:
    """Look up a product's price in the catalogue."""
    return PRICE


# --------------------------------------------------------------------------------------------
# the script, shared by every contender
# --------------------------------------------------------------------------------------------
def supervisor_turn(has_result: bool) -> tuple[str, dict[str, Any] | None]:
    """The supervisor model's answer: delegate first, finish once the worker's answer is back."""
    return ("Done.", None) if has_result else ("", {"name": "ask_worker", "args": {"task": TASK}})


def worker_turn(has_result: bool) -> tuple[str, dict[str, Any] | None]:
    """The worker model's answer: call the tool first, answer once its result is back."""
    return (ANSWER, None) if has_result else ("", {"name": "lookup_price", "args": {"product": "Guji"}})


# --------------------------------------------------------------------------------------------
# brandcrew
# --------------------------------------------------------------------------------------------
class BrandcrewSide:
    """brandcrew's supervisor graph on a scripted backend, a SQLite ledger and a run budget."""

    def __init__(self, workdir: Path) -> None:
        from brandcrew.agents.registry import AgentRegistry
        from brandcrew.agents.routing import FastRouter
        from brandcrew.agents.spec import AgentSpec
        from brandcrew.graphs.supervisor import build_supervisor
        from brandcrew.llm.chat import ChatBrandcrew
        from brandcrew.llm.config import ModelsConfig
        from brandcrew.llm.messages import ModelRequest, ModelResponse, ToolCall
        from brandcrew.llm.prices import PriceOverride, PriceTable
        from brandcrew.llm.router import ModelRouter
        from brandcrew.llm.runtime import LlmRuntime
        from brandcrew.llm.testing import ScriptedLlm, Step
        from brandcrew.llm.usage import LlmUsage
        from brandcrew.services.accounts import default_accounts_service
        from brandcrew.services.brand import load_brand_profile
        from brandcrew.services.container import Services
        from brandcrew.services.media import MediaStore
        from brandcrew.services.workspaces import ensure_workspace
        from brandcrew.settings import Settings, get_settings
        from brandcrew.store.crypto import load_cipher
        from brandcrew.store.engine import make_engine
        from brandcrew.store.migrate import upgrade
        from brandcrew.tools.context import ToolContext, with_tool_context
        from brandcrew.tools.decorator import tool
        from brandcrew.tools.registry import ToolRegistry

        self.engine = make_engine(f"sqlite:///{workdir / 'bench.db'}")
        upgrade(self.engine)
        settings = Settings()
        profile = load_brand_profile(get_settings().configs_dir / "workspaces" / "demo.yaml")
        with Session(self.engine) as session:
            ensure_workspace(session, profile)
            session.commit()
        services = Services(
            engine=self.engine,
            accounts=default_accounts_service(self.engine, load_cipher(workdir)),
            media=MediaStore(workdir / "media"),
            settings=settings,
        )
        usage = LlmUsage(input_tokens=400, output_tokens=30, requests=1)
        ids = iter(range(10**9))

        def respond(request: ModelRequest) -> ModelResponse:
            has_result = any(m.get("role") == "tool" for m in request.messages)
            turn = supervisor_turn if request.metadata.get("agent") == "supervisor" else worker_turn
            text, call = turn(has_result)
            calls = [] if call is None else [ToolCall(id=f"call_{next(ids)}", **call)]
            return ModelResponse(model="", provider="", content=text, tool_calls=calls, usage=usage)

        # As many candidates per tier as `configs/models.yaml` (4, 3, 3), each priced: every decision
        # weighs ten models and carries the rest as fallbacks, as in production with every key set.
        tiers = {
            t: [f"bench/{t}-{i}" for i in range(n)]
            for t, n in (("small", 4), ("balanced", 3), ("frontier", 3))
        }
        config = ModelsConfig.model_validate(
            {
                "tiers": tiers,
                "prices": {
                    m: PriceOverride(input=0.4 * (1 + rank), output=1.6 * (1 + rank), provider="bench")
                    for rank, models in enumerate(tiers.values())
                    for m in models
                },
            }
        )
        prices = PriceTable(config.price_overrides())
        self.llm = ScriptedLlm([Step(respond=respond)], provider="bench", repeat_last=True)
        self.runtime = LlmRuntime(
            config=config,
            engine=self.engine,
            prices=prices,
            router=ModelRouter(config, prices, has_credentials=lambda m, p: True),
            backends={"bench": self.llm},
            settings=settings,
        )
        self.runtime.limits.set("run", "bench-run", 1000)

        @tool
        def lookup_price(product: str) -> str:
            """Look up a product's price in the catalogue."""
            return lookup_price_impl(product)

        agents = AgentRegistry()
        worker = AgentSpec(
            name="worker",
            description=WORKER_DESCRIPTION,
            prompt=WORKER_PROMPT,
            keywords=["price", "prices", "cost", "catalogue"],
            examples=[CLEAR_REQUEST, "How much does the Yirgacheffe filter roast cost?"],
            tools=["lookup_price"],
        )
        agents.register(worker)
        # A second agent, never chosen: the supervisor picks among agents, and the router ranks them.
        agents.register(
            AgentSpec(
                name="writer",
                description=WRITER_DESCRIPTION,
                prompt="You write posts for {brand_name}.",
                keywords=["post", "caption", "write"],
                examples=["Write an X post about the autumn blend", "Draft a caption for the new mug"],
            )
        )
        tools = ToolRegistry()
        tools.register(lookup_price)
        model = ChatBrandcrew(runtime=self.runtime, response_cache=False)
        never_sure = FastRouter(agents.all(), min_keyword_score=1e9)
        router = FastRouter(agents.all())
        assert router.route(CLEAR_REQUEST).confident, "the fast router should be sure of CLEAR_REQUEST"
        self.graphs = {
            VAGUE_REQUEST: build_supervisor(agents, tools, model=model, router=never_sure),
            CLEAR_REQUEST: build_supervisor(agents, tools, model=model, router=router),
        }
        ctx = ToolContext(services=services, workspace_id=profile.workspace_id, run_id="bench-run")
        self.config = with_tool_context(ctx)
        self.workspace_id = profile.workspace_id

    async def round_trip(self, request: str) -> str:
        from brandcrew.llm.context import llm_context

        with llm_context(workspace_id=self.workspace_id, run_id="bench-run"):
            out = await self.graphs[request].ainvoke({"messages": [HumanMessage(request)]}, self.config)
        return str(out["messages"][-1].content)

    def ledger_rows(self) -> int:
        from brandcrew.store.tables import LlmCall

        self.runtime.flush()  # the rows of the last calls may still be queued (write-behind)
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(LlmCall)).one())


# --------------------------------------------------------------------------------------------
# LangGraph, hand-written
# --------------------------------------------------------------------------------------------
class ScriptedChat(BaseChatModel):
    """A trivial chat model returning the scripted AIMessage for its role."""

    turn: Callable[[bool], tuple[str, dict[str, Any] | None]]
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _answer(self, messages: list[BaseMessage]) -> ChatResult:
        self.calls += 1
        text, call = self.turn(any(isinstance(m, ToolMessage) for m in messages))
        tool_calls = [] if call is None else [{**call, "id": f"call_{self.calls}", "type": "tool_call"}]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text, tool_calls=tool_calls))])

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return self._answer(messages)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return self._answer(messages)

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kw: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kw)


class LangGraphSide:
    """The same round trip as a minimal hand-written LangGraph supervisor graph."""

    def __init__(self) -> None:
        lookup_price = lc_tool(lookup_price_impl)
        self.supervisor_model = ScriptedChat(turn=supervisor_turn)
        self.worker_model = ScriptedChat(turn=worker_turn)
        worker_llm = self.worker_model.bind_tools([lookup_price])

        async def worker_node(state: MessagesState) -> dict[str, Any]:
            prompt = SystemMessage(WORKER_PROMPT.format(brand_name="Northwind Coffee"))
            return {"messages": [await worker_llm.ainvoke([prompt, *state["messages"]])]}

        worker = StateGraph(MessagesState)
        worker.add_node("model", worker_node)
        worker.add_node("tools", ToolNode([lookup_price]))
        worker.add_edge(START, "model")
        worker.add_conditional_edges("model", tools_condition, ["tools", END])
        worker.add_edge("tools", "model")
        self.worker = worker.compile(name="worker")

        delegate_tools = [
            {
                "name": f"ask_{name}",
                "description": description,
                "parameters": {"type": "object", "properties": {"task": {"type": "string"}}},
            }
            for name, description in (("worker", WORKER_DESCRIPTION), ("writer", WRITER_DESCRIPTION))
        ]
        supervisor_llm = self.supervisor_model.bind_tools(delegate_tools, tool_choice="required")
        system = SystemMessage("Delegate every request to an agent.")

        async def supervisor_node(state: MessagesState) -> dict[str, Any]:
            return {"messages": [await supervisor_llm.ainvoke([system, *state["messages"]])]}

        async def delegate(state: MessagesState) -> dict[str, Any]:
            results = []
            for call in state["messages"][-1].tool_calls:  # type: ignore[union-attr]
                out = await self.worker.ainvoke({"messages": [HumanMessage(call["args"]["task"])]})
                results.append(ToolMessage(out["messages"][-1].content, tool_call_id=call["id"]))
            return {"messages": results}

        graph = StateGraph(MessagesState)
        graph.add_node("supervisor", supervisor_node)
        graph.add_node("delegate", delegate)
        graph.add_edge(START, "supervisor")
        graph.add_conditional_edges("supervisor", tools_condition, {"tools": "delegate", END: END})
        graph.add_edge("delegate", "supervisor")
        self.graph = graph.compile(name="supervisor")

    async def supervisor_round_trip(self, request: str) -> str:
        out = await self.graph.ainvoke({"messages": [HumanMessage(request)]})
        answer = next(m for m in reversed(out["messages"]) if isinstance(m, ToolMessage))
        return str(answer.content)

    async def direct_round_trip(self, request: str) -> str:
        out = await self.worker.ainvoke({"messages": [HumanMessage(request)]})
        return str(out["messages"][-1].content)


# --------------------------------------------------------------------------------------------
# CrewAI, hierarchical
# --------------------------------------------------------------------------------------------
def crewai_side(workdir: Path) -> Any | None:
    """A hierarchical crew (manager -> worker -> tool -> answer) on scripted LLMs, or None."""
    try:
        import crewai
        from crewai.llms.base_llm import BaseLLM
        from crewai.tools import BaseTool as CrewTool
    except ImportError:
        return None
    os.environ.setdefault("XDG_DATA_HOME", str(workdir / "xdg-data"))
    # CrewAI warns on every call that it estimates tokens (4 characters each): it still does the work.
    logging.getLogger("crewai.llms.base_llm").setLevel(logging.ERROR)
    os.environ.setdefault("CREWAI_STORAGE_DIR", "brandcrew-bench")

    class ScriptedCrewLlm(BaseLLM):
        role: str = "worker"
        calls: int = 0

        def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
            self.calls += 1
            last = messages if isinstance(messages, str) else str(messages[-1]["content"])
            text = messages if isinstance(messages, str) else " ".join(str(m["content"]) for m in messages)
            has_result = "Observation:" in text and "Current Task" not in last
            if self.role == "manager":
                if has_result:
                    return f"Thought: I now know the final answer\nFinal Answer: {ANSWER}"
                return (
                    "Thought: delegate\nAction: Delegate work to coworker\n"
                    f'Action Input: {{"task": "{TASK}", "context": "a customer asks", "coworker": "Worker"}}'
                )
            if has_result:
                return f"Thought: I now know the final answer\nFinal Answer: {ANSWER}"
            return 'Thought: look it up\nAction: lookup_price\nAction Input: {"product": "Guji"}'

        def supports_function_calling(self) -> bool:
            return False

    class LookupPrice(CrewTool):
        name: str = "lookup_price"
        description: str = "Look up a product's price in the catalogue."

        def _run(self, product: str) -> str:
            return lookup_price_impl(product)

    worker_llm = ScriptedCrewLlm(model="scripted-worker")
    manager_llm = ScriptedCrewLlm(model="scripted-manager", role="manager")
    worker = crewai.Agent(
        role="Worker",
        goal=WORKER_DESCRIPTION,
        backstory="You know the catalogue.",
        llm=worker_llm,
        tools=[LookupPrice()],
        allow_delegation=False,
    )
    task = crewai.Task(description="{request}", expected_output="the answer")
    crew = crewai.Crew(
        agents=[worker], tasks=[task], process=crewai.Process.hierarchical, manager_llm=manager_llm
    )

    from crewai.events.event_bus import crewai_event_bus

    def round_trip(request: str) -> str:
        answer = str(crew.kickoff(inputs={"request": request}).raw)
        # Kickoff returns before CrewAI's event handlers (its own threads) are done; they are part of
        # the crew's round trip, and left running they would slow whichever contender runs next.
        crewai_event_bus.flush()
        return answer

    round_trip.llms = (manager_llm, worker_llm)  # type: ignore[attr-defined]
    return round_trip


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------
async def _timed(fn: Callable[[], Any], wall: list[float], cpu: list[float]) -> Any:
    """Await `fn()`, adding its wall time and the process's CPU time (every thread) in ms."""
    started, started_cpu = time.perf_counter(), time.process_time()
    result = await fn()
    wall.append((time.perf_counter() - started) * 1000)
    cpu.append((time.process_time() - started_cpu) * 1000)
    return result


async def run(rounds: int, warmup: int, workdir: Path) -> dict[str, Any]:
    """Interleave the contenders' round trips; return the timings (ms) and checks."""
    brandcrew = BrandcrewSide(workdir)
    langgraph = LangGraphSide()
    crew = crewai_side(workdir)
    keys = ("bc_llm", "bc_fast", "lg_sup", "lg_direct", "crewai")
    times: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}
    contenders: list[tuple[str, Callable[[], Any]]] = [
        ("bc_llm", lambda: brandcrew.round_trip(VAGUE_REQUEST)),
        ("bc_fast", lambda: brandcrew.round_trip(CLEAR_REQUEST)),
        ("lg_sup", lambda: langgraph.supervisor_round_trip(VAGUE_REQUEST)),
        ("lg_direct", lambda: langgraph.direct_round_trip(CLEAR_REQUEST)),
    ]
    blocks = [contenders]
    if crew is not None:
        blocks.append([("crewai", lambda: asyncio.to_thread(crew, VAGUE_REQUEST))])
    for block in blocks:
        for i in range(warmup + rounds):
            for key, fn in block:
                wall_sink, cpu_sink = (times[key], cpu[key]) if i >= warmup else ([], [])
                answer = await _timed(fn, wall_sink, cpu_sink)
                assert answer == ANSWER, (key, answer)
    total = warmup + rounds
    calls = {
        "brandcrew": len(brandcrew.llm.calls),
        "langgraph": langgraph.supervisor_model.calls + langgraph.worker_model.calls,
        "crewai": sum(llm.calls for llm in crew.llms) if crew is not None else None,
    }
    assert calls["brandcrew"] == total * (4 + 2), calls
    assert calls["langgraph"] == total * (4 + 2), calls
    assert calls["crewai"] in (None, total * 4), calls
    rows = brandcrew.ledger_rows()
    assert rows == calls["brandcrew"], f"one ledger row per model call: {rows} rows, {calls}"
    return {"times": times, "cpu": cpu, "ledger_rows": rows, "model_calls": calls}


def _ms(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def report(result: dict[str, Any], rounds: int) -> dict[str, Any]:
    """Print the table; return the figures."""
    times = result["times"]
    med = {k: _ms(v) for k, v in times.items()}
    cpu = {k: _ms(v) for k, v in result["cpu"].items()}
    rows = []
    labels = {
        "bc_llm": ("brandcrew, supervisor model path", "4 / 1", "lg_sup"),
        "lg_sup": ("LangGraph hand-written supervisor", "4 / 1", None),
        "crewai": ("CrewAI hierarchical crew", "4 / 1", "lg_sup"),
        "bc_fast": ("brandcrew, fast-router path", "2 / 1", "lg_direct"),
        "lg_direct": ("LangGraph worker subgraph alone", "2 / 1", None),
    }
    for key, (label, work, base) in labels.items():
        if med[key] is None:
            rows.append([label, work, "n/a", "n/a", "n/a", "n/a", "n/a"])
            continue
        p90 = percentile(times[key], 90)
        ratio = _ratio(med[key], med[base]) if base else 1.0
        cpu_ratio = _ratio(cpu[key], cpu[base]) if base else 1.0
        rows.append(
            [
                label,
                work,
                f"{med[key]:.2f} ms",
                f"{p90:.2f} ms",
                f"{ratio:.2f}x",
                f"{cpu[key]:.2f} ms",
                f"{cpu_ratio:.2f}x",
            ]
        )
    print_table(
        f"Round trip on zero-latency scripted models, median of {rounds} rounds "
        "(ratios against the LangGraph row of the same path)",
        ["contender", "model/tool calls", "wall", "wall p90", "wall ratio", "CPU", "CPU ratio"],
        rows,
    )
    console.print(
        f"    brandcrew wrote {result['ledger_rows']} cost-ledger rows (one per model call) and reserved and "
        "settled a run budget for each call; the baselines keep no ledger and no budget."
    )
    return {
        "roundtrip_ms": med["bc_llm"],
        "fast_roundtrip_ms": med["bc_fast"],
        "langgraph_ms": med["lg_sup"],
        "langgraph_direct_ms": med["lg_direct"],
        "crewai_ms": med["crewai"],
        "ratio_vs_langgraph": _ratio(med["bc_llm"], med["lg_sup"]),
        "ratio_fast_vs_langgraph": _ratio(med["bc_fast"], med["lg_direct"]),
        "ratio_vs_crewai": _ratio(med["bc_llm"], med["crewai"]),
        "roundtrip_cpu_ms": cpu["bc_llm"],
        "langgraph_cpu_ms": cpu["lg_sup"],
        "crewai_cpu_ms": cpu["crewai"],
        "ratio_cpu_vs_langgraph": _ratio(cpu["bc_llm"], cpu["lg_sup"]),
        "rounds": rounds,
        "ledger_rows": result["ledger_rows"],
    }


def profile_brandcrew(rounds: int, workdir: Path) -> None:
    """Print where brandcrew's supervisor-path round trip spends its time (needs pyinstrument)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: pip install pyinstrument") from None

    async def go() -> None:
        side = BrandcrewSide(workdir)
        for _ in range(5):
            await side.round_trip(VAGUE_REQUEST)
        profiler = Profiler(interval=0.0002, async_mode="enabled")
        with profiler:
            for _ in range(rounds):
                await side.round_trip(VAGUE_REQUEST)
        console.print(profiler.output_text(unicode=True, color=False, show_all=False))

    asyncio.run(go())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its table (and the JSON line with --json); return the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile brandcrew's path with pyinstrument")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bc-bench-") as tmp:
        workdir = Path(tmp)
        if args.profile:
            profile_brandcrew(args.rounds, workdir / "profile")
        result = asyncio.run(run(args.rounds, args.warmup, workdir))
    figures = report(result, args.rounds)
    if args.json:
        emit_json(figures)
    return figures


if __name__ == "__main__":
    main()
