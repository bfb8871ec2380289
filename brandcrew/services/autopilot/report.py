"""The end-of-campaign report: engagement over time, goal progress, spend, what was adjusted and why.

`build_report` gathers the figures from the database (posts, metrics, the cost ledger, cycle
records); `integrity` checks the outbox against what the platform actually holds (duplicates, lost
posts); `render_html` writes a self-contained page (inline SVG charts, no scripts, works offline).
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from brandcrew.llm.ledger import flush_pending
from brandcrew.services import analytics
from brandcrew.services.autopilot.records import cycles_of, get_run, pending_approvals
from brandcrew.services.autopilot.spec import CampaignSpec
from brandcrew.store.tables import LlmCall, OutboxEntry, Post, SocialAccount, as_utc


class GoalRow(BaseModel):
    """One goal: target, value reached, share of target."""

    metric: str
    target: float
    actual: float

    @property
    def progress(self) -> float:
        """actual / target."""
        return self.actual / self.target if self.target else 0.0


class SpendRow(BaseModel):
    """Spend and calls of one agent and model."""

    agent: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


class Integrity(BaseModel):
    """The exactly-once verdict: outbox rows against the platform's own record."""

    rows: int = 0
    published: int = 0
    failed: int = 0
    open: int = 0
    duplicates: int = 0
    lost: int = 0


class Report(BaseModel):
    """Everything the report shows."""

    campaign_id: str
    name: str
    status: str
    paused_reason: str | None
    cycles_done: int
    cycles: int
    budget_usd: Decimal
    spend_usd: Decimal
    unpriced_calls: int
    posts: dict[str, int] = Field(default_factory=dict)
    """Posts by state: published, failed, open, waiting_approval, dropped, held."""
    daily: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)
    """platform -> ISO day -> {impressions, engagements, posts}."""
    goals: list[GoalRow] = Field(default_factory=list)
    spend: list[SpendRow] = Field(default_factory=list)
    adjustments: list[dict[str, Any]] = Field(default_factory=list)
    """{cycle, what, before, after, why}"""
    integrity: Integrity = Field(default_factory=Integrity)


def integrity(engine: Engine, workspace_id: str, campaign_id: str) -> Integrity:
    """Compare the campaign's outbox with the platform posts (sandbox worlds keep every post)."""
    from brandcrew.connectors.sandbox import SandboxWorld

    with Session(engine) as session:
        post_ids = select(Post.id).where(Post.campaign_id == campaign_id)
        rows = session.exec(
            select(OutboxEntry).where(
                OutboxEntry.workspace_id == workspace_id, col(OutboxEntry.post_id).in_(post_ids)
            )
        ).all()
        accounts = {a.id: a for a in session.exec(select(SocialAccount)).all()}
        run = get_run(session, campaign_id)
    counts = Counter(r.status for r in rows)
    result = Integrity(
        rows=len(rows),
        published=counts["published"],
        failed=counts["failed"],
        open=sum(counts[s] for s in ("pending", "publishing", "unknown")),
    )
    if run.world_id is None:
        return result
    world = SandboxWorld.load(engine, run.world_id)
    on_platform: Counter[tuple[str, str]] = Counter()
    for account_id in {accounts[r.account_id].platform_account_id for r in rows if r.account_id in accounts}:
        for post in world.posts(account_id):
            on_platform[(account_id, post.text)] += 1
    for r in rows:
        n = on_platform[(accounts[r.account_id].platform_account_id, str(r.payload.get("text", "")))]
        result.duplicates += max(0, n - 1)
        if (r.status == "published" and n == 0) or (r.status == "failed" and n > 0):
            result.lost += 1
    return result


def _goal_value(metric: str, perf: list[analytics.PostPerformance], followers_gained: int) -> float:
    impressions = sum(p.impressions for p in perf)
    engagements = sum(p.engagements for p in perf)
    return {
        "posts_published": float(len(perf)),
        "impressions": float(impressions),
        "engagements": float(engagements),
        "engagement_rate": engagements / impressions if impressions else 0.0,
        "followers_gained": float(followers_gained),
    }[metric]


def _followers_gained(session: Session, workspace_id: str, spec: CampaignSpec) -> int:
    start, _ = spec.cycle_window(0)
    gained = 0
    for account in session.exec(
        select(SocialAccount).where(SocialAccount.workspace_id == workspace_id)
    ).all():
        if account.platform not in {p.platform for p in spec.platforms}:
            continue
        points = [
            p
            for p in analytics.followers_series(session, account.id)
            if (as_utc(p[0]) or p[0]) >= start - timedelta(hours=2)
        ]
        if len(points) >= 2:
            gained += int(points[-1][1] - points[0][1])
    return gained


