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
5. **detect**: the crisis detector is fed the query's stored mentions over its history window (so a
   restarted process sees exactly what a running one would) and every alert it raises for a recent,
   complete bucket is persisted, unless the alerts table already holds it or the same rule fired
   within its cooldown. Alerts are the source of truth. Within a process a poll continues the
   previous poll's detector snapshot (`DetectorCache`) instead of replaying two weeks of buckets; the
   snapshot is used only while it equals what a fresh replay would build;
6. **group**: influencer alerts are one per query per cooldown; the negative influential mentions that
   follow within it are added to the open alert's reason and details (authors and counts).

Per-query knobs live in the query's `alert_config` next to the detector's own (`CrisisConfig`):
`backfill_hours`, `overlap_minutes`, `max_alert_age_minutes`, `history_hours` and `pause_on`.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import re
import threading
from collections import Counter, OrderedDict
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
from brandcrew.connectors.errors import ConnectorError
from brandcrew.services import mentions as mention_store
from brandcrew.services.accounts import AccountsService
from brandcrew.services.alerts import alert_id_for, record_alert
from brandcrew.services.listening.crisis import (
    AuthorSignal,
    BucketStats,
    CrisisAlert,
    CrisisConfig,
    CrisisDetector,
    influencer_alert_text,
    influential_authors,
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
    "DetectorCache",
    "ListeningOptions",
    "PollReport",
    "QueryPoll",
    "alert_topic",
    "detector_cache",
    "history_window",
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
    extended: list[str] = field(default_factory=list)
    """Ids of open influencer alerts that later influential mentions joined (details updated)."""
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
        keywords=query.keywords or (),
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
    nodes: list[QueryNode] = [parse_query(query.query)] if query.query.strip() else []
    keywords = [k for k in (query.keywords or []) if k.strip()]
    if keywords:
        # Every match contains one of the keywords, so they narrow the search like an AND operand.
        nodes.append(Or(tuple(parse_query(f'"{k}"' if " " in k and '"' not in k else k) for k in keywords)))
    if not nodes:
        return None
    terms = _positive_terms(nodes[0] if len(nodes) == 1 else And(tuple(nodes)))
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
        if "influencer" in config.enabled:
            result.extended = await asyncio.to_thread(
                _extend_influencer_alerts, engine, query, config, options, now
            )
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
    return await accounts.with_auth(account, lambda auth: connector.fetch_mentions(auth, since, query=search))


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


def _epoch_over(session: Session, at: Any, seconds: int) -> Any:
    """SQL for `at` in Unix seconds divided by `seconds` (whole buckets on SQLite, floored on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", at) / seconds)
    # SQLite stores UTC text; strftime('%s') reads it as Unix seconds
    return cast(func.strftime("%s", at), Integer).op("/")(seconds)


def _bucket_history(
    session: Session, query_id: str, config: CrisisConfig, start: datetime, end: datetime
) -> list[BucketStats]:
    """The query's buckets in [start, end), counted in the database; influential authors attached."""
    width = config.bucket_minutes * 60
    at = col(ListeningMatch.created_at)
    index = _epoch_over(session, at, width)
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


def _anchor_minutes(history: timedelta, bucket_minutes: int) -> int:
    """How coarsely the history window's start moves: about a fourteenth of the window in whole
    buckets, at most a day (a day for the default two weeks)."""
    buckets = round(history / timedelta(minutes=bucket_minutes) / 14)
    return bucket_minutes * max(1, min(buckets, 24 * 60 // bucket_minutes))


def history_window(now: datetime, config: CrisisConfig, history: timedelta) -> tuple[datetime, datetime]:
    """The [start, end) of the buckets a detector at `now` is fed: the complete buckets of `history`.

    The start moves in steps (`_anchor_minutes`, a day for the default two weeks), not with every
    poll, so the polls of one step replay one and the same series (an incremental poll continues it
    exactly) at the price of up to one step more history than asked for.
    """
    end = _floor(now, config.bucket_minutes)
    start = _floor(now - history, _anchor_minutes(history, config.bucket_minutes))
    return min(start, end), end


def rebuild_detector(
    session: Session, query: ListeningQuery, config: CrisisConfig, *, now: datetime, history: timedelta
) -> tuple[CrisisDetector, list[CrisisAlert]]:
    """A fresh detector fed the query's stored mentions of every complete bucket in the history window."""
    start, end = history_window(now, config, history)
    detector = CrisisDetector(config, query_id=query.id)
    alerts = detector.observe_many(_bucket_history(session, query.id, config, start, end))
    return detector, alerts


Fingerprint = tuple[int, int, int, int, int]


def _fingerprint(
    session: Session, query_id: str, config: CrisisConfig, start: datetime, end: datetime
) -> Fingerprint:
    """A cheap checksum of what the detector reads of [start, end): matches, negatives, the sum of
    their timestamps, influential matches and their followers. Sums, so two ranges' add up."""
    if end <= start:
        return (0, 0, 0, 0, 0)
    at = col(ListeningMatch.created_at)
    influential = col(Mention.author_followers) >= config.influencer_followers
    row = session.execute(
        sa_select(
            func.count(),
            func.sum(case((col(Mention.sentiment) == "negative", 1), else_=0)),
            func.sum(_epoch_over(session, at, 1)),
            func.sum(case((influential, 1), else_=0)),
            func.sum(case((influential, col(Mention.author_followers)), else_=0)),
        )
        .join(Mention, col(Mention.id) == col(ListeningMatch.mention_id))
        .where(col(ListeningMatch.query_id) == query_id, at >= start, at < end)
    ).one()
    return tuple(int(v or 0) for v in row)  # type: ignore[return-value]


@dataclass(kw_only=True)
class _Snapshot:
    signature: tuple[Any, ...]
    """(config, history, max alert age): what the snapshot was built for."""
    detector: CrisisDetector
    start: datetime
    """Start of the history window (`history_window`)."""
    fed_until: datetime
    """The detector has been fed every bucket of [start, fed_until)."""
    fingerprint: Fingerprint
    """`_fingerprint` of [start, fed_until) when it was fed."""
    alerts: list[CrisisAlert]
    """The alerts those buckets raised that may still be recent."""


class DetectorCache:
    """Detector snapshots kept between polls in this process, so a poll feeds only the new buckets.

    A query's snapshot is its detector fed the history window up to a *safe point*: the poll's time
    less the fetch overlap, floored to a bucket. Later polls re-read only the overlap, so they store
    no mention before it; a poll copies the snapshot and feeds it the buckets since (the open tail,
    which late mentions may still fill), after first advancing the snapshot to its own safe point.

    The cache is only a shortcut to the same detector a fresh process rebuilds (alerts stay the
    source of truth): a snapshot is dropped when the query's config changes, when a poll's time is
    before its safe point, when the history window's start moves on (`history_window`; daily by
    default) or when the stored history before its safe point changed (a checksum of count,
    negatives, timestamps and influential authors, e.g. a fetch that failed and caught up later).
    """

    def __init__(self, *, max_queries: int = 128) -> None:
        """Keep at most `max_queries` snapshots (the least recently polled go first; one is about
        half a megabyte for two weeks of history)."""
        self.enabled = True
        self.max_queries = max_queries
        self.rebuilds = 0
        """Polls that fed a fresh detector the whole history window."""
        self.increments = 0
        """Polls that continued a snapshot."""
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Snapshot] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every snapshot (the next polls rebuild, as in a fresh process)."""
        with self._lock:
            self._entries.clear()

    def take(self, key: tuple[str, str]) -> _Snapshot | None:
        """Remove and return a query's snapshot (a concurrent poll of the same query rebuilds)."""
        with self._lock:
            return self._entries.pop(key, None) if self.enabled else None

    def put(self, key: tuple[str, str], snapshot: _Snapshot) -> None:
        """Keep a query's snapshot for its next poll."""
        with self._lock:
            if not self.enabled:
                return
            self._entries[key] = snapshot
            while len(self._entries) > self.max_queries:
                self._entries.popitem(last=False)


detector_cache = DetectorCache()
"""This process's detector snapshots (`enabled = False` makes every poll rebuild)."""


def _detector_alerts(
    session: Session, query: ListeningQuery, config: CrisisConfig, options: ListeningOptions, now: datetime
) -> list[CrisisAlert]:
    """The alerts a detector fed the history window at `now` raises, those before the safe point
    only if they may still be recent; the same as `rebuild_detector`'s, from a snapshot when valid."""
    history = options.history(config)
    start, end = history_window(now, config, history)
    safe = min(
        end, max(start, _floor(now - timedelta(minutes=options.overlap_minutes), config.bucket_minutes))
    )
    signature = (config, history, options.max_alert_age_minutes)
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), query.id)
    snap = detector_cache.take(key)
    if snap is not None and (
        snap.signature != signature
        or snap.start != start
        or snap.fed_until > safe
        or _fingerprint(session, query.id, config, start, snap.fed_until) != snap.fingerprint
    ):
        snap = None
    if snap is None:
        fingerprint = _fingerprint(session, query.id, config, start, safe)  # before reading: a row
        detector = CrisisDetector(config, query_id=query.id)  # stored in between forces a rebuild
        alerts = detector.observe_many(_bucket_history(session, query.id, config, start, safe))
        snap = _Snapshot(
            signature=signature,
            detector=detector,
            start=start,
            fed_until=safe,
            fingerprint=fingerprint,
            alerts=alerts,
        )
        detector_cache.rebuilds += 1
    else:
        delta = _fingerprint(session, query.id, config, snap.fed_until, safe)
        snap.alerts += snap.detector.observe_many(
            _bucket_history(session, query.id, config, snap.fed_until, safe)
        )
        snap.fingerprint = tuple(a + b for a, b in zip(snap.fingerprint, delta, strict=True))  # type: ignore[assignment]
        snap.fed_until = safe
        detector_cache.increments += 1
    keep_from = safe - timedelta(minutes=options.max_alert_age_minutes + config.bucket_minutes)
    snap.alerts = [a for a in snap.alerts if as_utc(a.at) >= keep_from]  # type: ignore[operator]
    tail: list[CrisisAlert] = []
    buckets = _bucket_history(session, query.id, config, safe, end)
    if buckets:  # the open tail goes to a copy; the snapshot stays at the safe point
        tail = pickle.loads(pickle.dumps(snap.detector, pickle.HIGHEST_PROTOCOL)).observe_many(buckets)
    alerts = snap.alerts + tail
    detector_cache.put(key, snap)
    return alerts


