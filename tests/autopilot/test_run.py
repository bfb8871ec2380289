"""The autopilot end to end on the sandbox: offline model, approvals, budget cap, crisis pause."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from brandcrew.jobs.autopilot import AutopilotOptions, decide_approval, run_autopilot
from brandcrew.llm.runtime import get_runtime, set_runtime
from brandcrew.services.autopilot.records import cycles_of, pending_approvals
from brandcrew.services.autopilot.report import build_report, render_html
from brandcrew.services.autopilot.spec import load_campaign
from brandcrew.services.workspaces import set_publishing_pause
from brandcrew.settings import get_settings
from brandcrew.store.engine import get_engine, session_scope
from brandcrew.store.tables import BudgetCounter, LlmCall, OutboxEntry, Post, as_utc
from tests.utils.autopilot import campaign_file, priced_runtime


async def test_three_days_on_the_offline_model(tmp_path: Path) -> None:
    path = campaign_file(tmp_path)
    summary = await run_autopilot(path, options=AutopilotOptions(days=3))
    engine = get_engine()
    spec = load_campaign(path)
    report = build_report(engine, spec, summary.campaign_id)
    assert summary.cycles_done == 3 and summary.status == "completed"
    assert report.integrity.duplicates == 0 and report.integrity.lost == 0
    assert report.integrity.published == report.integrity.rows == 9  # 2 X + 1 Instagram a day
    assert summary.spend_usd == 0  # the offline model is free and the ledger says so
    with Session(engine) as session:
        rows = session.exec(select(OutboxEntry)).all()
        calls = session.exec(select(LlmCall).where(LlmCall.campaign_id == summary.campaign_id)).all()
        cycles = cycles_of(session, summary.campaign_id)
        posts = session.exec(select(Post).where(Post.campaign_id == summary.campaign_id)).all()
    for row in rows:  # published at the planned local hour, never in quiet hours
        local = (as_utc(row.published_at) or row.due_at).astimezone(spec.zone)
        assert 7 <= local.hour < 22
    assert [c.cycle for c in cycles] == [0, 1, 2]
    assert all(c.plan["text"] and c.plan["slots"] for c in cycles)  # the strategy agent wrote each plan
    assert {c.agent for c in calls} >= {"strategy", "content_creator"}
    assert all(c.offline for c in calls)
    assert all(p.ai_generated and (p.ai_metadata or {}).get("pillar") for p in posts)
    instagram = [r for r in rows if r.platform == "instagram"]
    assert instagram and all(r.payload.get("media") for r in instagram)  # media attached where required
    html = render_html(report)
    assert "<svg" in html and "Engagements per day" in html and spec.name in html

    # Running the same file again resumes: nothing is planned or published twice.
    again = await run_autopilot(path, options=AutopilotOptions(days=3))
    assert again.posts_published == summary.posts_published
    with Session(engine) as session:
        assert len(session.exec(select(OutboxEntry)).all()) == len(rows)


async def test_a_person_approves_edits_and_rejects(tmp_path: Path) -> None:
    path = campaign_file(tmp_path, approval="human", days=2)
    first = await run_autopilot(path, options=AutopilotOptions(days=1))
    engine = get_engine()
    with Session(engine) as session:
        waiting = pending_approvals(session, first.workspace_id, first.campaign_id)
    assert first.posts_published == 0 and len(waiting) == 3  # 2 X + 1 Instagram, all held for a person
    a, b, c = waiting
    step1 = await decide_approval(a.id, "approve")
    assert step1["resumed"] is False and step1["still_pending"] == 2
    await decide_approval(
        b.id, "edit", text="Cold brew, the Northwind way: coarse grind, 16 hours, patience."
    )
    done = await decide_approval(c.id, "reject", reason="off topic")
    assert done["resumed"] is True and done["scheduled"] == 2
    final = await run_autopilot(path, options=AutopilotOptions(days=2))
    with Session(engine) as session:
        by_post = {r.post_id: r for r in session.exec(select(OutboxEntry)).all()}
        rejected = session.get(Post, c.resource_id)
    assert by_post[a.resource_id].status == "published"
    assert by_post[b.resource_id].payload["text"].startswith("Cold brew, the Northwind way")
    assert c.resource_id not in by_post and rejected is not None and rejected.status == "rejected"
    assert final.waiting_approval == 3  # day 2's posts wait for a person too


async def test_budget_cap_pauses_the_campaign_not_a_cent_over(tmp_path: Path) -> None:
    settings = get_settings()
    set_runtime(priced_runtime(get_engine(settings), settings=settings))
    path = campaign_file(tmp_path, budget_usd=0.001, days=5)
    summary = await run_autopilot(path, options=AutopilotOptions())
    assert summary.status == "paused" and "budget exhausted" in (summary.paused_reason or "")
    engine = get_engine()
    with Session(engine) as session:
        calls = session.exec(select(LlmCall).where(LlmCall.campaign_id == summary.campaign_id)).all()
        counter = session.exec(
            select(BudgetCounter).where(col(BudgetCounter.key) == f"campaign:{summary.campaign_id}")
        ).one()
    ledger = sum(Decimal(c.cost_nanousd or 0) for c in calls) / Decimal(10**9)
    assert calls and all(c.cost_nanousd for c in calls)  # every call priced
    assert ledger == summary.spend_usd <= Decimal("0.001")
    assert counter.spent_nanousd == sum(c.cost_nanousd or 0 for c in calls) and counter.reserved_nanousd == 0
    assert summary.cycles_done < 5
    # Resuming without more budget pauses again at once, spending nothing.
    with session_scope(engine) as session:
        from brandcrew.services.autopilot.records import set_run_status

        set_run_status(session, summary.campaign_id, "running")
    again = await run_autopilot(path, options=AutopilotOptions())
    assert again.status == "paused" and again.spend_usd == summary.spend_usd
    assert get_runtime() is not None


async def test_crisis_pause_holds_publishing_until_cleared(tmp_path: Path) -> None:
    path = campaign_file(tmp_path, days=3)
    first = await run_autopilot(path, options=AutopilotOptions(days=1))
    engine = get_engine()
    with session_scope(engine) as session:
        set_publishing_pause(session, workspace_id=first.workspace_id, reason="crisis alert: mention spike")
    held = await run_autopilot(path, options=AutopilotOptions(days=2))
    with Session(engine) as session:
        day2 = cycles_of(session, first.campaign_id)[1]
    assert held.posts_published == first.posts_published  # nothing went out during the crisis
    assert "crisis alert" in day2.plan["held"]
    assert {d["verdict"] for d in day2.drafts} == {"auto_approved"} and held.waiting_approval == len(
        day2.drafts
    )
    with session_scope(engine) as session:
        set_publishing_pause(session, workspace_id=first.workspace_id, reason=None)
    after = await run_autopilot(path, options=AutopilotOptions(days=3))
    assert after.posts_published > held.posts_published
    assert after.waiting_approval == len(day2.drafts)  # held items stay for a person to release
    _ = timedelta


async def test_a_sandbox_crisis_raises_an_alert_that_pauses_the_campaign(tmp_path: Path) -> None:
    from brandcrew.store.tables import Alert, Approval, Workspace

    path = campaign_file(
        tmp_path,
        days=3,
        listening={
            "query": '"Northwind" OR northwind OR @northwind',
            "poll_minutes": 60,
            "alert_config": {
                "enabled": ["crisis", "sentiment_drop"],
                "pause_on": ["crisis", "sentiment_drop"],
            },
        },
        sandbox_crisis={"day": 1, "hour": 8, "hours": 8, "intensity": 10},
    )
    summary = await run_autopilot(path, options=AutopilotOptions())
    engine = get_engine()
    with Session(engine) as session:
        alerts = session.exec(select(Alert)).all()
        workspace = session.get(Workspace, summary.workspace_id)
        statements = session.exec(select(Approval).where(Approval.resource == "statement")).all()
        cycles = cycles_of(session, summary.campaign_id)
        published_after = session.exec(
            select(OutboxEntry).where(
                OutboxEntry.status == "published", col(OutboxEntry.published_at) >= cycles[2].window_start
            )
        ).all()
    pausing = [a for a in alerts if a.paused_publishing]
    assert pausing and workspace is not None and workspace.publishing_paused_reason
    assert pausing[0].id in workspace.publishing_paused_reason
    assert statements and all(s.status == "pending" for s in statements)  # the crisis agent's draft waits
    assert cycles[2].plan["held"] and published_after == []  # nothing published after the alert
