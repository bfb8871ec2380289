"""`brandcrew ...`: the command-line face of the framework (the server is the other; neither holds logic)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from brandcrew._alerts_cli import alerts_app
from brandcrew._autopilot_cli import autopilot_app
from brandcrew.errors import BrandcrewError

app = typer.Typer(help="brandcrew: run a brand's social media with AI agents.", no_args_is_help=True)
budget_app = typer.Typer(
    help="Spending caps per workspace (day, month), campaign and run.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
models_app = typer.Typer(help="Model routing.", no_args_is_help=True)
connectors_app = typer.Typer(help="Social platforms.", no_args_is_help=True)
agents_app = typer.Typer(help="The agents the supervisor routes to.", no_args_is_help=True)
tools_app = typer.Typer(help="The tools agents can call.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluations on labelled data (evals/ in the repository).", no_args_is_help=True)
app.add_typer(budget_app, name="budget")
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
app.add_typer(connectors_app, name="connectors")
app.add_typer(eval_app, name="eval")
app.add_typer(agents_app, name="agents")
app.add_typer(tools_app, name="tools")
app.add_typer(autopilot_app, name="autopilot")
app.add_typer(alerts_app, name="alerts")

# Wide enough for the cost tables when output is piped (rich assumes 80 columns then).
console = Console(width=None if sys.stdout.isatty() else 130)
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one line holding a JSON object.")]


def _fail(exc: BrandcrewError) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


def _usd(value: Decimal | None) -> str:
    return "unpriced" if value is None else f"${value:.6f}"


@app.command()
def demo(
    as_json: JsonOpt = False,
    workspace: Annotated[str, typer.Option(help="Brand profile in configs/workspaces/")] = "demo",
) -> None:
    """Run the main job on embedded defaults (SQLite, offline model) and print what it cost."""
    from brandcrew._demo import run_demo

    try:
        figures = asyncio.run(run_demo(console, workspace=workspace))
    except BrandcrewError as exc:
        _fail(exc)
    if as_json:
        print(json.dumps(figures, default=str))


@app.command()
def chat(
    workspace: Annotated[str, typer.Option(help="Brand profile in configs/workspaces/")] = "demo",
    thread: Annotated[str | None, typer.Option(help="Resume a conversation by its id.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Send one message and exit.")] = None,
    auto_approve: Annotated[bool, typer.Option(help="Approve tool calls without asking (scripts).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Talk to your social media team; conversations persist and resume with --thread."""
    import uuid

    from brandcrew._chat import chat_turn, prepare_workspace, print_turn
    from brandcrew.graphs.team import open_team

    thread_id = thread or f"chat-{uuid.uuid4().hex[:8]}"

    def approve(request: dict[str, Any]) -> dict[str, Any]:
        if auto_approve:
            return {"approved": True, "reviewer": "cli"}
        console.print(
            f"[yellow]approval needed[/yellow]: {request.get('agent')} wants {request.get('tool')} "
            f"with {json.dumps(request.get('args'), default=str)}"
        )
        ok = typer.confirm("approve?", default=False)
        return {"approved": ok, "reviewer": "cli", "reason": None if ok else "rejected in chat"}

    async def session() -> None:
        async with open_team(warm=not message) as team:
            workspace_id = prepare_workspace(team, workspace)
            if not message:
                console.print(
                    f"[bold]brandcrew chat[/bold] - thread {thread_id} (resume with --thread {thread_id})"
                )
            pending = [message] if message else []
            while True:
                text = (
                    pending.pop(0) if pending else (None if message else typer.prompt("you", default="/quit"))
                )
                if text is None or text.strip() in ("/quit", "/exit"):
                    return
                turn = await chat_turn(
                    team, workspace_id=workspace_id, thread_id=thread_id, text=text, approve=approve
                )
                if as_json:
                    print(json.dumps({**turn, "thread_id": thread_id}, default=str))
                else:
                    print_turn(console, turn)

    try:
        asyncio.run(session())
    except BrandcrewError as exc:
        _fail(exc)


