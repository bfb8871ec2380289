"""Polling listening queries through the connectors: fetch, match, deduplicate, score, store, detect.

One poll of a workspace, for each active query:

1. **fetch** mentions since the query's last poll (less a small overlap, so late arrivals are not
   missed; the first poll reaches back `backfill_hours`) from every connected account on the
   query's platforms, asking the platform for a broad search built from the query's positive terms;
2. **match** them exactly with the boolean query, platforms and languages (a query's sentiment
   filter narrows what it shows, not what the detector sees, as in `ListeningPipeline`);
3. **deduplicate** by (platform, remote id): a mention already stored is neither scored nor stored
   again, it is only linked to the query;
4. **score** the new ones' sentiment in batches and **store** them with author, reach, engagement
   and language;
5. **detect**: the crisis detector is rebuilt from the query's stored mentions over its history
   window (so a restarted process sees exactly what a running one would) and every alert it raises
   for a recent, complete bucket is persisted, unless the alerts table already holds it or the same
   rule fired within its cooldown. Alerts are the source of truth; the detector keeps no state.

Per-query knobs live in the query's `alert_config` next to the detector's own (`CrisisConfig`):
`backfill_hours`, `overlap_minutes`, `max_alert_age_minutes`, `history_hours` and `pause_on`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Integer, case, cast, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from brandcrew.connectors.base import RemoteMention
from brandcrew.connectors.errors import AuthExpired, ConnectorError
from brandcrew.services import mentions as mention_store
from brandcrew.services.accounts import AccountsService
from brandcrew.services.alerts import alert_id_for, record_alert
from brandcrew.services.listening.crisis import (
    AuthorSignal,
    BucketStats,
    CrisisAlert,
    CrisisConfig,
    CrisisDetector,
)
from brandcrew.services.listening.query import (
    And,
    Not,
    Or,
    Phrase,
    QueryFilter,
    QueryNode,
    QuerySyntaxError,
    Term,
    parse_query,
)
from brandcrew.services.listening.sentiment import LexiconAnalyzer, SentimentAnalyzer, detect_language
from brandcrew.services.listening.trends import _STOPWORDS, extract_topics
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import (
    Alert,
    ListeningMatch,
    ListeningQuery,
    Mention,
    SocialAccount,
    Workspace,
    as_utc,
    utcnow,
)

__all__ = (
    "ListeningOptions",
    "PollReport",
    "QueryPoll",
    "alert_topic",
    "poll_workspace",
    "query_filter",
    "rebuild_detector",
    "search_string",
    "workspace_now",
)

log = logging.getLogger("brandcrew.listening")
SCORE_BATCH = 256


@dataclass(frozen=True, kw_only=True)
class ListeningOptions:
    """How a query is polled and what its alerts do (read from its `alert_config`)."""

    backfill_hours: float = 168.0
    """How far back the first poll reaches (a week of baseline for the detector)."""
    overlap_minutes: float = 10.0
    """Each poll re-reads this much before the previous one (duplicates are dropped)."""
    max_alert_age_minutes: float = 60.0
    """Alerts for older buckets are history, not news: they are not raised (e.g. on the first poll)."""
    history_hours: float | None = None
    """Stored history the detector is rebuilt from; default: its trailing baseline plus its seasonal days."""
    pause_on: frozenset[str] = frozenset({"crisis"})
    """Alert kinds that pause the brand's publishing and get a holding statement drafted."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ListeningOptions:
        """Options from a query's `alert_config`, ignoring the detector's keys and unknown ones."""
        known = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in values.items() if k in known}
        if "pause_on" in kwargs:
            kwargs["pause_on"] = frozenset(kwargs["pause_on"])
        return cls(**kwargs)

    def history(self, config: CrisisConfig) -> timedelta:
        """How much stored history rebuilds the detector."""
        if self.history_hours is not None:
            return timedelta(hours=self.history_hours)
        seasonal = config.seasonal_days * 24 if config.baseline == "seasonal" else 0
        return timedelta(hours=config.baseline_hours + seasonal)


@dataclass(kw_only=True)
class QueryPoll:
    """What one poll did for one query."""

    query_id: str
    fetched: int = 0
    matched: int = 0
    stored: int = 0
    """New mentions stored (the others were already known)."""
    alerts: list[str] = field(default_factory=list)
    """Ids of the alerts raised."""
    errors: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class PollReport:
    """What one poll of a workspace did."""

    workspace_id: str
    now: datetime
    queries: list[QueryPoll] = field(default_factory=list)

    @property
    def alerts(self) -> list[str]:
        """Every alert raised, over all queries."""
        return [a for q in self.queries for a in q.alerts]

    @property
    def stored(self) -> int:
        """New mentions stored, over all queries."""
        return sum(q.stored for q in self.queries)


