"""`brandcrew autopilot ...`: run, watch, pause, resume and approve unattended campaigns."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from brandcrew.errors import BrandcrewError

autopilot_app = typer.Typer(
    help="Campaigns that run themselves (plan, write, check, publish, adjust).", no_args_is_help=True
)
approve_app = typer.Typer(
    help="Items the autopilot is waiting for a person to approve.", no_args_is_help=True
)
autopilot_app.add_typer(approve_app, name="approve")
console = Console(width=None if sys.stdout.isatty() else 130)
JsonOpt = Annotated[bool, typer.Option("--json", help="End with one line holding a JSON object.")]


def _fail(exc: BrandcrewError) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(2)


@autopilot_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="A campaign file, e.g. configs/campaigns/demo.yaml")],
    simulate_days: Annotated[
        int | None, typer.Option(help="Run on the sandbox with a simulated clock, this many days")
    ] = None,
    real_time: Annotated[
        bool, typer.Option(help="Real platforms, real time (accounts must be connected)")
    ] = False,
    executor_id: Annotated[
        str, typer.Option(help="Stable id of this process (resumes its workflows)")
    ] = "local",
    report: Annotated[Path | None, typer.Option(help="Where to write the HTML report")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run (or resume) a campaign; prints progress, then the report."""
    from brandcrew.jobs.autopilot import AutopilotOptions, run_autopilot
    from brandcrew.services.autopilot.report import build_report, render_html
    from brandcrew.services.autopilot.spec import load_campaign
    from brandcrew.settings import get_settings
    from brandcrew.store.engine import get_engine

    settings = get_settings()
    try:
        spec = load_campaign(file)
    except BrandcrewError as exc:
        _fail(exc)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("cycle {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[posts]} posts · ${task.fields[spend]} · {task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stdout.isatty(),
    )
    total = min(spec.cycles, -(-simulate_days // spec.cycle_days)) if simulate_days else spec.cycles
    task = progress.add_task(spec.name, total=total, posts=0, spend="0.0000", note="starting")

    def on_progress(p: Any) -> None:
        progress.update(
            task,
            completed=min(p.cycle + 1, total),
            posts=p.posts_published,
            spend=f"{p.spend_usd:.4f}",
            note=p.note[:60],
        )
        if not sys.stdout.isatty():
            console.print(
                f"cycle {min(p.cycle + 1, p.cycles)}/{p.cycles} {p.now:%Y-%m-%d %H:%M} UTC: {p.note}"
            )

    options = AutopilotOptions(
        simulate=not real_time, days=simulate_days, executor_id=executor_id, on_progress=on_progress
    )
    try:
        with progress:
            summary = asyncio.run(run_autopilot(file, settings=settings, options=options))
        figures = build_report(get_engine(settings), spec, summary.campaign_id)
    except BrandcrewError as exc:
        _fail(exc)
    path = report or settings.data_dir / "reports" / f"{summary.campaign_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(figures))
    _print_report(figures)
    console.print(f"report: {path}")
    if as_json:
        print(
            json.dumps(
                {
                    "campaign_id": summary.campaign_id,
                    "status": summary.status,
                    "posts_published": figures.integrity.published,
                    "duplicates": figures.integrity.duplicates,
                    "lost": figures.integrity.lost,
                    "spend_usd": float(summary.spend_usd),
                    "budget_usd": float(summary.budget_usd),
                    "cycles": summary.cycles_done,
                    "waiting_approval": summary.waiting_approval,
                    "report_path": str(path),
                }
            )
        )


def _print_report(figures: Any) -> None:
    from brandcrew.services.autopilot.report import summary_rows

    table = Table(title=f"{figures.name}: autopilot report", title_justify="left", show_header=False)
    table.add_column("")
    table.add_column("", justify="right")
    for k, v in summary_rows(figures):
        table.add_row(k, v)
    console.print(table)
    if figures.adjustments:
        adj = Table(title="What was adjusted and why", title_justify="left")
        for col in ("cycle", "what", "before", "after", "why"):
            adj.add_column(col, overflow="fold")
        for a in figures.adjustments[-8:]:
            adj.add_row(str(a["cycle"] + 1), a["what"], a["before"], a["after"], a["why"])
        console.print(adj)


@autopilot_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Every autopilot run: state, cycles, posts, spend."""
    from sqlmodel import Session, select

    from brandcrew.jobs.autopilot import summarize
    from brandcrew.services.autopilot.spec import CampaignSpec
    from brandcrew.services.container import Services
    from brandcrew.store.tables.autopilot import AutopilotRun

    services = Services.from_settings()
    with Session(services.engine) as session:
        runs = session.exec(select(AutopilotRun)).all()
    rows = [
        summarize(services, CampaignSpec.model_validate(r.spec), r.campaign_id, r.workspace_id).model_dump(
            mode="json"
        )
        for r in runs
    ]
    table = Table(title="Autopilot runs", title_justify="left")
    for col in ("campaign", "status", "cycles", "published", "queued", "waiting", "spend / budget"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["campaign_id"],
            r["status"] + (f" ({r['paused_reason']})" if r["paused_reason"] else ""),
            f"{r['cycles_done']}/{r['cycles']}",
            str(r["posts_published"]),
            str(r["posts_open"]),
            str(r["waiting_approval"]),
            f"${float(r['spend_usd']):.4f} / ${float(r['budget_usd']):.2f}",
        )
    console.print(table)
    if as_json:
        print(json.dumps(rows))


def _set_status(campaign_id: str, new: str, reason: str | None) -> None:
    from brandcrew.services.autopilot.records import set_run_status
    from brandcrew.store.engine import get_engine, session_scope

    try:
        with session_scope(get_engine()) as session:
            set_run_status(session, campaign_id, new, reason)
    except BrandcrewError as exc:
        _fail(exc)
    console.print(f"{campaign_id}: {new}" + (f" ({reason})" if reason else ""))


@autopilot_app.command("pause")
def pause(
    campaign_id: str,
    reason: Annotated[str, typer.Option(help="Why (shown in status and the report)")] = "paused by a person",
) -> None:
    """Pause a campaign: no new cycles until resumed (scheduled posts still publish)."""
    _set_status(campaign_id, "paused", reason)


@autopilot_app.command("resume")
def resume(campaign_id: str) -> None:
    """Resume a paused campaign (run `autopilot run FILE` or a worker to continue it)."""
    _set_status(campaign_id, "running", None)


@approve_app.command("list")
def approve_list(
    campaign_id: Annotated[str | None, typer.Argument(help="Only this campaign")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Items waiting for a person."""
    from sqlmodel import Session, select

    from brandcrew.services.autopilot.records import pending_approvals
    from brandcrew.store.engine import get_engine
    from brandcrew.store.tables import Post
    from brandcrew.store.tables.autopilot import AutopilotRun

    engine = get_engine()
    items: list[dict[str, str]] = []
    with Session(engine) as session:
        for ws in {r.workspace_id for r in session.exec(select(AutopilotRun)).all()}:
            for a in pending_approvals(session, ws, campaign_id):
                post = session.get(Post, a.resource_id)
                items.append(
                    {
                        "id": a.id,
                        "campaign": (a.thread_id or "").split(":")[1],
                        "cycle": str(int((a.thread_id or "0:0:0").split(":")[2]) + 1),
                        "reason": a.reason or "",
                        "text": (post.content or {}).get("text", "") if post else "",
                    }
                )
    table = Table(title=f"{len(items)} items waiting for approval", title_justify="left")
    for col in ("id", "campaign", "cycle", "why a person", "text"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(i["id"][:12], i["campaign"], i["cycle"], i["reason"], i["text"][:90])
    console.print(table)
    if as_json:
        print(json.dumps(items))


def _resolve(prefix: str) -> str:
    from sqlmodel import Session, col, select

    from brandcrew.store.engine import get_engine
    from brandcrew.store.tables import Approval

    with Session(get_engine()) as session:
        ids = session.exec(select(Approval.id).where(col(Approval.id).startswith(prefix))).all()
    if len(ids) != 1:
        console.print(
            f"[red]error:[/red] {'no' if not ids else 'more than one'} approval starts with {prefix!r}"
        )
        raise typer.Exit(2)
    return ids[0]


@approve_app.command("show")
def approve_show(approval_id: str) -> None:
    """One item in full: the post, its checks and why it needs a person."""
    from sqlmodel import Session

    from brandcrew.store.engine import get_engine
    from brandcrew.store.tables import Approval, Post

    with Session(get_engine()) as session:
        a = session.get(Approval, _resolve(approval_id))
        assert a is not None
        post = session.get(Post, a.resource_id)
    console.print(f"[bold]{a.id}[/bold] ({a.status}) - {a.reason}")
    if post is not None:
        console.print(post.content.get("text", ""))
        console.print(f"checks: {json.dumps((post.ai_metadata or {}), default=str)}")


def _decide(approval_id: str, action: str, text: str | None, reason: str | None) -> None:
    from brandcrew.jobs.autopilot import decide_approval

    try:
        result = asyncio.run(decide_approval(_resolve(approval_id), action, text=text, reason=reason))
    except BrandcrewError as exc:
        _fail(exc)
    if result["resumed"]:
        console.print(f"{action}d; the cycle resumed and {result['scheduled']} posts are scheduled")
    else:
        console.print(f"{action}d; {result['still_pending']} more items of that cycle wait for a decision")


@approve_app.command("approve")
def approve_item(approval_id: str) -> None:
    """Approve an item (it is scheduled once its cycle has no pending items)."""
    _decide(approval_id, "approve", None, None)


@approve_app.command("edit")
def approve_edit(approval_id: str, text: Annotated[str, typer.Option(help="The new post text")]) -> None:
    """Replace the text, then approve."""
    _decide(approval_id, "edit", text, None)


@approve_app.command("reject")
def approve_reject(approval_id: str, reason: Annotated[str, typer.Option(help="Why")] = "rejected") -> None:
    """Reject an item (it is never published)."""
    _decide(approval_id, "reject", None, reason)