def build_report(engine: Engine, spec: CampaignSpec, campaign_id: str) -> Report:
    """Gather the report's figures."""
    flush_pending()  # this process's queued ledger rows first
    with Session(engine) as session:
        run = get_run(session, campaign_id)
        workspace_id = run.workspace_id
        posts = {p.id: p for p in session.exec(select(Post).where(Post.campaign_id == campaign_id)).all()}
        perf = analytics.post_performance(session, workspace_id=workspace_id, campaign_post_ids=set(posts))
        gained = _followers_gained(session, workspace_id, spec)
        waiting = len(pending_approvals(session, workspace_id, campaign_id))
        calls = session.exec(select(LlmCall).where(LlmCall.campaign_id == campaign_id)).all()
        cycles = cycles_of(session, campaign_id)
    daily: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(Counter))
    for p in perf:
        day = p.published_at.astimezone(spec.zone).date().isoformat()
        cell = daily[p.platform][day]
        cell["impressions"] += p.impressions
        cell["engagements"] += p.engagements
        cell["posts"] += 1
    spend: dict[tuple[str, str], SpendRow] = {}
    unpriced = 0
    for c in calls:
        key = (c.agent or "-", "cache" if c.cache_hit else c.model)
        row = spend.setdefault(
            key,
            SpendRow(
                agent=key[0], model=key[1], calls=0, input_tokens=0, output_tokens=0, cost_usd=Decimal(0)
            ),
        )
        row.calls += 1
        row.input_tokens += c.input_tokens
        row.output_tokens += c.output_tokens
        if c.cost_nanousd is None:
            unpriced += 1
        else:
            row.cost_usd += Decimal(c.cost_nanousd) / Decimal(10**9)
    drafts = [d for cy in cycles for d in cy.drafts]
    integ = integrity(engine, workspace_id, campaign_id)
    return Report(
        campaign_id=campaign_id,
        name=spec.name,
        status=run.status,
        paused_reason=run.paused_reason,
        cycles_done=run.next_cycle,
        cycles=run.cycles,
        budget_usd=spec.budget_usd,
        spend_usd=sum((r.cost_usd for r in spend.values()), Decimal(0)),
        unpriced_calls=unpriced,
        posts={
            "planned": len(drafts),
            "published": integ.published,
            "failed": integ.failed,
            "open": integ.open,
            "waiting_approval": waiting,
            "dropped": sum(d["verdict"] == "dropped" for d in drafts),
        },
        daily={k: {d: dict(v) for d, v in sorted(days.items())} for k, days in sorted(daily.items())},
        goals=[
            GoalRow(metric=g.metric, target=g.target, actual=_goal_value(g.metric, perf, gained))
            for g in spec.goals
        ],
        spend=sorted(spend.values(), key=lambda r: (-r.cost_usd, -r.calls)),
        adjustments=[{"cycle": cy.cycle, **a} for cy in cycles for a in cy.adjustments],
        integrity=integ,
    )


# -- HTML ---------------------------------------------------------------------------------------
_COLORS = ("#2f6690", "#d1495b", "#3a7d44", "#edae49", "#6c4f77", "#00798c")