# -- queries ---------------------------------------------------------------------------------------


def query_filter(query: ListeningQuery) -> QueryFilter:
    """The matcher of a saved query (raises `QuerySyntaxError` when it does not parse)."""
    return QueryFilter(
        query=query.query,
        platforms=query.platforms,
        languages=query.languages,
        excluded_terms=query.excluded_terms,
        sentiment=query.sentiment_filter or None,  # type: ignore[arg-type]
        detect_language=detect_language if query.languages else None,
    )


def _positive_terms(node: QueryNode) -> list[str] | None:
    """Terms one of which every match contains; None when no such set exists (e.g. `NOT x`)."""
    if isinstance(node, Term):
        return [node.text.rstrip("*")] if node.text.rstrip("*#@") else None
    if isinstance(node, Phrase):
        return ['"' + " ".join(node.words) + '"'] if node.words else None
    if isinstance(node, Not):
        return None
    if isinstance(node, And):
        # Any one operand's terms narrow the search; the shortest list makes the smallest query.
        options = [t for t in (_positive_terms(o) for o in node.operands) if t]
        return min(options, key=len) if options else None
    if isinstance(node, Or):
        out: list[str] = []
        for operand in node.operands:
            terms = _positive_terms(operand)
            if terms is None:
                return None
            out += terms
        return out
    return None  # pragma: no cover - every node type is handled above


def search_string(query: ListeningQuery, *, max_length: int = 400) -> str | None:
    """A broad platform search (`a OR b OR "c d"`) whose results include every match of the query.

    None when the query has no positive terms or the search would be too long; the poll then reads
    the account's mentions and matches them locally.
    """
    terms = _positive_terms(parse_query(query.query)) if query.query.strip() else None
    if terms is None:
        return None
    unique = list(dict.fromkeys(t.casefold() for t in terms))
    text = " OR ".join(unique)
    return text if len(text) <= max_length else None


# -- clock -----------------------------------------------------------------------------------------


def workspace_now(session: Session, workspace_id: str) -> datetime:
    """Now for a workspace: its sandbox world's clock when it is connected to one, else the wall clock."""
    workspace = session.get(Workspace, workspace_id)
    world_id = (workspace.settings or {}).get("sandbox_world") if workspace else None
    if world_id:
        from brandcrew.connectors.sandbox import SandboxClock

        try:
            return SandboxClock(session.get_bind(), str(world_id)).now()  # type: ignore[arg-type]
        except LookupError:
            log.warning("workspace %s names sandbox world %s, which does not exist", workspace_id, world_id)
    return utcnow()


# -- the poll --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_analyzer() -> SentimentAnalyzer:
    return LexiconAnalyzer()


async def poll_workspace(
    engine: Engine,
    accounts: AccountsService,
    *,
    workspace_id: str,
    now: datetime,
    analyzer: SentimentAnalyzer | None = None,
) -> PollReport:
    """Poll every active query of a workspace once at `now`; returns what was stored and raised."""
    analyzer = analyzer or _default_analyzer()
    report = PollReport(workspace_id=workspace_id, now=now)
    with Session(engine, expire_on_commit=False) as session:
        queries = list(
            session.exec(
                select(ListeningQuery)
                .where(ListeningQuery.workspace_id == workspace_id, col(ListeningQuery.is_active).is_(True))
                .order_by(col(ListeningQuery.created_at))
            ).all()
        )
        connected = list(
            session.exec(
                select(SocialAccount).where(
                    SocialAccount.workspace_id == workspace_id, col(SocialAccount.is_active).is_(True)
                )
            ).all()
        )
    fetch_cache: dict[tuple[str, str | None, datetime], list[RemoteMention]] = {}
    for query in queries:
        result = QueryPoll(query_id=query.id)
        report.queries.append(result)
        try:
            matcher = query_filter(query)
            config = CrisisConfig.from_mapping(query.alert_config or {})
            options = ListeningOptions.from_mapping(query.alert_config or {})
        except (QuerySyntaxError, TypeError, ValueError) as exc:
            result.errors.append(f"query {query.name!r} is invalid: {exc}")
            continue
        complete = await _fetch_and_store(
            engine, accounts, query, matcher, options, connected, now, analyzer, result, fetch_cache
        )
        if complete:
            with session_scope(engine) as session:
                row = session.get(ListeningQuery, query.id)
                if row is not None:
                    row.last_polled_at = now
                    session.add(row)
        alerts = await asyncio.to_thread(_detect, engine, query, config, options, now)
        for alert, details in alerts:
            raised = _raise(engine, query, alert, details, config, options, now)
            if raised is not None:
                result.alerts.append(raised)
    return report


