"""Running a campaign on autopilot: cycles as DBOS workflows, publishing through the outbox worker.

Each cycle runs the cycle graph (brandcrew.graphs.autopilot) inside a DBOS workflow whose id is
`autopilot-<campaign>-<cycle>`, so a cycle runs once however many processes ask for it, and a
process killed mid-cycle resumes it on restart (DBOS recovers the workflow; the graph resumes from
its last checkpoint, written with `durability="sync"`). Between cycles, time passes: on the sandbox a
simulated clock jumps from event to event (due posts, metric collections), so a 14-day campaign
runs in minutes; on real platforms the driver waits for real time. Everything the driver knows is
in the database (the run row, the sandbox clock, the outbox), so a restart continues where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from brandcrew.agents import default_agents
from brandcrew.connectors.sandbox import SandboxWorld
from brandcrew.graphs.autopilot import build_autopilot_graph
from brandcrew.graphs.checkpoints import open_checkpointer
from brandcrew.jobs._dbos import launch_dbos
from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.jobs.worker import PublishWorker, WorkerOptions
from brandcrew.llm.context import llm_context
from brandcrew.llm.ledger import CostFilter
from brandcrew.llm.runtime import get_runtime
from brandcrew.services import analytics
from brandcrew.services.autopilot.records import (
    campaign_id_for,
    ensure_run,
    get_run,
    set_run_status,
)
from brandcrew.services.autopilot.spec import CampaignSpec, load_campaign
from brandcrew.services.brand import load_brand_profile
from brandcrew.services.container import Services
from brandcrew.services.workspaces import connect_sandbox_world, ensure_workspace, get_workspace
from brandcrew.settings import Settings, get_settings
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import OutboxEntry, as_utc, utcnow
from brandcrew.store.tables.autopilot import AutopilotCycle
from brandcrew.tools.context import ToolContext, ToolPolicy, with_tool_context

log = logging.getLogger("brandcrew.autopilot")
MEASURE_EVERY = timedelta(hours=6)
SETTLE_AFTER_END = timedelta(days=1)
"""After the last cycle, metrics are collected once more a day later (late engagement counts)."""


class Progress(BaseModel):
    """What the driver reports as it goes."""

    campaign_id: str
    cycle: int
    cycles: int
    now: datetime
    posts_published: int
    spend_usd: Decimal
    status: str
    note: str = ""


class RunSummary(BaseModel):
    """The outcome of `run_autopilot`."""

    campaign_id: str
    workspace_id: str
    status: str
    paused_reason: str | None
    cycles_done: int
    cycles: int
    posts_published: int
    posts_failed: int
    posts_open: int
    waiting_approval: int
    spend_usd: Decimal
    budget_usd: Decimal


@dataclass
class _Driver:
    """One process's handle on a campaign run (the DBOS step below finds it here)."""

    spec: CampaignSpec
    campaign_id: str
    workspace_id: str
    services: Services
    graph: Any
    policy: ToolPolicy = field(
        default_factory=lambda: ToolPolicy(allowed_scopes=frozenset({"read", "write"}))
    )
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def config(self, cycle: int) -> Any:
        thread = f"autopilot:{self.campaign_id}:{cycle}"
        ctx = ToolContext(
            services=self.services,
            workspace_id=self.workspace_id,
            run_id=self.campaign_id,
            thread_id=thread,
            agent="autopilot",
            policy=self.policy,
        )
        return with_tool_context(ctx, {"configurable": {"thread_id": thread}})

    async def run_cycle(self, cycle: int) -> dict[str, Any]:
        """Run (or resume, or just report) one cycle's graph, to its end or to a person's review."""
        # One runner per thread at a time: DBOS may recover a cycle while this process also asks
        # for it; two runs on one LangGraph thread would fork its checkpoints.
        async with self._lock:
            config = self.config(cycle)
            for _ in range(10):
                snapshot = await self.graph.aget_state(config)
                # Done means no task left at all. `snapshot.next` is not that: it leaves out tasks
                # whose writes were saved before a crash hit ahead of the step's checkpoint, and
                # those writes still have to be applied and the graph carried on from them.
                if snapshot.values and not snapshot.tasks:
                    return _outcome(snapshot.values, waiting=False)
                if snapshot.values and any(t.interrupts for t in snapshot.tasks):
                    return _outcome(snapshot.values, waiting=True)
                inputs: dict[str, Any] | None = None
                if not snapshot.values:
                    inputs = {"cycle": cycle, "tuning": self._previous_tuning(cycle)}
                with llm_context(
                    workspace_id=self.workspace_id, campaign_id=self.campaign_id, run_id=self.campaign_id
                ):
                    await self.graph.ainvoke(inputs, config, durability="sync")
            raise RuntimeError(f"cycle {cycle} of {self.campaign_id} did not finish after 10 resumes")

    def _previous_tuning(self, cycle: int) -> dict[str, Any] | None:
        if cycle == 0:
            return None
        with Session(self.services.engine) as session:
            row = session.get(AutopilotCycle, (self.campaign_id, cycle - 1))
        return (row.plan or {}).get("tuning") if row is not None else None


