"""One autopilot cycle as a LangGraph graph.

measure -> analyze (analytics agent) -> adjust -> plan (strategy agent, trends) -> create (content
agent, brand memory) -> check (limits, brand voice, risk flags, near-duplicates) -> approve (policy)
-> schedule (outbox, exactly once) -> publish (hand-off to the publishing worker) -> review (an
`interrupt` for the items a person must approve) -> END.

Every node is safe to re-run (LangGraph re-runs a node interrupted by a crash or resumed after an
`interrupt`): posts, approvals and outbox rows have deterministic ids. Graph nodes never call a
platform; the publishing worker does, from the outbox. Run it with `durability="sync"`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from sqlmodel import Session, col, select

from brandcrew.agents.registry import AgentRegistry
from brandcrew.connectors.capabilities import get_capabilities
from brandcrew.connectors.drafts import MediaItem, PostDraft
from brandcrew.connectors.validation import fix, validate
from brandcrew.errors import BudgetExceeded
from brandcrew.graphs.agent import brand_values
from brandcrew.llm.chat import ChatBrandcrew, response_text
from brandcrew.memory.brand_voice import BrandVoiceProfile
from brandcrew.services import analytics, publishing
from brandcrew.services.autopilot import checks, planning
from brandcrew.services.autopilot.records import request_approval, save_cycle, stable_id
from brandcrew.services.autopilot.spec import CampaignSpec
from brandcrew.services.errors import PublishingPaused
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.services.publishing import media_items as media_items_of
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import OutboxEntry, Post, SocialAccount, Workspace, as_utc
from brandcrew.tools.context import ToolContext, context_from_config

FRESH_ANGLES = (
    "a question to the audience",
    "a behind-the-scenes detail",
    "a quick how-to in three steps",
    "a customer moment",
    "a surprising number or fact",
)
"""Angles tried, in order, when a draft repeats a recent post."""


class CycleState(TypedDict, total=False):
    """What one cycle carries from node to node (all JSON, so checkpoints stay portable)."""

    cycle: int
    tuning: dict[str, Any]
    adjustments: list[dict[str, Any]]
    analysis: str
    plan_text: str
    trends: list[str]
    slots: list[dict[str, Any]]
    drafts: list[dict[str, Any]]
    scheduled: list[dict[str, Any]]
    review: list[dict[str, Any]]
    paused: str
    held: str


def _ctx(config: RunnableConfig) -> ToolContext:
    return context_from_config(config)


def measured_posts(
    session: Session, spec: CampaignSpec, campaign_id: str, workspace_id: str
) -> list[planning.Measured]:
    """The campaign's published posts with their latest counters, pillar and local hour."""
    posts = {p.id: p for p in session.exec(select(Post).where(Post.campaign_id == campaign_id)).all()}
    perf = analytics.post_performance(session, workspace_id=workspace_id, campaign_post_ids=set(posts))
    out = []
    for p in perf:
        meta = posts[p.post_id].ai_metadata or {}
        out.append(
            planning.Measured(
                platform=p.platform,
                pillar=str(meta.get("pillar", "")),
                local_hour=p.published_at.astimezone(spec.zone).hour,
                impressions=p.impressions,
                engagements=p.engagements,
            )
        )
    return out


