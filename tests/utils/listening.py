"""A brand listening to a sandbox world: workspace, connected accounts, a query, and polling rounds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from brandcrew.jobs.listening import ListeningRound, poll_listening
from brandcrew.llm.runtime import LlmRuntime
from brandcrew.notify import RetryPolicy
from brandcrew.services.alerts import NOTICE_KINDS, AlertNotifier
from brandcrew.store.tables import Alert, ListeningQuery
from tests.utils.domain import TEST_CIPHER
from tests.utils.sandbox import PublishingWorld, make_publishing_world

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
BRAND_QUERY = 'northwind OR @northwindcoffee OR "northwind coffee"'
FAST = RetryPolicy(attempts=2, base_s=0.0)


@dataclass
class ListeningWorld:
    """A sandbox world whose brand workspace polls one query; `round()` polls at the world's clock."""

    pw: PublishingWorld
    query_id: str
    runtime: LlmRuntime
    notifier: AlertNotifier
    rounds: list[ListeningRound] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.pw.engine

    @property
    def workspace_id(self) -> str:
        return self.pw.workspace_id

    async def round(self, **kwargs: Any) -> ListeningRound:
        result = await poll_listening(
            self.engine,
            self.workspace_id,
            accounts=self.pw.accounts,
            notifier=kwargs.pop("notifier", self.notifier),
            runtime=kwargs.pop("runtime", self.runtime),
            **kwargs,
        )
        self.rounds.append(result)
        return result

    async def run(self, duration: timedelta, *, every: timedelta = timedelta(minutes=5)) -> list[str]:
        """Advance the world `duration` in steps, polling after each; returns the alerts raised."""
        raised: list[str] = []
        steps = int(duration / every)
        for _ in range(steps):
            self.pw.world.advance(every)
            raised += (await self.round()).poll.alerts
        return raised

    def alerts(self) -> list[Alert]:
        with Session(self.engine, expire_on_commit=False) as session:
            # Alerts only: approval notices (a held statement's) share the table, not the meaning.
            rows = session.exec(select(Alert).order_by(Alert.window_start)).all()  # type: ignore[arg-type]
            return [a for a in rows if a.kind not in NOTICE_KINDS]

    def count(self, table: Any) -> int:
        with Session(self.engine, expire_on_commit=False) as session:
            return int(session.exec(select(func.count()).select_from(table)).one())


def make_listening_world(
    engine: Engine,
    *,
    query: str = BRAND_QUERY,
    alert_config: dict[str, Any] | None = None,
    history: timedelta = timedelta(hours=24),
    platforms: tuple[str, ...] = ("x",),
    seed: int = 5,
    extra_queries: dict[str, str] | None = None,
) -> ListeningWorld:
    """A brand with `history` of sandbox life behind it and a saved query (not yet polled)."""
    pw = make_publishing_world(engine, TEST_CIPHER, seed=seed, platforms=platforms, start=T0)
    pw.world.advance(history)
    with Session(engine) as session:
        row = ListeningQuery(
            workspace_id=pw.workspace_id, name="Brand mentions", query=query, alert_config=alert_config or {}
        )
        session.add(row)
        for name, text in (extra_queries or {}).items():
            session.add(ListeningQuery(workspace_id=pw.workspace_id, name=name, query=text))
        session.commit()
        query_id = row.id
    runtime = LlmRuntime.from_settings(engine=engine)
    notifier = AlertNotifier(engine, TEST_CIPHER, retry=FAST, backoff=timedelta(minutes=1))
    return ListeningWorld(pw=pw, query_id=query_id, runtime=runtime, notifier=notifier)