def _outcome(values: dict[str, Any], *, waiting: bool) -> dict[str, Any]:
    return {
        "scheduled": len(values.get("scheduled") or []),
        "review": len(values.get("review") or []),
        "paused": values.get("paused") or "",
        "held": values.get("held") or "",
        "waiting": waiting,
    }


_drivers: dict[str, _Driver] = {}


@DBOS.step(name="brandcrew.autopilot.run_cycle")
async def _cycle_step(campaign_id: str, cycle: int) -> dict[str, Any]:
    # DBOS recovers a crashed process's cycle as soon as it launches, which can be before this
    # process has opened the campaign again: wait for it rather than fail the recovered cycle.
    for _ in range(1200):
        driver = _drivers.get(campaign_id)
        if driver is not None:
            return await driver.run_cycle(cycle)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"campaign {campaign_id} is not being driven by this process")


@DBOS.workflow(name="brandcrew.autopilot.cycle")
async def cycle_workflow(campaign_id: str, cycle: int) -> dict[str, Any]:
    """One autopilot cycle, durable: its id makes it run once per campaign and cycle."""
    return await _cycle_step(campaign_id, cycle)


TickHook = Callable[[Services, str, datetime], Awaitable[None]]
"""Called at every simulated event with (services, workspace_id, now): e.g. the listening poll."""


@dataclass(kw_only=True)
class AutopilotOptions:
    """How to run a campaign."""

    simulate: bool = True
    """Run on the sandbox with a simulated clock (the default); False: real platforms, real time."""
    days: int | None = None
    """Simulate only this many days of the campaign (default: all of it)."""
    executor_id: str = "local"
    on_progress: Callable[[Progress], None] | None = None
    hooks: list[TickHook] = field(default_factory=list)
    stop_after_cycles: int | None = None
    """Stop (still running, resumable) after this many cycles in this call: tests and demos."""
    publish: bool = True
    """Publish due posts from this process; False where `brandcrew worker` publishes them."""


def _spend(campaign_id: str) -> Decimal:
    rows = get_runtime().ledger.totals(by=["campaign"], flt=CostFilter(campaign_id=campaign_id))
    return sum((r.cost_usd for r in rows), Decimal(0))


def _counts(session: Session, workspace_id: str, campaign_id: str) -> dict[str, int]:
    from brandcrew.store.tables import Post

    post_ids = select(Post.id).where(Post.campaign_id == campaign_id)
    rows = session.exec(
        select(OutboxEntry.status, func.count())
        .where(OutboxEntry.workspace_id == workspace_id, col(OutboxEntry.post_id).in_(post_ids))
        .group_by(col(OutboxEntry.status))
    ).all()
    return {status: int(n) for status, n in rows}