def _line_chart(series: dict[str, dict[str, int]], *, title: str, width: int = 720, height: int = 260) -> str:
    days = sorted({d for s in series.values() for d in s})
    if not days:
        return f"<p><em>{html.escape(title)}: nothing measured yet.</em></p>"
    top = max([v for s in series.values() for v in s.values()] + [1])
    left, bottom, right, upper = 56, 30, 16, 24
    w, h = width - left - right, height - bottom - upper

    def x(i: int) -> float:
        return left + (w * i / max(1, len(days) - 1))

    def y(v: float) -> float:
        return upper + h - h * v / top

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="16" class="t">{html.escape(title)}</text>',
        f'<line x1="{left}" y1="{upper + h}" x2="{left + w}" y2="{upper + h}" class="axis"/>',
        f'<text x="{left - 6}" y="{upper + 4}" class="lab" text-anchor="end">{top:,}</text>',
        f'<text x="{left - 6}" y="{upper + h}" class="lab" text-anchor="end">0</text>',
    ]
    for i, d in enumerate(days):
        if i % max(1, len(days) // 7) == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" class="lab" text-anchor="middle">{d[5:]}</text>'
            )
    for n, (name, values) in enumerate(series.items()):
        color = _COLORS[n % len(_COLORS)]
        points = " ".join(f"{x(days.index(d)):.1f},{y(v):.1f}" for d, v in sorted(values.items()))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(
            f'<text x="{left + w - 4}" y="{upper + 14 + 14 * n}" class="lab" style="fill:{color}" text-anchor="end">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars(
    rows: list[tuple[str, float, str]], *, title: str, width: int = 720, cap: float | None = None
) -> str:
    if not rows:
        return f"<p><em>{html.escape(title)}: nothing to show.</em></p>"
    top = cap or max([v for _, v, _ in rows] + [1e-9])
    bar_h, gap, left = 18, 8, 200
    height = 28 + len(rows) * (bar_h + gap)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img"><text x="0" y="16" class="t">{html.escape(title)}</text>'
    ]
    for i, (label, value, text) in enumerate(rows):
        y0 = 28 + i * (bar_h + gap)
        length = (width - left - 120) * max(0.0, min(value / top, 1.0)) if top else 0
        color = _COLORS[i % len(_COLORS)]
        parts.append(
            f'<text x="{left - 8}" y="{y0 + 13}" class="lab" text-anchor="end">{html.escape(label)}</text>'
        )
        parts.append(f'<rect x="{left}" y="{y0}" width="{length:.1f}" height="{bar_h}" fill="{color}"/>')
        parts.append(
            f'<text x="{left + length + 6:.1f}" y="{y0 + 13}" class="lab">{html.escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def summary_rows(report: Report) -> list[tuple[str, str]]:
    """The headline figures, for the terminal and the page."""
    rate_note = f" ({report.unpriced_calls} unpriced calls)" if report.unpriced_calls else ""
    return [
        ("status", report.status + (f" ({report.paused_reason})" if report.paused_reason else "")),
        ("cycles", f"{report.cycles_done} of {report.cycles}"),
        ("posts planned", str(report.posts.get("planned", 0))),
        ("posts published", str(report.posts.get("published", 0))),
        ("posts failed", str(report.posts.get("failed", 0))),
        ("posts still queued", str(report.posts.get("open", 0))),
        ("waiting for a person", str(report.posts.get("waiting_approval", 0))),
        ("dropped by checks", str(report.posts.get("dropped", 0))),
        ("duplicates on the platform", str(report.integrity.duplicates)),
        ("lost posts", str(report.integrity.lost)),
        ("LLM calls", str(sum(r.calls for r in report.spend))),
        ("spend", f"${report.spend_usd:.4f} of ${report.budget_usd:.2f}{rate_note}"),
        *[
            (
                f"goal {g.metric}",
                f"{_fmt(g.metric, g.actual)} of {_fmt(g.metric, g.target)} ({g.progress:.0%})",
            )
            for g in report.goals
        ],
        ("adjustments", str(len(report.adjustments))),
    ]


def _fmt(metric: str, value: float) -> str:
    return f"{value:.2%}" if metric == "engagement_rate" else f"{value:,.0f}"


def render_html(report: Report) -> str:
    """A self-contained HTML page of the report."""
    impressions = {
        p: {d: c.get("impressions", 0) for d, c in days.items()} for p, days in report.daily.items()
    }
    engagements = {
        p: {d: c.get("engagements", 0) for d, c in days.items()} for p, days in report.daily.items()
    }
    goals = [
        (g.metric, g.progress, f"{_fmt(g.metric, g.actual)} / {_fmt(g.metric, g.target)}")
        for g in report.goals
    ]
    spend_rows = [
        (
            f"{r.agent} · {r.model}",
            float(r.cost_usd) if report.spend_usd else float(r.calls),
            f"${r.cost_usd:.4f} · {r.calls} calls",
        )
        for r in report.spend
    ]
    spend_title = "Spend by agent and model" + (
        "" if report.spend_usd else " (all calls free: bar length = calls)"
    )
    adjustments = [
        [str(a["cycle"] + 1), a["what"], a["before"], a["after"], a["why"]] for a in report.adjustments
    ]
    style = (
        "body{font:15px/1.45 system-ui,sans-serif;max-width:920px;margin:2em auto;color:#222;padding:0 1em}"
        "table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:4px 8px;"
        "text-align:left;vertical-align:top}svg{width:100%;height:auto;margin:1em 0}.t{font-weight:600;font-size:14px}"
        ".lab{font-size:11px;fill:#444}.axis{stroke:#999}"
    )
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(report.name)} - brandcrew autopilot</title>"
        f"<style>{style}</style><h1>{html.escape(report.name)}</h1>"
        f"<p>Campaign <code>{html.escape(report.campaign_id)}</code>, autopilot report.</p>"
        + _table(["", ""], [[k, v] for k, v in summary_rows(report)])
        + "<h2>Engagement over time</h2>"
        + _line_chart(engagements, title="Engagements per day, by platform")
        + _line_chart(impressions, title="Impressions per day, by platform")
        + "<h2>Goals</h2>"
        + _bars(goals, title="Progress toward each goal (100% = target)", cap=1.0)
        + "<h2>Spend</h2>"
        + _bars(spend_rows, title=spend_title)
        + _table(
            ["agent", "model", "calls", "tokens in", "tokens out", "USD"],
            [
                [
                    r.agent,
                    r.model,
                    str(r.calls),
                    f"{r.input_tokens:,}",
                    f"{r.output_tokens:,}",
                    f"{r.cost_usd:.6f}",
                ]
                for r in report.spend
            ],
        )
        + "<h2>What was adjusted and why</h2>"
        + (
            _table(["cycle", "what", "before", "after", "why"], adjustments)
            if adjustments
            else "<p>No adjustments.</p>"
        )
        + "</html>"
    )