async def _fetch_and_store(
    engine: Engine,
    accounts: AccountsService,
    query: ListeningQuery,
    matcher: QueryFilter,
    options: ListeningOptions,
    connected: Sequence[SocialAccount],
    now: datetime,
    analyzer: SentimentAnalyzer,
    result: QueryPoll,
    cache: dict[tuple[str, str | None, datetime], list[RemoteMention]],
) -> bool:
    """Fetch, match, score and store one query's new mentions; False when some account failed."""
    last = as_utc(query.last_polled_at)
    since = (
        last - timedelta(minutes=options.overlap_minutes)
        if last is not None
        else now - timedelta(hours=options.backfill_hours)
    )
    search = search_string(query)
    wanted = {p.lower() for p in query.platforms}
    complete = True
    found: dict[tuple[str, str], RemoteMention] = {}
    for account in connected:
        if wanted and account.platform.lower() not in wanted:
            continue
        key = (account.id, search, since)
        if key not in cache:
            try:
                cache[key] = await _fetch(accounts, account, since, search)
            except NotImplementedError:
                cache[key] = []
            except ConnectorError as exc:
                complete = False
                result.errors.append(f"{account.platform} @{account.username}: {exc}")
                continue
        for mention in cache[key]:
            at = as_utc(mention.created_at)
            if at is None or at > now:
                continue  # not yet "now" for this poll; the next one reads it again
            result.fetched += 1
            if matcher.prefilter(mention.text, platform=account.platform, language=mention.language):
                found.setdefault((account.platform, mention.remote_id), mention)
    result.matched = len(found)
    if found:
        result.stored = await asyncio.to_thread(_store, engine, query, found, now, analyzer)
    return complete


async def _fetch(
    accounts: AccountsService, account: SocialAccount, since: datetime, search: str | None
) -> list[RemoteMention]:
    connector = accounts.connector(account)
    try:
        return await connector.fetch_mentions(accounts.auth(account), since, query=search)
    except AuthExpired:
        auth = await accounts.refresh(account.id)
        return await connector.fetch_mentions(auth, since, query=search)


def _store(
    engine: Engine,
    query: ListeningQuery,
    found: Mapping[tuple[str, str], RemoteMention],
    now: datetime,
    analyzer: SentimentAnalyzer,
) -> int:
    """Score and store the unseen mentions, link every match to the query; returns how many were new."""
    by_platform: dict[str, list[RemoteMention]] = {}
    for (platform, _), mention in found.items():
        by_platform.setdefault(platform, []).append(mention)
    stored = 0
    with session_scope(engine) as session:
        for platform, items in by_platform.items():
            known = _known_ids(session, query.workspace_id, platform, [m.remote_id for m in items])
            new = [m for m in items if m.remote_id not in known]
            new = [
                m if m.language else m.model_copy(update={"language": detect_language(m.text)}) for m in new
            ]
            scores = _score(analyzer, [m.text for m in new])
            stored += mention_store.store_mentions(
                session,
                workspace_id=query.workspace_id,
                platform=platform,
                mentions=new,
                scorer=lambda _texts, s=scores: s,  # type: ignore[misc]
                query_id=query.id,
                fetched_at=now,
            )
            ids = _known_ids(session, query.workspace_id, platform, [m.remote_id for m in items])
            _link(session, query, [(ids[m.remote_id], as_utc(m.created_at) or now) for m in items])
    return stored


def _score(analyzer: SentimentAnalyzer, texts: Sequence[str]) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for i in range(0, len(texts), SCORE_BATCH):
        out += [(r.score, r.label) for r in analyzer.analyze_batch(texts[i : i + SCORE_BATCH])]
    return out


def _known_ids(
    session: Session, workspace_id: str, platform: str, remote_ids: Sequence[str]
) -> dict[str, str]:
    known: dict[str, str] = {}
    for i in range(0, len(remote_ids), 500):
        rows = session.exec(
            select(Mention.platform_mention_id, Mention.id).where(
                Mention.workspace_id == workspace_id,
                Mention.platform == platform,
                col(Mention.platform_mention_id).in_(remote_ids[i : i + 500]),
            )
        ).all()
        known.update({remote: mention_id for remote, mention_id in rows})
    return known