def _detect(
    engine: Engine, query: ListeningQuery, config: CrisisConfig, options: ListeningOptions, now: datetime
) -> list[tuple[CrisisAlert, dict[str, Any]]]:
    """The recent alerts of the query's detector, each with evidence (topic, examples) from its window."""
    with Session(engine) as session:
        alerts = _detector_alerts(session, query, config, options, now)
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
    """What a rule's cooldown is kept by: its kind (influencer alerts are grouped per query too)."""
    return alert.kind


def _extend_influencer_alerts(
    engine: Engine, query: ListeningQuery, config: CrisisConfig, options: ListeningOptions, now: datetime
) -> list[str]:
    """Bring the query's open influencer alerts up to date; returns the ids of those changed.

    An influencer alert stands for every negative influential mention of its cooldown window
    [window start, window start + cooldown): its reason and details are recomputed from the stored
    mentions of that window seen so far (authors most followed first, with their mention counts), so
    the later ones join it instead of raising alerts of their own. The result depends only on the
    stored mentions, so a restarted process writes the same; an alert is kept up to date until the
    max alert age and the fetch overlap past its window's end. Severity and delivery are not changed.
    """
    cooldown = timedelta(minutes=config.cooldown_minutes)
    grace = timedelta(minutes=options.max_alert_age_minutes + options.overlap_minutes)
    end = _floor(now, config.bucket_minutes)
    changed = []
    with session_scope(engine) as session:
        rows = session.exec(
            select(Alert).where(
                Alert.workspace_id == query.workspace_id,
                Alert.query_id == query.id,
                Alert.rule_key == "influencer",
                col(Alert.window_start) > now - cooldown - grace,
                col(Alert.window_start) <= now,
            )
        ).all()
        for row in rows:
            start = as_utc(row.window_start)
            assert start is not None
            stop = min(start + cooldown, end)
            signals = [
                AuthorSignal(author=author, followers=followers, sentiment_score=score or 0.0, text=text)
                for _at, author, _label, score, followers, text in _history_rows(
                    session, query.id, start, stop, min_followers=config.influencer_followers
                )
            ]
            authors = influential_authors(signals, config)
            if not authors:
                continue
            _severity, reason, summary = influencer_alert_text(authors, config)
            details = {
                **(row.details or {}),
                **summary,
                "top_authors": [
                    {"author": a.author, "followers": a.followers, "mentions": a.mentions}
                    for a in authors[:10]
                ],
                "counted_until": stop.isoformat(),
            }
            if details != row.details or reason != row.reason:
                row.details, row.reason = details, reason
                session.add(row)
                changed.append(row.id)
    return changed


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