def _prepare(
    spec: CampaignSpec, source: str, settings: Settings, options: AutopilotOptions
) -> tuple[Services, str, str, SandboxWorld | None, list[str]]:
    from brandcrew.services.accounts import default_accounts_service
    from brandcrew.store.crypto import load_cipher
    from brandcrew.store.engine import get_engine

    engine = get_engine(settings)
    accounts = default_accounts_service(engine, load_cipher(settings.data_dir))
    brand = load_brand_profile(settings.configs_dir / "workspaces" / f"{spec.workspace}.yaml")
    world: SandboxWorld | None = None
    with session_scope(engine) as session:
        ensure_workspace(session, brand)
        run = ensure_run(
            session, spec, workspace_id=brand.workspace_id, source=source, simulated=options.simulate
        )
        cid = run.campaign_id
    if options.simulate:
        start, _ = spec.cycle_window(0)
        world = SandboxWorld.create(
            engine,
            seed=spec.sandbox_seed,
            brand=brand.name,
            platforms=[p.platform for p in spec.platforms],
            world_id=f"sbx-{cid}"[:64],
            start=start - timedelta(hours=1),
            token_ttl=timedelta(days=400),
        )
        with session_scope(engine) as session:
            workspace = get_workspace(session, brand.workspace_id)
            if workspace.settings.get("sandbox_world") != world.id:
                connect_sandbox_world(session, accounts, workspace_id=brand.workspace_id, world=world)
            run = get_run(session, cid)
            run.world_id = world.id
            session.add(run)
    if spec.listening is not None:
        with session_scope(engine) as session:
            _ensure_query(session, spec, cid, brand.workspace_id)
    if world is not None and spec.sandbox_crisis is not None:
        c = spec.sandbox_crisis
        start = spec.starts_at() + timedelta(days=c.day, hours=c.hour)
        world.schedule_crisis(start, timedelta(hours=c.hours), intensity=c.intensity)
    clock = world.now if world is not None else utcnow
    services = Services.from_settings(settings, engine=engine, accounts=accounts, clock=clock)
    get_runtime().limits.set("campaign", cid, spec.budget_usd)
    with session_scope(engine) as session:
        assets = [_media_asset(session, services, brand.workspace_id, Path(f)) for f in spec.media]
    return services, cid, brand.workspace_id, world, assets


def _media_asset(session: Session, services: Services, workspace_id: str, path: Path) -> str:
    """The workspace's asset for a campaign media file (a worker elsewhere may lack the file itself)."""
    from brandcrew.errors import ConfigError
    from brandcrew.store.tables import MediaAsset

    if path.is_file():
        return services.media.save(
            session, workspace_id=workspace_id, filename=path.name, data=path.read_bytes(), folder="autopilot"
        ).id
    stored = session.exec(
        select(MediaAsset).where(MediaAsset.workspace_id == workspace_id, MediaAsset.filename == path.name)
    ).first()
    if stored is None:
        raise ConfigError(f"campaign media {path} is not on this machine and was never uploaded")
    return stored.id


def _ensure_query(session: Session, spec: CampaignSpec, campaign_id: str, workspace_id: str) -> None:
    from brandcrew.store.tables import ListeningQuery

    assert spec.listening is not None
    name = f"autopilot:{campaign_id}"
    query = session.exec(
        select(ListeningQuery).where(ListeningQuery.workspace_id == workspace_id, ListeningQuery.name == name)
    ).first()
    if query is None:
        query = ListeningQuery(workspace_id=workspace_id, name=name, query=spec.listening.query)
    query.query = spec.listening.query
    query.platforms = [p.platform for p in spec.platforms]
    query.alert_config = dict(spec.listening.alert_config)
    query.is_active = True
    session.add(query)


def listening_hook(spec: CampaignSpec) -> TickHook:
    """Poll the campaign's listening query (at most every `poll_minutes` of simulated time)."""
    from brandcrew.jobs.listening import poll_listening

    assert spec.listening is not None
    every = timedelta(minutes=spec.listening.poll_minutes)
    last: dict[str, datetime] = {}

    async def hook(services: Services, workspace_id: str, now: datetime) -> None:
        if workspace_id in last and now - last[workspace_id] < every:
            return
        last[workspace_id] = now
        await poll_listening(services.engine, workspace_id, now=now, accounts=services.accounts)

    return hook


def _prepare_retrying(
    spec: CampaignSpec, source: str, settings: Settings, options: AutopilotOptions
) -> tuple[Services, str, str, SandboxWorld | None, list[str]]:
    from sqlalchemy.exc import IntegrityError

    # Workers of one campaign starting together race to create the same rows; the loser re-reads.
    for attempt in range(3):
        try:
            return _prepare(spec, source, settings, options)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _voice(spec: CampaignSpec) -> tuple[Any, Any]:
    if spec.voice is None or len(spec.voice.good) < 2:
        return None, None
    from brandcrew.memory.brand_voice import train_brand_voice
    from brandcrew.memory.embedders import default_embedder

    embedder = default_embedder()
    examples = [{"content": t, "is_good": True} for t in spec.voice.good]
    examples += [{"content": t, "is_good": False} for t in spec.voice.bad]
    return train_brand_voice(examples, embedder=embedder), embedder


