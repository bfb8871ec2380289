"""The listening job: every 5 minutes, poll each workspace's queries, deliver alerts, draft statements.

`poll_listening(engine, workspace_id, now=...)` is one full round for one brand, callable directly
(tests, the autopilot) with a simulated clock:

1. poll the active queries through the connectors and raise alerts (`services.listening.polling`);
   a crisis alert pauses the brand's publishing in the same transaction; inbox conversations past
   their SLA raise one `sla_breach` alert each (`services.inbox_rules.check_sla_breaches`);
2. deliver due alert notifications (webhook, Slack, email, SMS), keeping failures for a retry;
3. for every open alert that paused publishing and has no holding statement yet, the crisis agent
   drafts one through the model runtime (the offline model when no provider key is set) and it is
   saved as a pending approval; a failed draft is retried on the next round.

In the worker, `ListeningJob.start()` registers a DBOS cron schedule (`*/5 * * * *`) of
`listening_poll_workflow`. DBOS gives each firing a deterministic workflow id, so with several
workers a tick runs once; each workspace is one step, and one brand's failure does not stop the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbos import DBOS
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from brandcrew.errors import BrandcrewError
from brandcrew.services import alerts as alert_service
from brandcrew.services.accounts import AccountsService, default_accounts_service
from brandcrew.services.alerts import AlertNotifier, DeliveryReport
from brandcrew.services.inbox_rules import check_sla_breaches
from brandcrew.services.listening.polling import PollReport, poll_workspace, workspace_now
from brandcrew.services.listening.sentiment import SentimentAnalyzer
from brandcrew.services.workspaces import brand_of
from brandcrew.settings import get_settings
from brandcrew.store.crypto import FieldCipher, load_cipher
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Alert, Conversation, ListeningQuery, as_utc

if TYPE_CHECKING:
    from brandcrew.llm.runtime import LlmRuntime

__all__ = (
    "SCHEDULE",
    "SCHEDULE_NAME",
    "ListeningJob",
    "ListeningRound",
    "draft_holding_statements",
    "listening_poll_workflow",
    "poll_listening",
    "workspaces_with_queries",
)

log = logging.getLogger("brandcrew.listening")
SCHEDULE = "*/5 * * * *"
SCHEDULE_NAME = "brandcrew-listening-poll"
CRISIS_AGENT = "crisis_management"


@dataclass(kw_only=True)
class ListeningRound:
    """What one round did for one workspace."""

    poll: PollReport
    deliveries: DeliveryReport
    statements: list[str] = field(default_factory=list)
    """Ids of the holding-statement approvals drafted."""
    sla_breaches: list[str] = field(default_factory=list)
    """Ids of the inbox conversations found past their SLA this round (each alerted once)."""

    def summary(self) -> dict[str, Any]:
        """Plain figures (DBOS step output, logs)."""
        return {
            "workspace_id": self.poll.workspace_id,
            "now": self.poll.now.isoformat(),
            "stored": self.poll.stored,
            "alerts": self.poll.alerts,
            "errors": [e for q in self.poll.queries for e in q.errors],
            "sent": len(self.deliveries.sent),
            "delivery_failures": len(self.deliveries.retrying) + len(self.deliveries.failed),
            "statements": self.statements,
            "sla_breaches": self.sla_breaches,
        }


async def poll_listening(
    engine: Engine,
    workspace_id: str,
    *,
    now: datetime | None = None,
    accounts: AccountsService | None = None,
    cipher: FieldCipher | None = None,
    analyzer: SentimentAnalyzer | None = None,
    notifier: AlertNotifier | None = None,
    runtime: LlmRuntime | None = None,
) -> ListeningRound:
    """Poll, alert, deliver and draft for one workspace at `now` (default: its sandbox world's clock
    when it has one, else the wall clock)."""
    if now is None:
        with Session(engine) as session:
            now = workspace_now(session, workspace_id)
    if accounts is None or notifier is None:
        cipher = cipher or load_cipher(get_settings().data_dir)
    if accounts is None:
        assert cipher is not None
        accounts = default_accounts_service(engine, cipher)
    if notifier is None:
        assert cipher is not None
        notifier = AlertNotifier(engine, cipher)
    poll = await poll_workspace(engine, accounts, workspace_id=workspace_id, now=now, analyzer=analyzer)
    # Before delivery, so an SLA breach alert goes out in the same round.
    breaches = check_sla_breaches(engine, now, workspace_id=workspace_id)
    deliveries = await notifier.deliver_due(now=now, workspace_id=workspace_id)
    statements = await draft_holding_statements(engine, workspace_id, runtime=runtime)
    return ListeningRound(poll=poll, deliveries=deliveries, statements=statements, sla_breaches=breaches)


def workspaces_with_queries(engine: Engine) -> list[str]:
    """Workspaces with at least one active listening query, or an inbox SLA still running."""
    with Session(engine) as session:
        rows = set(
            session.exec(
                select(ListeningQuery.workspace_id).where(col(ListeningQuery.is_active).is_(True)).distinct()
            ).all()
        )
        rows |= set(
            session.exec(
                select(Conversation.workspace_id)
                .where(
                    col(Conversation.status).in_(("open", "pending")),
                    col(Conversation.sla_deadline).is_not(None),
                    col(Conversation.sla_breached_at).is_(None),
                )
                .distinct()
            ).all()
        )
    return sorted(rows)


# -- holding statements ----------------------------------------------------------------------------

_FALLBACK_PROMPT = (
    "You handle reputation risks for {brand_name}. Draft a calm holding statement that acknowledges, "
    "says what happens next and never admits liability. Everything you draft needs a person's approval."
)


def _crisis_prompt(configs_dir: Path, values: dict[str, Any]) -> str:
    from brandcrew.agents.spec import AgentSpec

    path = configs_dir / "agents" / f"{CRISIS_AGENT}.yaml"
    if path.is_file():
        try:
            return AgentSpec.from_file(path).render_prompt(values)
        except BrandcrewError:
            log.warning("cannot read %s; drafting with the built-in crisis prompt", path)
    return _FALLBACK_PROMPT.format_map(values)


async def draft_statement(
    engine: Engine, alert: Alert, *, runtime: LlmRuntime | None = None
) -> tuple[str, str]:
    """The crisis agent's holding statement for an alert, and the model that wrote it."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from brandcrew.llm.chat import ChatBrandcrew, response_text
    from brandcrew.llm.context import llm_context

    with Session(engine) as session:
        brand = brand_of(session, alert.workspace_id)
    details = alert.details or {}
    topic = str(details.get("topic") or "the concerns people are raising")
    examples = [str(e).replace('"', "") for e in details.get("examples", [])][:3]
    system = _crisis_prompt(get_settings().configs_dir, {"brand_name": brand.name})
    context = [
        f"Alert {alert.id} ({alert.severity}, {alert.kind.replace('_', ' ')}) on the listening query "
        f"{details.get('query_name', alert.query_id)}: {alert.reason}.",
        "Publishing is paused until a person clears the alert.",
    ]
    if examples:
        context.append("What people are posting:\n" + "\n".join(f"- {e}" for e in examples))
    system = f"{system}\n\nAlert context:\n" + "\n".join(context)
    ask = f"Draft a calm holding statement about the {topic}."
    model = ChatBrandcrew(
        runtime=runtime,
        agent=CRISIS_AGENT,
        step="write",
        workspace_id=alert.workspace_id,
        run_id=f"alert-{alert.id}",
        metadata_hints={"brand": brand.as_hints()},
    )
    with llm_context(workspace_id=alert.workspace_id, agent=CRISIS_AGENT, run_id=f"alert-{alert.id}"):
        message = await model.ainvoke([SystemMessage(system), HumanMessage(ask)])
    used = str((message.response_metadata or {}).get("model_name") or "")
    return response_text(message).strip(), used