def _link(session: Session, query: ListeningQuery, rows: Iterable[tuple[str, datetime]]) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for mention_id, created_at in rows:
        stmt = insert(ListeningMatch.__table__).values(  # type: ignore[attr-defined]
            query_id=query.id, mention_id=mention_id, workspace_id=query.workspace_id, created_at=created_at
        )
        session.execute(stmt.on_conflict_do_nothing(index_elements=["query_id", "mention_id"]))


# -- detection -------------------------------------------------------------------------------------


def _floor(at: datetime, minutes: int) -> datetime:
    width = minutes * 60
    ts = at.timestamp()
    return datetime.fromtimestamp(ts - ts % width, tz=at.tzinfo)


def _history_rows(
    session: Session, query_id: str, start: datetime, end: datetime, *, min_followers: int = 0
) -> list[tuple[datetime, str, str | None, float | None, int, str]]:
    rows = session.execute(
        sa_select(
            col(Mention.created_at),
            col(Mention.author_username),
            col(Mention.sentiment),
            col(Mention.sentiment_score),
            col(Mention.author_followers),
            col(Mention.content),
        )
        .join(ListeningMatch, col(ListeningMatch.mention_id) == col(Mention.id))
        .where(
            col(ListeningMatch.query_id) == query_id,
            col(ListeningMatch.created_at) >= start,
            col(ListeningMatch.created_at) < end,
            col(Mention.author_followers) >= min_followers,
        )
        .order_by(col(ListeningMatch.created_at))
    ).all()
    return [(as_utc(r[0]) or start, r[1], r[2], r[3], r[4], r[5]) for r in rows]