async def run_autopilot(
    campaign: Path | CampaignSpec,
    *,
    settings: Settings | None = None,
    options: AutopilotOptions | None = None,
) -> RunSummary:
    """Run (or resume) a campaign (a file, or a stored spec) until it ends, is paused, or `options` stop it."""
    settings = settings or get_settings()
    options = options or AutopilotOptions()
    spec = load_campaign(campaign) if isinstance(campaign, Path) else campaign
    source = str(campaign) if isinstance(campaign, Path) else ""
    services, cid, workspace_id, world, assets = await asyncio.to_thread(
        _prepare_retrying, spec, source, settings, options
    )
    voice, embedder = await asyncio.to_thread(_voice, spec)
    # Money reserved by a process that died mid-call is spendable again once its reservation expires.
    released = await asyncio.to_thread(get_runtime().budgets.release_expired)
    if released:
        log.warning("released %d expired budget reservations", released)
    launch_dbos(settings=settings, executor_id=options.executor_id)
    worker: PublishWorker | None = None
    if options.publish:
        publisher = Publisher(
            services.engine, services.accounts, clock=services.clock, policy=PublisherPolicy()
        )
        worker = PublishWorker(publisher, WorkerOptions(poll_s=0.02, max_sleep_s=0.5))
        await worker.start()
    agents = default_agents(settings.configs_dir)
    trends = _trend_source()
    if spec.listening is not None:
        options = dataclasses.replace(options, hooks=[*options.hooks, listening_hook(spec)])
    async with open_checkpointer(settings) as saver:
        graph = build_autopilot_graph(
            spec,
            campaign_id=cid,
            agents=agents,
            voice=voice,
            voice_embedder=embedder,
            trends=trends,
            media=assets,
        ).compile(checkpointer=saver)
        driver = _Driver(
            spec=spec, campaign_id=cid, workspace_id=workspace_id, services=services, graph=graph
        )
        _drivers[cid] = driver
        try:
            await _drive(driver, worker, world, options)
        finally:
            _drivers.pop(cid, None)
    # The run's end: commit its queued settlements and return its unused budget leases.
    await asyncio.to_thread(get_runtime().close)
    return summarize(services, spec, cid, workspace_id)


def _trend_source() -> Callable[[ToolContext], Awaitable[list[dict[str, Any]]]]:
    from brandcrew.tools.builtin.listening import trending_topics

    async def trends(ctx: ToolContext) -> list[dict[str, Any]]:
        result = await trending_topics.ainvoke({"hours": 48, "limit": 5}, with_tool_context(ctx))
        return list(result) if isinstance(result, list) else []

    return trends