def build_autopilot_graph(
    spec: CampaignSpec,
    *,
    campaign_id: str,
    agents: AgentRegistry,
    model: ChatBrandcrew | None = None,
    voice: BrandVoiceProfile | None = None,
    voice_embedder: Any = None,
    trends: Callable[[ToolContext], Any] | None = None,
    media: list[str] | None = None,
) -> StateGraph:
    """The cycle graph of one campaign (compile it with a checkpointer).

    `media` holds the workspace's asset ids to attach, in turn, where a platform requires media.
    """
    base = model or ChatBrandcrew()
    assets = list(media or [])

    def media_for(slot: dict[str, Any], index: int) -> list[str]:
        if not assets or not get_capabilities(slot["platform"]).media_required:
            return []
        return [assets[index % len(assets)]]

    def chat(agent: str, step: str, ctx: ToolContext, **hints: Any) -> ChatBrandcrew:
        brand = brand_values(ctx)["brand"]
        return base.with_context(agent=agent, step=step).model_copy(
            update={"metadata_hints": {"brand": brand.as_hints(), **hints}}
        )

    def system_for(agent: str, ctx: ToolContext) -> str:
        values = brand_values(ctx)
        values.pop("brand")
        return agents.get(agent).render_prompt(values)

    async def measure(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        with session_scope(ctx.services.engine) as session:
            await analytics.collect_metrics(
                session, ctx.services.accounts, workspace_id=ctx.workspace_id, now=ctx.now()
            )
        return {}

    async def analyze(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        with Session(ctx.services.engine) as session:
            seen = [m for m in measured_posts(session, spec, campaign_id, ctx.workspace_id) if m.impressions]
        if not seen:
            return {"analysis": "Nothing published and measured yet."}
        lines = [
            f"- {m.platform} {m.pillar} at {m.local_hour:02d}:00: {m.impressions} impressions, "
            f"{m.engagements} engagements ({m.rate:.1%})"
            for m in seen[-40:]
        ]
        ask = (
            f"Summarise the results of campaign {spec.name} so far ({len(seen)} measured posts) "
            "and say which pillars and posting hours work best:\n" + "\n".join(lines)
        )
        try:
            message = await chat("analytics", "analyze", ctx).ainvoke(
                [SystemMessage(system_for("analytics", ctx)), HumanMessage(ask)], config
            )
        except BudgetExceeded as exc:
            return {"paused": f"budget exhausted ({exc.scope}): {exc}"}
        return {"analysis": response_text(message)}

    async def adjust(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        tuning = planning.Tuning.model_validate(state.get("tuning") or planning.Tuning.initial(spec))
        with Session(ctx.services.engine) as session:
            seen = measured_posts(session, spec, campaign_id, ctx.workspace_id)
            history = _history_hours(session, spec, ctx) if state.get("cycle", 0) == 0 else []
        changes: list[planning.Adjustment] = []
        if history:
            tuning, changes = _seed_hours(spec, tuning, history)
        tuning, more = planning.adjust(spec, seen, tuning)
        return {
            "tuning": tuning.model_dump(),
            "adjustments": [c.model_dump() for c in [*changes, *more]],
        }

    async def plan(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        cycle = state.get("cycle", 0)
        hot = [str(t.get("hashtag", t)) for t in (await trends(ctx) if trends else [])][:3]
        tuning = planning.Tuning.model_validate(state["tuning"])
        slots, tuning = planning.plan_slots(spec, cycle, tuning, angles=hot)
        start, end = spec.cycle_window(cycle)
        mix = ", ".join(f"{p} {w:.2f}" for p, w in tuning.weights.items())
        why = "; ".join(
            f"{a['what']}: {a['before']} -> {a['after']} ({a['why']})" for a in state["adjustments"]
        )
        ask = (
            f"Plan cycle {cycle + 1} of {spec.cycles} of the campaign {spec.name}, "
            f"{start:%a %d %b} to {end:%a %d %b}: {len(slots)} posts on "
            + ", ".join(sorted({s.platform for s in slots}))
            + f". Pillar weights: {mix}. Goals: "
            + ", ".join(f"{g.metric} {g.target:g}" for g in spec.goals)
            + f". Trends: {', '.join(hot) or 'none rising'}. Changes since last cycle: {why or 'none'}. "
            f"Results so far: {state.get('analysis', '')[:600]}"
        )
        try:
            message = await chat("strategy", "plan", ctx).ainvoke(
                [SystemMessage(system_for("strategy", ctx)), HumanMessage(ask)], config
            )
        except BudgetExceeded as exc:
            return {"paused": f"budget exhausted ({exc.scope}): {exc}"}
        return {
            "plan_text": response_text(message),
            "trends": hot,
            "slots": [s.model_dump(mode="json") for s in slots],
            "tuning": tuning.model_dump(),
        }

    async def _write(ctx: ToolContext, slot: dict[str, Any], angle: str, config: RunnableConfig) -> str:
        with Session(ctx.services.engine) as session:
            best = analytics.top_posts(
                session, workspace_id=ctx.workspace_id, limit=1, platform=slot["platform"]
            )
        # The request names the post and its topic only; the brief goes in the system prompt, so a
        # model that echoes its request (the offline one) never posts the brief.
        brief = [f"Content pillar: {slot['pillar']}."]
        if angle:
            brief.append(f"Take a fresh angle: {angle}; do not repeat recent posts.")
        if slot.get("angle"):
            brief.append(f"If it fits naturally, tie the post to the trend {slot['angle']}.")
        if best:
            brief.append(f"One of the account's best posts, for tone (do not copy it): {best[0].text[:280]}")
        system = "\n".join([system_for("content_creator", ctx), *brief, "Answer with the post text only."])
        ask = f"Write a {slot['platform']} post about {slot['topic']}."
        message = await chat("content_creator", "write", ctx, platform=slot["platform"]).ainvoke(
            [SystemMessage(system), HumanMessage(ask)], config
        )
        text = response_text(message).strip()
        result = fix(PostDraft(platform=slot["platform"], text=text))
        return result.draft.text

    async def create_and_check(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        brand = brand_values(ctx)["brand"]
        with Session(ctx.services.engine) as session:
            recent = _recent_texts(session, ctx.workspace_id, ctx.now() - timedelta(days=30))
        drop = [brand.call_to_action, *brand.hashtags]
        drafts: list[dict[str, Any]] = []
        for index, slot in enumerate(state["slots"]):
            attached = media_for(slot, index + 7 * state.get("cycle", 0))
            with Session(ctx.services.engine) as session:
                items = media_items_of(session, ctx.workspace_id, attached)
            others = recent + [(d["slot"]["key"], d["text"]) for d in drafts]
            attempt, text, check = 0, "", checks.CheckResult()
            for attempt in range(len(FRESH_ANGLES) + 1):
                angle = FRESH_ANGLES[attempt - 1] if attempt else ""
                try:
                    text = await _write(ctx, slot, angle, config)
                except BudgetExceeded as exc:
                    return {"paused": f"budget exhausted ({exc.scope}): {exc}", "drafts": drafts}
                check = _check(text, slot["platform"], items, others, drop, brand.banned_words)
                if check.duplicate_of is None or check.similarity < spec.near_duplicate_threshold:
                    break
            decision = checks.decide(spec.approval, check, duplicate_threshold=spec.near_duplicate_threshold)
            drafts.append(
                {
                    "slot": slot,
                    "post_id": stable_id(campaign_id, slot["key"]),
                    "text": text,
                    "media": attached,
                    "rewrites": attempt,
                    "check": check.model_dump(),
                    "decision": decision.model_dump(),
                }
            )
        return {"drafts": drafts}

    def _check(
        text: str,
        platform: str,
        media_items: tuple[MediaItem, ...],
        others: list[tuple[str, str]],
        drop: list[str],
        banned: list[str],
    ) -> checks.CheckResult:
        violations = validate(PostDraft(platform=platform, text=text, media=media_items))
        dup, sim = checks.nearest(text, others, drop=drop)
        result = checks.CheckResult(
            valid=not violations,
            violations=[v.message for v in violations],
            risk_flags=checks.risk_flags(text, banned_words=banned, extra_topics=spec.sensitive_topics),
            duplicate_of=dup,
            similarity=round(sim, 3),
        )
        if voice is not None:
            score = voice.score(text, platform=platform, embedder=voice_embedder)
            result.voice_score, result.voice_reasons = round(score.score, 3), score.reasons[:3]
        return result

    def _target(session: Session, ctx: ToolContext, platform: str) -> PostTarget:
        account = session.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == ctx.workspace_id,
                SocialAccount.platform == platform,
                col(SocialAccount.is_active),
            )
        ).first()
        if account is None:
            raise LookupError(f"no connected {platform} account in workspace {ctx.workspace_id}")
        return PostTarget(platform=platform, account_id=account.id)

    def _ensure_post(session: Session, ctx: ToolContext, draft: dict[str, Any], status: str) -> Post:
        post = session.get(Post, draft["post_id"])
        if post is not None:
            return post
        slot = draft["slot"]
        post = publishing.create_post(
            session,
            workspace_id=ctx.workspace_id,
            content=PostContent(text=draft["text"], media=list(draft.get("media") or [])),
            targets=[_target(session, ctx, slot["platform"])],
            campaign_id=campaign_id,
            tags=["autopilot", f"pillar:{slot['pillar']}"],
            ai_generated=True,
            ai_metadata={
                "cycle": state_cycle(slot),
                "slot": slot["key"],
                "pillar": slot["pillar"],
                "topic": slot["topic"],
                "voice": draft["check"].get("voice_score"),
                "risk_flags": draft["check"].get("risk_flags"),
                "decision": draft["decision"],
            },
            status=status,  # type: ignore[arg-type]
            actor="autopilot",
            post_id=draft["post_id"],
        )
        return post

    def _schedule(
        session: Session, ctx: ToolContext, draft: dict[str, Any], *, earliest: datetime
    ) -> dict[str, Any]:
        post = _ensure_post(session, ctx, draft, "approved")
        at = max(datetime.fromisoformat(draft["slot"]["at"]), earliest)
        if post.status == "scheduled":
            keys = session.exec(select(OutboxEntry.key).where(OutboxEntry.post_id == post.id)).all()
            return {
                "post_id": post.id,
                "at": (as_utc(post.scheduled_at) or at).isoformat(),
                "keys": list(keys),
            }
        entries = publishing.schedule_post(
            session, workspace_id=ctx.workspace_id, post_id=post.id, at=at, now=ctx.now(), actor="autopilot"
        )
        return {"post_id": post.id, "at": at.isoformat(), "keys": [e.key for e in entries]}

    async def approve_and_schedule(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        scheduled, review = [], []
        with session_scope(ctx.services.engine) as session:
            workspace = session.get(Workspace, ctx.workspace_id)
            held = workspace.publishing_paused_reason if workspace is not None else None
            for draft in state["drafts"]:
                verdict = draft["decision"]["verdict"]
                if verdict == "auto_approved" and not held:
                    try:
                        scheduled.append(_schedule(session, ctx, draft, earliest=ctx.now()))
                    except PublishingPaused as exc:
                        held = str(exc)
                elif verdict in ("needs_person", "auto_approved"):
                    post = _ensure_post(session, ctx, draft, "pending_approval")
                    reasons = draft["decision"]["reasons"] + ([f"held: {held}"] if held else [])
                    request_approval(
                        session,
                        workspace_id=ctx.workspace_id,
                        post_id=post.id,
                        thread_id=ctx.thread_id or "",
                        reasons=reasons,
                        now=ctx.now(),
                    )
                    review.append({"post_id": post.id, "reasons": reasons})
        return {"scheduled": scheduled, "review": review, "held": held or ""}

    async def publish(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        """Hand-off only: the outbox rows exist; the publishing worker publishes them when due."""
        ctx = _ctx(config)
        _record(ctx, state, "waiting_approval" if state.get("review") else "scheduled")
        return {}

    async def review(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        ctx = _ctx(config)
        items = state.get("review") or []
        decisions = interrupt({"campaign_id": campaign_id, "cycle": state.get("cycle", 0), "items": items})
        by_post = {d["post_id"]: d for d in (decisions or [])}
        scheduled = list(state.get("scheduled") or [])
        done = {s["post_id"] for s in scheduled}
        with session_scope(ctx.services.engine) as session:
            for draft in state["drafts"]:
                decision = by_post.get(draft["post_id"])
                if decision is None or draft["post_id"] in done:
                    continue
                post = session.get(Post, draft["post_id"])
                if post is None:
                    continue
                if decision.get("action") == "reject":
                    post.status, post.approval_status = "rejected", "rejected"
                    session.add(post)
                    continue
                if decision.get("action") == "edit" and decision.get("text"):
                    publishing.update_post(
                        session,
                        workspace_id=ctx.workspace_id,
                        post_id=post.id,
                        content=PostContent(text=str(decision["text"]), media=list(draft.get("media") or [])),
                        user_id=decision.get("user"),
                    )
                    draft = {**draft, "text": decision["text"]}
                post.status, post.approval_status = "approved", "approved"
                session.add(post)
                session.flush()
                try:
                    scheduled.append(
                        _schedule(session, ctx, draft, earliest=ctx.now() + timedelta(minutes=1))
                    )
                except PublishingPaused:
                    continue
        new_state = {**state, "scheduled": scheduled}
        _record(ctx, new_state, "scheduled")  # type: ignore[arg-type]
        return {"scheduled": scheduled}

    def _record(ctx: ToolContext, state: CycleState, status: str) -> None:
        cycle = state.get("cycle", 0)
        start, end = spec.cycle_window(cycle)
        with session_scope(ctx.services.engine) as session:
            save_cycle(
                session,
                campaign_id,
                cycle,
                workspace_id=ctx.workspace_id,
                window_start=start,
                window_end=end,
                status=status if not state.get("paused") else "paused",
                plan={
                    "text": state.get("plan_text", ""),
                    "trends": state.get("trends", []),
                    "slots": state.get("slots", []),
                    "tuning": state.get("tuning", {}),
                    "analysis": state.get("analysis", ""),
                    "held": state.get("held", ""),
                    "paused": state.get("paused", ""),
                },
                drafts=[
                    {
                        "post_id": d["post_id"],
                        "platform": d["slot"]["platform"],
                        "pillar": d["slot"]["pillar"],
                        "verdict": d["decision"]["verdict"],
                        "reasons": d["decision"]["reasons"],
                        "voice": d["check"].get("voice_score"),
                        "rewrites": d.get("rewrites", 0),
                        "text": d["text"],
                    }
                    for d in state.get("drafts", [])
                ],
                adjustments=state.get("adjustments", []),
                results={
                    "scheduled": len(state.get("scheduled") or []),
                    "review": len(state.get("review") or []),
                },
            )

    async def stopped(state: CycleState, config: RunnableConfig) -> dict[str, Any]:
        _record(_ctx(config), state, "paused")
        return {}

    def go(next_node: str) -> Callable[[CycleState], str]:
        return lambda state: "stopped" if state.get("paused") else next_node

    graph = StateGraph(CycleState)
    graph.add_node("measure", measure)
    graph.add_node("analyze", analyze)
    graph.add_node("adjust", adjust)
    graph.add_node("plan", plan)
    graph.add_node("create_and_check", create_and_check)
    graph.add_node("approve_and_schedule", approve_and_schedule)
    graph.add_node("publish", publish)
    graph.add_node("review", review)
    graph.add_node("stopped", stopped)
    graph.add_edge(START, "measure")
    graph.add_edge("measure", "analyze")
    graph.add_conditional_edges("analyze", go("adjust"), ["adjust", "stopped"])
    graph.add_edge("adjust", "plan")
    graph.add_conditional_edges("plan", go("create_and_check"), ["create_and_check", "stopped"])
    graph.add_conditional_edges(
        "create_and_check", go("approve_and_schedule"), ["approve_and_schedule", "stopped"]
    )
    graph.add_edge("approve_and_schedule", "publish")
    graph.add_conditional_edges("publish", lambda s: "review" if s.get("review") else END, ["review", END])
    graph.add_edge("review", END)
    graph.add_edge("stopped", END)
    return graph


def state_cycle(slot: dict[str, Any]) -> int:
    """The cycle number a slot key names (`c<cycle>-...`)."""
    return int(str(slot["key"]).split("-", 1)[0][1:])


def _recent_texts(session: Session, workspace_id: str, since: datetime) -> list[tuple[str, str]]:
    rows = session.exec(
        select(OutboxEntry.post_id, OutboxEntry.payload).where(
            OutboxEntry.workspace_id == workspace_id, col(OutboxEntry.created_at) >= since
        )
    ).all()
    return [(post_id, str(payload.get("text", ""))) for post_id, payload in rows]


def _history_hours(
    session: Session, spec: CampaignSpec, ctx: ToolContext
) -> list[tuple[str, list[tuple[int, float]]]]:
    offset = ctx.now().astimezone(spec.zone).utcoffset() or timedelta(0)
    out = []
    for plan in spec.platforms:
        account = session.exec(
            select(SocialAccount).where(
                SocialAccount.workspace_id == ctx.workspace_id, SocialAccount.platform == plan.platform
            )
        ).first()
        if account is None:
            continue
        ranked = analytics.best_hours(
            session,
            workspace_id=ctx.workspace_id,
            account_id=account.id,
            utc_offset_hours=offset.total_seconds() / 3600,
        )
        if len(ranked) >= 3:
            out.append((plan.platform, ranked))
    return out


def _seed_hours(
    spec: CampaignSpec, tuning: planning.Tuning, history: list[tuple[str, list[tuple[int, float]]]]
) -> tuple[planning.Tuning, list[planning.Adjustment]]:
    hours = dict(tuning.hours)
    changes = []
    for platform, ranked in history:
        best = [h for h, _ in ranked if spec.quiet_hours is None or not spec.quiet_hours.contains_hour(h)][:3]
        if not best or best == hours.get(platform, [])[: len(best)]:
            continue
        changes.append(
            planning.Adjustment(
                what=f"posting hours: {platform}",
                before=", ".join(f"{h:02d}:00" for h in hours.get(platform, [])[:3]),
                after=", ".join(f"{h:02d}:00" for h in best),
                why=f"the account's past posts reached most people at {best[0]:02d}:00 ({ranked[0][1]:,.0f} impressions on average)",
            )
        )
        hours[platform] = best + [h for h in hours.get(platform, []) if h not in best]
    return tuning.model_copy(update={"hours": hours}), changes