@app.command()
def costs(
    by: Annotated[
        str, typer.Option(help="Comma-separated: workspace,campaign,run,agent,model,provider,step,day")
    ] = "agent,model",
    workspace: Annotated[str | None, typer.Option()] = None,
    campaign: Annotated[str | None, typer.Option()] = None,
    run: Annotated[str | None, typer.Option()] = None,
    agent: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    days: Annotated[int | None, typer.Option(help="Only the last N days.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Spend and tokens from the cost ledger, grouped as asked."""
    from brandcrew.llm.ledger import GROUP_BY, CostFilter, CostLedger
    from brandcrew.store.engine import get_engine

    groups = [g.strip() for g in by.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUP_BY]
    if unknown:
        console.print(f"[red]error:[/red] cannot group by {unknown}; choose from {', '.join(GROUP_BY)}")
        raise typer.Exit(2)
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    flt = CostFilter(
        workspace_id=workspace, campaign_id=campaign, run_id=run, agent=agent, model=model, since=since
    )
    rows = CostLedger(get_engine()).totals(groups, flt)  # type: ignore[arg-type]
    table = Table(title="LLM spend (cost ledger)", title_justify="left")
    for g in groups:
        table.add_column(g)
    for name in ("calls", "cache hits", "input tok", "cached tok", "output tok", "USD", "saved USD"):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            *[r.group[g] or "-" for g in groups],
            str(r.calls),
            str(r.cache_hits),
            str(r.input_tokens),
            str(r.cache_read_tokens),
            str(r.output_tokens),
            f"{r.cost_usd:.6f}" + (f" (+{r.unpriced_calls} unpriced)" if r.unpriced_calls else ""),
            f"{r.saved_usd:.6f}",
        )
    console.print(table)
    if as_json:
        print(json.dumps({"rows": [r.model_dump(mode="json") for r in rows]}))


@budget_app.command("set")
def budget_set(
    kind: Annotated[str, typer.Argument(help="workspace_day | workspace_month | campaign | run")],
    scope_id: Annotated[str, typer.Argument(help="The workspace, campaign or run id.")],
    usd: Annotated[str, typer.Argument(help="Cap in USD, or 'none' to remove it.")],
) -> None:
    """Set or remove a spending cap."""
    from brandcrew.llm.limits import BUDGET_KINDS, BudgetLimits
    from brandcrew.store.engine import get_engine

    if kind not in BUDGET_KINDS:
        console.print(
            f"[red]error:[/red] unknown budget kind {kind!r}; choose from {', '.join(BUDGET_KINDS)}"
        )
        raise typer.Exit(2)
    try:
        value = None if usd.lower() == "none" else Decimal(usd)
    except ArithmeticError:
        console.print(f"[red]error:[/red] {usd!r} is not an amount in USD")
        raise typer.Exit(2) from None
    if value is not None and value < 0:
        console.print("[red]error:[/red] a cap cannot be negative")
        raise typer.Exit(2)
    BudgetLimits(get_engine()).set(kind, scope_id, value)
    console.print(f"{kind} {scope_id}: {'no cap' if value is None else f'${value}'}")


@budget_app.command("show")
def budget_show(as_json: JsonOpt = False) -> None:
    """Every cap with what is spent and reserved against it now."""
    from sqlmodel import Session, select

    from brandcrew.llm._cost import from_nanos, usd_text
    from brandcrew.llm.limits import budget_key
    from brandcrew.llm.runtime import get_runtime
    from brandcrew.store.tables import BudgetLimit

    runtime = get_runtime()
    with Session(runtime.engine) as session:
        limits = session.exec(select(BudgetLimit)).all()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for lim in limits:
        key = budget_key(lim.scope, lim.scope_id, now)  # type: ignore[arg-type]
        status = {s.key: s for s in runtime.budgets.status([key])}.get(key)
        rows.append(
            {
                "scope": lim.scope,
                "id": lim.scope_id,
                "limit_usd": usd_text(from_nanos(lim.limit_nanousd)),
                "spent_usd": usd_text(from_nanos(status.spent_nanos if status else 0)),
                "reserved_usd": usd_text(from_nanos(status.reserved_nanos if status else 0)),
            }
        )
    table = Table(title="Budgets", title_justify="left")
    for name in ("scope", "id", "limit_usd", "spent_usd", "reserved_usd"):
        table.add_column(name)
    for row in rows:
        table.add_row(*row.values())
    console.print(table)
    if as_json:
        print(json.dumps({"budgets": rows}))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the configured database to the latest schema."""
    from brandcrew.settings import get_settings
    from brandcrew.store.engine import get_engine

    get_engine()
    console.print(f"database at {get_settings().resolved_database_url()} is up to date")


@models_app.command("route")
def models_route(
    agent: Annotated[str | None, typer.Option()] = None,
    step: Annotated[str | None, typer.Option(help="route|classify|extract|write|plan|analyze")] = None,
    prompt_tokens: Annotated[int, typer.Option()] = 1000,
    max_output_tokens: Annotated[int, typer.Option()] = 1024,
    tools: Annotated[bool, typer.Option(help="The step needs tool calling.")] = False,
    assume_keys: Annotated[bool, typer.Option(help="Pretend every provider key is set.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show which model the router would pick for a step, and why."""
    from brandcrew.llm.config import load_models_config
    from brandcrew.llm.prices import PriceTable
    from brandcrew.llm.router import ModelRouter, RouteRequest
    from brandcrew.settings import get_settings

    try:
        config = load_models_config(get_settings().configs_dir / "models.yaml")
        router = ModelRouter(
            config,
            PriceTable(config.price_overrides()),
            has_credentials=(lambda m, p: True) if assume_keys else None,
        )
        decision = router.decide(
            RouteRequest(
                agent=agent,
                step=step,
                prompt_tokens=prompt_tokens,
                max_output_tokens=max_output_tokens,
                needs_tools=tools,
            )
        )
    except BrandcrewError as exc:
        _fail(exc)
        return
    console.print(
        f"[bold]{decision.chosen.model}[/bold] ({decision.chosen.provider}, tier {decision.chosen.tier})"
    )
    console.print(f"reason: {decision.reason}")
    console.print(f"fallbacks: {', '.join(c.model for c in decision.fallbacks) or '-'}")
    if as_json:
        print(json.dumps(decision.model_dump(mode="json")))


@connectors_app.command("list")
def connectors_list(as_json: JsonOpt = False) -> None:
    """Every platform brandcrew knows, and plainly whether it can publish there."""
    from brandcrew.connectors.registry import list_connectors

    infos = list_connectors()
    table = Table(title="Platforms", title_justify="left")
    for name in ("platform", "name", "can publish", "via", "text limit", "posts/day"):
        table.add_column(name)
    for info in infos:
        table.add_row(
            info.platform,
            info.name,
            "yes" if info.can_publish else "no",
            info.via,
            info.text_limit,
            str(info.daily_post_quota or "-"),
        )
    console.print(table)
    if as_json:
        print(json.dumps([i.model_dump() for i in infos]))


@app.command()
def worker(
    executor_id: Annotated[
        str, typer.Option(help="Stable id of this worker (DBOS recovers its own work).")
    ] = "worker-1",
    poll_s: Annotated[float, typer.Option(help="Dispatcher poll interval in seconds.")] = 0.1,
    concurrency: Annotated[int, typer.Option(help="Publish workflows run at once in this process.")] = 32,
    lease_s: Annotated[
        float, typer.Option(help="Age after which another worker's claim is presumed dead.")
    ] = 120.0,
    retry_base_s: Annotated[float, typer.Option(help="First back-off after a transient failure.")] = 30.0,
    unknown_grace_s: Annotated[
        float, typer.Option(help="Wait before trusting a search that did not find an outcome-unknown post.")
    ] = 30.0,
    runs: Annotated[
        bool, typer.Option("--runs/--no-runs", help="Also execute runs of the runs API (agent runs).")
    ] = False,
) -> None:
    """Run a publishing worker until SIGTERM/SIGINT (start several against PostgreSQL to scale out)."""
    from brandcrew.jobs.publisher import PublisherPolicy
    from brandcrew.jobs.runner import run_worker

    policy = PublisherPolicy(lease_s=lease_s, retry_base_s=retry_base_s, unknown_grace_s=unknown_grace_s)
    asyncio.run(
        run_worker(executor_id=executor_id, poll_s=poll_s, concurrency=concurrency, policy=policy, runs=runs)
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Server processes, each with its own socket on the port (SO_REUSEPORT).")
    ] = 1,
    log_json: Annotated[
        bool, typer.Option("--log-json/--log-text", help="JSON log lines with request ids.")
    ] = True,
    executor: Annotated[
        bool,
        typer.Option(
            "--executor/--no-executor",
            help="Execute runs in this process (default), or leave them to `brandcrew worker --runs`.",
        ),
    ] = True,
) -> None:
    """Serve the runs API, the OpenAI-compatible API, the REST API and the web page."""
    import os

    import uvicorn

    if not executor:  # read by the app's settings in every uvicorn worker process
        os.environ["BRANDCREW_RUNS_EXECUTOR"] = "false"
        from brandcrew.settings import get_settings

        get_settings.cache_clear()

    from brandcrew.server.logs import configure_logging

    os.environ["BRANDCREW_LOG_FORMAT"] = "json" if log_json else "text"  # for every worker process
    configure_logging(json_lines=log_json)
    if workers > 1:
        from brandcrew.server.processes import supervise

        supervise(host, port, workers)
        return
    uvicorn.run(
        "brandcrew.server.main:app",
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@agents_app.command("list")
def agents_list(as_json: JsonOpt = False) -> None:
    """Every agent: name, tier, tools and the description the supervisor routes on."""
    from brandcrew.agents import default_agents
    from brandcrew.settings import get_settings

    try:
        specs = default_agents(get_settings().configs_dir).all()
    except BrandcrewError as exc:
        _fail(exc)
        return
    if as_json:
        print(
            json.dumps(
                [
                    {"name": s.name, "description": s.description, "tier": s.tier, "tools": s.tools}
                    for s in specs
                ]
            )
        )
        return
    table = Table(title="Agents", title_justify="left", show_lines=True)
    for name in ("name", "tier", "tools", "description"):
        table.add_column(name)
    for s in specs:
        table.add_row(s.name, s.tier, ", ".join(s.tools), s.description)
    console.print(table)


@agents_app.command("warm")
def agents_warm() -> None:
    """Fit the fast router now and keep it for later processes (a deployment's build step)."""
    from brandcrew.agents import default_agents
    from brandcrew.agents.intent import fit_cache_dir
    from brandcrew.graphs.supervisor import default_router
    from brandcrew.settings import get_settings

    started = time.perf_counter()
    try:
        router = default_router(default_agents(get_settings().configs_dir))
    except BrandcrewError as exc:
        _fail(exc)
        return
    encoder = router.encoder
    where = fit_cache_dir()
    console.print(
        f"fast router ready for {len(router.agents)} agents (meaning read with: {encoder}) in "
        f"{time.perf_counter() - started:.1f}s; "
        + (f"kept in {where}" if where else "not kept (BRANDCREW_CACHE_DIR is empty)")
    )


@tools_app.command("list")
def tools_list(as_json: JsonOpt = False) -> None:
    """Every tool: scopes, effect, approval, and which agents use it."""
    from brandcrew.agents import default_agents
    from brandcrew.settings import get_settings
    from brandcrew.tools.decorator import BrandcrewTool
    from brandcrew.tools.registry import default_tools

    configs = get_settings().configs_dir
    try:
        registry = default_tools(configs)
        users: dict[str, list[str]] = {}
        for spec in default_agents(configs).all():
            for t in registry.for_agent(spec):
                users.setdefault(t.name, []).append(spec.name)
    except BrandcrewError as exc:
        _fail(exc)
        return
    rows: list[dict[str, Any]] = []
    for t in registry.all():
        meta = t if isinstance(t, BrandcrewTool) else None
        rows.append(
            {
                "name": t.name,
                "description": (t.description or "").split("\n")[0],
                "scopes": sorted(meta.scopes) if meta else [],
                "effect": meta.effect if meta else "unknown",
                "needs_approval": bool(meta.needs_approval) if meta else False,
                "agents": users.get(t.name, []),
            }
        )
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="Tools", title_justify="left")
    for name in ("name", "scopes", "effect", "approval", "agents", "description"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            r["name"],
            ",".join(r["scopes"]),
            r["effect"],
            "yes" if r["needs_approval"] else "-",
            ", ".join(r["agents"]),
            r["description"],
        )
    console.print(table)


def _evals() -> None:
    """Make the repository's `evals` package importable (it is not part of the installed wheel)."""
    import importlib.util

    if importlib.util.find_spec("evals") is None:
        root = Path(__file__).resolve().parent.parent
        if (root / "evals" / "__init__.py").is_file():
            sys.path.insert(0, str(root))
        else:
            console.print(
                "[red]error:[/red] evaluations run from a checkout of the brandcrew repository (evals/)"
            )
            raise typer.Exit(2)


DataOpt = Annotated[
    str | None, typer.Option("--data", help="Score another folder laid out like the shared one.")
]


@eval_app.command("crisis")
def eval_crisis(data: DataOpt = None, as_json: JsonOpt = False) -> None:
    """NAB standard score of the crisis detector on the Twitter volume series, and false alerts per day."""
    _evals()
    from evals.crisis import main as crisis_main

    crisis_main(Path(data) if data else None, as_json=as_json)


@eval_app.command("routing")
def eval_routing(
    data: Annotated[
        str | None, typer.Option("--data", help="JSONL of {request, agents} to score instead.")
    ] = None,
    misses: Annotated[bool, typer.Option("--misses", help="Also list every misrouted request.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy per agent of routing marketer requests (fast router, then the supervisor model)."""
    _evals()
    from evals.routing import main as routing_main

    routing_main(Path(data) if data else None, as_json=as_json, show_misses=misses)


@eval_app.command("injection")
def eval_injection(
    data: Annotated[
        str | None, typer.Option("--data", help="JSONL of attack messages to score instead.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Prompt-injection attacks through the inbox and listening paths to the engagement, crisis and
    content agents (offline and an obedient scripted model): unauthorized effects, drafts changed."""
    _evals()
    from evals.injection import main as injection_main

    injection_main(Path(data) if data else None, as_json=as_json)


@eval_app.command("sentiment")
def eval_sentiment(
    data: DataOpt = None,
    as_json: JsonOpt = False,
    model: Annotated[str | None, typer.Option(help="A local transformers model folder to score too.")] = None,
) -> None:
    """Macro-averaged recall of each sentiment analyzer on the TweetEval split."""
    _evals()
    from evals.sentiment import main as sentiment_main

    sentiment_main(
        Path(data) if data else None, as_json=as_json, transformers_model=Path(model) if model else None
    )


def main() -> None:  # pragma: no cover - console entry point
    """Console entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
