"""Benchmark of exactly-once publishing: outbox throughput and scheduling lateness.

    python -m bench.publishing [--json] [--posts 600] [--late-posts 5000] [--window-s 300]

(a) Throughput: N posts due now on a sandbox world (3 accounts), drained by one worker process's
    publish workflows (DBOS), on SQLite and on PostgreSQL; beside the ceiling of a naive loop that
    calls the same sandbox connector directly with no outbox, no claims and no workflow.
(b) Lateness: 5,000 posts due at spread times within 5 minutes, published by a worker running in
    real time; lateness = platform creation time - due time (p50, p99). Platform daily quotas are
    lifted here: this measures the scheduler, not the quotas.
Both end with the exactly-once verdict (duplicates, lost) over every outbox row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bench._table import emit_json, percentile, print_table
from brandcrew.connectors.drafts import PostDraft
from brandcrew.jobs._dbos import launch_dbos, shutdown_dbos
from brandcrew.jobs.publisher import Publisher, PublisherPolicy
from brandcrew.jobs.worker import PublishWorker, WorkerOptions
from brandcrew.settings import Settings
from brandcrew.store.crypto import load_cipher
from brandcrew.store.engine import make_engine
from brandcrew.store.migrate import upgrade
from brandcrew.store.tables import OutboxEntry, as_utc
from tests.utils.sandbox import make_publishing_world, queue_posts, tally

PG_URL = os.environ.get("BRANDCREW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_engine() -> tuple[Any, str] | None:
    try:
        import psycopg

        schema = f"bc_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except Exception:
        return None
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
    upgrade(engine)
    return engine, schema


def _drop_pg(engine: Any, schema: str) -> None:
    import psycopg

    engine.dispose()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'DROP SCHEMA IF EXISTS "dbos_{schema}" CASCADE')


def _lift_quotas(pw: Any) -> None:
    for platform in pw.account_ids:
        pw.world.set_quota(platform, 10**9)  # None would restore the documented quota


async def _worker_drain(engine: Any, pw: Any, settings: Settings, *, timeout_s: float) -> float:
    """Run one worker until every row is closed; returns seconds taken."""
    launch_dbos(settings=settings, executor_id="bench")
    publisher = Publisher(
        engine,
        pw.accounts,
        policy=PublisherPolicy(lease_s=30, retry_base_s=0.5, unknown_grace_s=0),
        worker_id="bench",
        enforce_quotas=False,
    )
    worker = PublishWorker(publisher, WorkerOptions(poll_s=0.05, max_sleep_s=0.5, concurrency=32))
    await worker.start()
    started = time.perf_counter()
    stop = asyncio.Event()
    runner = asyncio.create_task(worker.run(stop))
    deadline = started + timeout_s
    try:
        while time.perf_counter() < deadline:
            if await asyncio.to_thread(worker.open_count) == 0:
                break
            await asyncio.sleep(0.05)
        return time.perf_counter() - started
    finally:
        stop.set()
        await runner
        shutdown_dbos()


async def _naive(engine: Any, pw: Any, n: int) -> float:
    """The ceiling: the same connector called in a loop, one account at a time, no bookkeeping."""
    connector = pw.world.connector()
    auths = [a.auth() for a in pw.world.own_accounts()]
    started = time.perf_counter()

    async def account_loop(auth: Any, count: int) -> None:
        for i in range(count):
            draft = PostDraft(
                platform=auth.platform, text=f"Naive post {uuid.uuid4().hex[:6]} {i} for the ceiling"
            )
            await connector.publish(auth, draft, idempotency_key=uuid.uuid4().hex)

    per = n // len(auths)
    await asyncio.gather(*(account_loop(a, per) for a in auths))
    return time.perf_counter() - started


def bench_throughput(n: int, workdir: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    """Part (a)."""
    rows: list[list[Any]] = []
    figures: dict[str, Any] = {}
    backends: list[tuple[str, Any, Any]] = []
    sqlite_engine = make_engine(f"sqlite:///{workdir / 'tp.db'}")
    upgrade(sqlite_engine)
    backends.append(("sqlite", sqlite_engine, None))
    pg = _pg_engine()
    if pg is not None:
        backends.append(("postgres", pg[0], pg[1]))
    for name, engine, schema in backends:
        settings = Settings(data_dir=workdir / name, dbos_schema=f"dbos_{schema}" if schema else "dbos")
        if schema:
            settings = settings.model_copy(
                update={"database_url": engine.url.render_as_string(hide_password=False)}
            )
        pw = make_publishing_world(
            engine, load_cipher(workdir), seed=11, platforms=("x", "facebook", "linkedin")
        )
        _lift_quotas(pw)
        naive_s = asyncio.run(_naive(engine, pw, 150))
        queue_posts(pw, n, at=pw.world.now(), rotation=("x", "facebook", "linkedin"), tag=name)
        seconds = asyncio.run(_worker_drain(engine, pw, settings, timeout_s=600))
        verdict = tally(pw)
        rate, ceiling = verdict.published / seconds, 150 / naive_s
        figures[f"posts_per_s_{name}"] = round(rate, 1)
        figures[f"naive_posts_per_s_{name}"] = round(ceiling, 1)
        figures[f"duplicates_{name}"], figures[f"lost_{name}"] = verdict.duplicates, verdict.lost
        rows.append(
            [
                f"brandcrew outbox + DBOS, {name}",
                verdict.published,
                f"{seconds:.1f}s",
                f"{rate:.1f}",
                f"{rate / ceiling:.2f}",
                verdict.duplicates,
                verdict.lost,
            ]
        )
        rows.append(
            [f"naive direct loop, {name}", 150, f"{naive_s:.1f}s", f"{ceiling:.1f}", "1.00", "-", "-"]
        )
        if schema:
            _drop_pg(engine, schema)
    return figures, rows


def bench_lateness(n: int, window_s: float, workdir: Path, *, brands: int = 10) -> dict[str, Any]:
    """Part (b): `brands` workspaces with 3 accounts each share one worker, as a hosted scheduler would."""
    engine = make_engine(f"sqlite:///{workdir / 'late.db'}")
    upgrade(engine)
    worlds = [
        make_publishing_world(
            engine,
            load_cipher(workdir),
            seed=100 + b,
            platforms=("x", "facebook", "linkedin"),
            speed=1.0,
            workspace_id=f"brand{b}",
        )
        for b in range(brands)
    ]
    for pw in worlds:
        _lift_quotas(pw)
    start = worlds[0].world.now() + timedelta(seconds=30)  # queueing 5,000 posts takes ~10 s
    per = n // brands
    for b, pw in enumerate(worlds):
        offset = timedelta(seconds=window_s * b / (brands * per))
        queue_posts(
            pw,
            per,
            at=start + offset,
            spread_s=window_s,
            rotation=("x", "facebook", "linkedin"),
            tag=f"b{b}-",
        )
    settings = Settings(data_dir=workdir / "late")
    asyncio.run(_worker_drain(engine, worlds[0], settings, timeout_s=window_s + 300))
    verdicts = [tally(pw) for pw in worlds]
    with Session(engine) as session:
        rows = session.exec(select(OutboxEntry).where(OutboxEntry.status == "published")).all()
    # Lateness = when the publish was recorded done (worker clock) minus when it was due.
    late = [
        max(0.0, ((as_utc(r.updated_at) or r.due_at) - (as_utc(r.due_at) or r.due_at)).total_seconds())
        for r in rows
    ]
    p50, p99 = percentile(late, 50), percentile(late, 99)
    duplicates, lost = sum(v.duplicates for v in verdicts), sum(v.lost for v in verdicts)
    print_table(
        f"(b) scheduling lateness: {per * brands} posts due within {window_s:.0f} s, {brands} brands x 3 accounts "
        "(SQLite, one worker)",
        ["what", "value"],
        [
            ["published", sum(v.published for v in verdicts)],
            ["lateness p50", f"{p50:.3f} s"],
            ["lateness p99", f"{p99:.3f} s"],
            ["max", f"{max(late):.3f} s"],
            ["duplicates", duplicates],
            ["lost", lost],
        ],
    )
    return {
        "lateness_p50_s": round(p50, 3),
        "lateness_p99_s": round(p99, 3),
        "lateness_posts": len(late),
        "duplicates_lateness": duplicates,
        "lost_lateness": lost,
    }


def main() -> None:
    """Run both parts and print their tables (and the JSON line with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--posts", type=int, default=600)
    parser.add_argument("--late-posts", type=int, default=5000)
    parser.add_argument("--window-s", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bc-pub-") as tmp:
        workdir = Path(tmp)
        figures, rows = bench_throughput(args.posts, workdir)
        print_table(
            f"(a) outbox publish throughput: {args.posts} posts due now, 3 accounts (sandbox, no faults)",
            ["contender", "posts", "wall", "posts/s", "vs naive", "duplicates", "lost"],
            rows,
        )
        figures.update(bench_lateness(args.late_posts, args.window_s, workdir))
    figures["duplicates"] = sum(v for k, v in figures.items() if k.startswith("duplicates"))
    figures["lost"] = sum(v for k, v in figures.items() if k.startswith("lost"))
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()