async def _drive(
    driver: _Driver, worker: PublishWorker | None, world: SandboxWorld | None, options: AutopilotOptions
) -> None:
    spec, cid, services = driver.spec, driver.campaign_id, driver.services
    last_cycle = spec.cycles
    if options.days is not None:
        last_cycle = min(last_cycle, -(-options.days // spec.cycle_days))
    ran = 0
    while True:
        with session_scope(services.engine) as session:
            run = get_run(session, cid)
            cycle, status = run.next_cycle, run.status
        if status != "running":
            return
        if cycle >= last_cycle:
            break
        if options.stop_after_cycles is not None and ran >= options.stop_after_cycles:
            return
        start, end = spec.cycle_window(cycle)
        await _wait_until(services, world, start)
        with SetWorkflowID(f"autopilot-{cid}-{cycle}"):
            outcome = await cycle_workflow(cid, cycle)
        _report(options, driver, cycle, note=_note(outcome))
        if outcome["paused"]:
            with session_scope(services.engine) as session:
                set_run_status(session, cid, "paused", outcome["paused"])
            return
        if not await _let_time_pass(driver, worker, world, start, end, options):
            return
        with session_scope(services.engine) as session:
            run = get_run(session, cid)
            if run.next_cycle == cycle:
                run.next_cycle = cycle + 1
                run.updated_at = utcnow()
                session.add(run)
        ran += 1
    if last_cycle == spec.cycles:
        _, end = spec.cycle_window(spec.cycles - 1)
        if await _let_time_pass(driver, worker, world, end, end + SETTLE_AFTER_END, options):
            with session_scope(services.engine) as session:
                set_run_status(session, cid, "completed")
    _report(options, driver, last_cycle, note="done")


def _note(outcome: dict[str, Any]) -> str:
    parts = [f"{outcome['scheduled']} scheduled"]
    if outcome["review"]:
        parts.append(f"{outcome['review']} for a person")
    if outcome["held"]:
        parts.append(f"held: {outcome['held']}")
    if outcome["paused"]:
        parts.append(f"paused: {outcome['paused']}")
    return ", ".join(parts)


async def _wait_until(services: Services, world: SandboxWorld | None, when: datetime) -> None:
    if world is not None:
        if world.now() < when:
            # ValueError: another worker of this campaign moved the clock past `when` meanwhile.
            with contextlib.suppress(ValueError):
                await asyncio.to_thread(world.clock.set, when)
        return
    wait = (when - services.clock()).total_seconds()
    if wait > 0:  # real time: sleep; the run row and outbox keep the state if the process dies meanwhile
        await asyncio.sleep(wait)


def _events(
    services: Services, workspace_id: str, start: datetime, end: datetime, *, poll: timedelta | None = None
) -> list[datetime]:
    with Session(services.engine) as session:
        due = session.exec(
            select(OutboxEntry.due_at).where(
                OutboxEntry.workspace_id == workspace_id,
                col(OutboxEntry.status).in_(["pending", "unknown"]),
                col(OutboxEntry.due_at) < end,
            )
        ).all()
    times = {max(as_utc(d) or start, start) for d in due}
    t = start + MEASURE_EVERY
    while t < end:
        times.add(t)
        t += MEASURE_EVERY
    if poll is not None:
        t = start + poll
        while t < end:
            times.add(t)
            t += poll
    times.add(end)
    return sorted(times)


async def _let_time_pass(
    driver: _Driver,
    worker: PublishWorker | None,
    world: SandboxWorld | None,
    start: datetime,
    end: datetime,
    options: AutopilotOptions,
) -> bool:
    """Publish what falls due and measure, until `end`; False when the run was paused meanwhile."""
    services, cid = driver.services, driver.campaign_id
    next_measure = start + MEASURE_EVERY
    spec = driver.spec
    poll = timedelta(minutes=spec.listening.poll_minutes) if spec.listening and world is not None else None
    for when in _events(services, driver.workspace_id, max(start, services.clock()), end, poll=poll):
        with Session(services.engine) as session:
            if get_run(session, cid).status != "running":
                return False
        if when > services.clock():
            await _wait_until(services, world, when)
        if worker is not None:
            await worker.drain(timeout_s=30.0)
        for hook in options.hooks:
            await hook(services, driver.workspace_id, services.clock())
        if services.clock() >= next_measure or when >= end:
            with session_scope(services.engine) as session:
                await analytics.collect_metrics(
                    session, services.accounts, workspace_id=driver.workspace_id, now=services.clock()
                )
            next_measure = services.clock() + MEASURE_EVERY
    return True


def _report(options: AutopilotOptions, driver: _Driver, cycle: int, *, note: str) -> None:
    if options.on_progress is None:
        return
    with Session(driver.services.engine) as session:
        counts = _counts(session, driver.workspace_id, driver.campaign_id)
        status = get_run(session, driver.campaign_id).status
    options.on_progress(
        Progress(
            campaign_id=driver.campaign_id,
            cycle=cycle,
            cycles=driver.spec.cycles,
            now=driver.services.clock(),
            posts_published=counts.get("published", 0),
            spend_usd=_spend(driver.campaign_id),
            status=status,
            note=note,
        )
    )


def summarize(services: Services, spec: CampaignSpec, campaign_id: str, workspace_id: str) -> RunSummary:
    """Where a run stands: cycles, posts by state, approvals waiting, spend against budget."""
    from brandcrew.services.autopilot.records import pending_approvals

    with Session(services.engine) as session:
        run = get_run(session, campaign_id)
        counts = _counts(session, workspace_id, campaign_id)
        waiting = len(pending_approvals(session, workspace_id, campaign_id))
    return RunSummary(
        campaign_id=campaign_id,
        workspace_id=workspace_id,
        status=run.status,
        paused_reason=run.paused_reason,
        cycles_done=run.next_cycle,
        cycles=run.cycles,
        posts_published=counts.get("published", 0),
        posts_failed=counts.get("failed", 0),
        posts_open=sum(counts.get(s, 0) for s in ("pending", "publishing", "unknown")),
        waiting_approval=waiting,
        spend_usd=_spend(campaign_id),
        budget_usd=spec.budget_usd,
    )


__all__ = [
    "AutopilotOptions",
    "Progress",
    "RunSummary",
    "campaign_id_for",
    "cycle_workflow",
    "run_autopilot",
    "summarize",
]


async def decide_approval(
    approval_id: str,
    action: str,
    *,
    text: str | None = None,
    reason: str | None = None,
    user: str | None = None,
    settings: Settings | None = None,
    workspace_id: str | None = None,
) -> dict[str, Any]:
    """Record a person's decision on an autopilot item; when a cycle has none pending, resume it.

    With `workspace_id`, an item of another workspace is not found (the server passes the caller's).
    """
    from langgraph.types import Command

    from brandcrew.errors import UserError
    from brandcrew.services import approvals
    from brandcrew.services.accounts import default_accounts_service
    from brandcrew.services.errors import NotFound
    from brandcrew.store.crypto import load_cipher
    from brandcrew.store.engine import get_engine
    from brandcrew.store.tables import Approval

    if action not in ("approve", "edit", "reject"):
        raise UserError(f"unknown decision {action!r}; use approve, edit or reject")
    if action == "edit" and not (text and text.strip()):
        raise UserError("an edit needs the new text (--text)")
    settings = settings or get_settings()
    engine = get_engine(settings)
    with session_scope(engine) as session:
        approval = session.get(Approval, approval_id)
        if (
            approval is None
            or not (approval.thread_id or "").startswith("autopilot:")
            or (workspace_id is not None and approval.workspace_id != workspace_id)
        ):
            raise NotFound(f"no autopilot approval {approval_id!r} (see `brandcrew autopilot approve list`)")
        approvals.record_decision(
            session,
            approval=approval,
            action=cast(approvals.Action, action),  # checked above
            text=text,
            reason=reason,
            user_id=user or "cli",
        )
        thread = approval.thread_id or ""
        siblings = session.exec(select(Approval).where(Approval.thread_id == thread)).all()
        left = sum(a.status == "pending" for a in siblings)
        # The decision is the last comment that carries an action (people may comment afterwards).
        decisions = [
            {
                "post_id": a.resource_id,
                **next((c for c in reversed(a.comments) if c.get("action")), {"action": "approve"}),
            }
            for a in siblings
            if a.status != "pending"
        ]
        campaign_id, cycle = thread.split(":")[1], int(thread.split(":")[2])
        run = get_run(session, campaign_id)
        spec = CampaignSpec.model_validate(run.spec)
        world_id, workspace_id = run.world_id, run.workspace_id
    if left:
        return {"approval": approval_id, "decision": action, "resumed": False, "still_pending": left}
    accounts = default_accounts_service(engine, load_cipher(settings.data_dir))
    world = SandboxWorld.load(engine, world_id) if world_id else None
    services = Services.from_settings(
        settings, engine=engine, accounts=accounts, clock=world.now if world is not None else utcnow
    )
    async with open_checkpointer(settings) as saver:
        graph = build_autopilot_graph(
            spec, campaign_id=campaign_id, agents=default_agents(settings.configs_dir)
        ).compile(checkpointer=saver)
        driver = _Driver(
            spec=spec, campaign_id=campaign_id, workspace_id=workspace_id, services=services, graph=graph
        )
        with llm_context(workspace_id=workspace_id, campaign_id=campaign_id, run_id=campaign_id):
            await graph.ainvoke(Command(resume=decisions), driver.config(cycle), durability="sync")
        values = (await graph.aget_state(driver.config(cycle))).values
    return {
        "approval": approval_id,
        "decision": action,
        "resumed": True,
        "scheduled": len(values.get("scheduled") or []),
    }


async def drive_campaigns(
    stop: asyncio.Event,
    *,
    settings: Settings | None = None,
    executor_id: str = "local",
    every_s: float = 60.0,
) -> None:
    """Drive every running real-time campaign in this process until `stop` (what `brandcrew worker` runs)."""
    from brandcrew.services.autopilot.records import real_time_runs
    from brandcrew.store.engine import get_engine

    settings = settings or get_settings()
    engine = get_engine(settings)
    tasks: dict[str, asyncio.Task[RunSummary]] = {}
    try:
        while not stop.is_set():
            with Session(engine) as session:
                runs = real_time_runs(session)
            for run in runs:
                task = tasks.get(run.campaign_id)
                if task is None or task.done():
                    if task is not None and not task.cancelled() and task.exception() is not None:
                        log.error("campaign %s stopped: %s", run.campaign_id, task.exception())
                    options = AutopilotOptions(simulate=False, executor_id=executor_id, publish=False)
                    spec = CampaignSpec.model_validate(run.spec)
                    tasks[run.campaign_id] = asyncio.create_task(
                        run_autopilot(spec, settings=settings, options=options)
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