async def draft_holding_statements(
    engine: Engine, workspace_id: str, *, runtime: LlmRuntime | None = None
) -> list[str]:
    """Draft a statement for every open pausing alert that has none yet; returns the new approval ids."""
    with Session(engine, expire_on_commit=False) as session:
        pending = [
            a
            for a in alert_service.list_alerts(session, workspace_id=workspace_id, status="open", limit=20)
            if a.paused_publishing and alert_service.statement_for(session, a.id) is None
        ]
    drafted = []
    for alert in sorted(pending, key=lambda a: as_utc(a.created_at) or as_utc(a.window_start)):  # type: ignore[arg-type, return-value]
        try:
            statement, model = await draft_statement(engine, alert, runtime=runtime)
        except BrandcrewError as exc:  # budget spent, no model: the next round tries again
            log.warning("holding statement for alert %s not drafted: %s", alert.id, exc)
            continue
        if not statement:
            continue
        with session_scope(engine) as session:
            if alert_service.statement_for(session, alert.id) is not None:
                continue  # another round drafted it meanwhile
            approval = alert_service.propose_statement(
                session,
                workspace_id=workspace_id,
                alert_id=alert.id,
                statement=statement,
                requested_by=CRISIS_AGENT,
                model=model or None,
            )
            drafted.append(approval.id)
    return drafted


# -- the DBOS schedule -----------------------------------------------------------------------------


@dataclass
class ListeningJob:
    """The listening schedule of a worker process (what the scheduled workflow polls with)."""

    engine: Engine
    accounts: AccountsService
    cipher: FieldCipher
    schedule: str = SCHEDULE
    analyzer: SentimentAnalyzer | None = None
    notifier: AlertNotifier | None = None

    async def start(self) -> None:
        """Register this job for the workflow and (re)create the cron schedule (DBOS must be launched)."""
        global _job
        _job = self
        await DBOS.apply_schedules_async(
            [
                {
                    "schedule_name": SCHEDULE_NAME,
                    "workflow_fn": listening_poll_workflow,
                    "schedule": self.schedule,
                }
            ]
        )

    async def poll(self, workspace_id: str) -> dict[str, Any]:
        """One round for one workspace, never raising (the error is logged and returned)."""
        try:
            result = await poll_listening(
                self.engine,
                workspace_id,
                accounts=self.accounts,
                cipher=self.cipher,
                analyzer=self.analyzer,
                notifier=self.notifier or AlertNotifier(self.engine, self.cipher),
            )
        except Exception as exc:  # one brand's failure must not stop the others
            log.exception("listening poll of workspace %s failed", workspace_id)
            return {"workspace_id": workspace_id, "failed": f"{type(exc).__name__}: {exc}"}
        summary = result.summary()
        if summary["alerts"]:
            log.warning("workspace %s: %d listening alert(s) raised", workspace_id, len(summary["alerts"]))
        return summary


_job: ListeningJob | None = None


def _current() -> ListeningJob:
    if _job is None:
        raise RuntimeError("no listening job registered in this process; start a ListeningJob first")
    return _job


@DBOS.step(name="brandcrew.listening.workspaces")
async def _workspaces_step() -> list[str]:
    return workspaces_with_queries(_current().engine)


@DBOS.step(name="brandcrew.listening.poll_workspace")
async def _poll_step(workspace_id: str) -> dict[str, Any]:
    return await _current().poll(workspace_id)


@DBOS.workflow(name="brandcrew.listening.poll")
async def listening_poll_workflow(scheduled_at: datetime, context: Any) -> None:
    """One scheduled round: every workspace with an active query, one step each."""
    for workspace_id in await _workspaces_step():
        await _poll_step(workspace_id)