def _bucket_history(
    session: Session, query_id: str, config: CrisisConfig, start: datetime, end: datetime
) -> list[BucketStats]:
    """The query's buckets in [start, end), counted in the database; influential authors attached."""
    width = config.bucket_minutes * 60
    at = col(ListeningMatch.created_at)
    index: Any
    if session.get_bind().dialect.name == "postgresql":
        index = func.floor(func.extract("epoch", at) / width)
    else:  # SQLite stores UTC text; strftime('%s') reads it as Unix seconds
        index = cast(func.strftime("%s", at), Integer).op("/")(width)
    counts = session.execute(
        sa_select(
            index.label("bucket"),
            func.count(),
            func.sum(case((col(Mention.sentiment) == "negative", 1), else_=0)),
            func.count(func.distinct(col(Mention.author_username))),
        )
        .join(Mention, col(Mention.id) == col(ListeningMatch.mention_id))
        .where(col(ListeningMatch.query_id) == query_id, at >= start, at < end)
        .group_by("bucket")
        .order_by("bucket")
    ).all()
    buckets = {
        int(b): BucketStats(
            start=datetime.fromtimestamp(int(b) * width, tz=UTC),
            mentions=int(n),
            negative=int(neg or 0),
            unique_authors=int(authors),
        )
        for b, n, neg, authors in counts
    }
    influential = _history_rows(session, query_id, start, end, min_followers=config.influencer_followers)
    for created, author, _label, score, followers, text in influential:
        bucket = buckets.get(int(created.timestamp() // width))
        if bucket is not None:
            bucket.influencers.append(
                AuthorSignal(author=author, followers=followers, sentiment_score=score or 0.0, text=text)
            )
    return [buckets[k] for k in sorted(buckets)]


def rebuild_detector(
    session: Session, query: ListeningQuery, config: CrisisConfig, *, now: datetime, history: timedelta
) -> tuple[CrisisDetector, list[CrisisAlert]]:
    """A fresh detector fed the query's stored mentions of every complete bucket in the history window."""
    end = _floor(now, config.bucket_minutes)
    start = _floor(now - history, config.bucket_minutes)
    detector = CrisisDetector(config, query_id=query.id)
    alerts = detector.observe_many(_bucket_history(session, query.id, config, start, end))
    return detector, alerts


def _detect(
    engine: Engine, query: ListeningQuery, config: CrisisConfig, options: ListeningOptions, now: datetime
) -> list[tuple[CrisisAlert, dict[str, Any]]]:
    """The recent alerts of a rebuilt detector, each with evidence (topic, examples) from its window."""
    with Session(engine) as session:
        _, alerts = rebuild_detector(session, query, config, now=now, history=options.history(config))
        oldest = now - timedelta(minutes=options.max_alert_age_minutes)
        recent = [a for a in alerts if as_utc(a.at) >= oldest]  # type: ignore[operator]
        out = []
        for alert in recent:
            known = alert_id_for(
                workspace_id=query.workspace_id, query_id=query.id, rule_key=_rule_key(alert), at=alert.at
            )
            if session.get(Alert, known) is not None:
                continue  # raised by an earlier poll (or another process)
            window_end = alert.at + timedelta(minutes=config.bucket_minutes)
            rows = _history_rows(session, query.id, window_end - timedelta(hours=1), window_end)
            out.append((alert, _evidence(session, query, rows)))
        return out


def _evidence(
    session: Session,
    query: ListeningQuery,
    rows: Sequence[tuple[datetime, str, str | None, float | None, int, str]],
) -> dict[str, Any]:
    negative = [r for r in rows if r[2] == "negative"]
    pool = negative if len(negative) >= 3 else list(rows)
    workspace = session.get(Workspace, query.workspace_id)
    brand = workspace.name if workspace else ""
    topic = alert_topic([r[5] for r in pool], exclude=[brand, query.query])
    examples = [r[5][:200] for r in sorted(pool, key=lambda r: r[4], reverse=True)[:3]]
    details: dict[str, Any] = {
        "examples": examples,
        "window_mentions_1h": len(rows),
        "negative_1h": len(negative),
    }
    if topic:
        details["topic"] = topic
    return details


_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


def alert_topic(texts: Sequence[str], *, exclude: Sequence[str] = (), min_count: int = 2) -> str | None:
    """What an alert's mentions are about: their most shared 2-3 word phrase (or word), brand words left out.

    A phrase may not start or end with a stop word and may not contain a word of `exclude` (the brand
    name, the query's own terms), so "the product recall" in "Acme and the product recall?" gives
    `product recall`.
    """
    banned = {w.casefold().lstrip("#@") for text in exclude for w in _WORD.findall(text)}
    banned |= {"".join(w.casefold() for w in _WORD.findall(text)) for text in exclude}
    counts: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        cleaned = re.sub(r"https?://\S+|[#@]\w+", " ", text)
        words = [w.casefold().strip("'’-") for w in _WORD.findall(cleaned)]
        seen: set[tuple[str, ...]] = set()
        for n in (3, 2):
            for i in range(len(words) - n + 1):
                gram = tuple(words[i : i + n])
                if gram[0] in _STOPWORDS or gram[-1] in _STOPWORDS or any(w in banned for w in gram):
                    continue
                seen.add(gram)
        counts.update(seen)
    best = [(c, len(g), g) for g, c in counts.items() if c >= min_count]
    if best:
        return " ".join(max(best)[2])
    singles = Counter(
        t for text in texts for t in extract_topics(text) if not t.startswith("#") and t not in banned
    )
    common = [w for w, c in singles.most_common(1) if c >= min_count]
    return common[0] if common else None


def _raise(
    engine: Engine,
    query: ListeningQuery,
    alert: CrisisAlert,
    evidence: dict[str, Any],
    config: CrisisConfig,
    options: ListeningOptions,
    now: datetime,
) -> str | None:
    try:
        with session_scope(engine) as session:
            row = _record(session, query, alert, evidence, config, options, now)
            return row.id if row is not None else None
    except IntegrityError:
        return None  # another poller recorded the same alert a moment ago


def _rule_key(alert: CrisisAlert) -> str:
    """What a rule's cooldown is kept by: its kind, per author for influencers."""
    return f"influencer:{alert.details.get('author')}" if alert.kind == "influencer" else alert.kind


def _record(
    session: Session,
    query: ListeningQuery,
    alert: CrisisAlert,
    evidence: dict[str, Any],
    config: CrisisConfig,
    options: ListeningOptions,
    now: datetime,
) -> Alert | None:
    return record_alert(
        session,
        workspace_id=query.workspace_id,
        query_id=query.id,
        query_name=query.name,
        kind=alert.kind,
        rule_key=_rule_key(alert),
        severity=alert.severity,
        reason=alert.reason,
        details={**alert.details, **evidence},
        window_start=alert.at,
        window_end=alert.at + timedelta(minutes=config.bucket_minutes),
        cooldown=timedelta(minutes=config.cooldown_minutes),
        pause=alert.kind in options.pause_on,
        now=now,
    )
