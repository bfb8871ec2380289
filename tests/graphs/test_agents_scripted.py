"""Each of the eight agents end to end on a scripted model, over a sandbox world with a few days of history.

The scripted model plays the agent: it calls the agent's real tools in a realistic order, with arguments
taken from what earlier tools returned, and answers from those results. The tests check that the tool
results came from the sandbox and the services (not from the script), that the supervisor forwards the
answer verbatim, that the cost ledger holds one priced row per model call, and that writes landed.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from langgraph.types import Command
from sqlmodel import Session, col, select

from brandcrew.agents import default_agents
from brandcrew.connectors.base import AccountMetrics, PostMetrics, RemoteMention, RemoteMessage
from brandcrew.connectors.sandbox import SandboxWorld
from brandcrew.jobs.publisher import Publisher
from brandcrew.llm.ledger import flush_pending
from brandcrew.llm.messages import ModelRequest, ModelResponse, ToolCall
from brandcrew.llm.testing import Step
from brandcrew.llm.usage import LlmUsage
from brandcrew.services import analytics, inbox, publishing
from brandcrew.services.alerts import NOTICE_KINDS
from brandcrew.services.listening.polling import poll_workspace, query_filter, search_string
from brandcrew.services.listening.sentiment import LexiconAnalyzer
from brandcrew.services.publishing import PostContent, PostTarget
from brandcrew.settings import get_settings
from brandcrew.store.tables import (
    Alert,
    Approval,
    AuditLog,
    Conversation,
    ListeningQuery,
    LlmCall,
    Message,
    OutboxEntry,
    Post,
    SocialAccount,
    as_utc,
)
from brandcrew.tools.decorator import UNTRUSTED_CLOSE, UNTRUSTED_OPEN
from tests.utils.listening import BRAND_QUERY
from tests.utils.llm import PRICES
from tests.utils.sandbox import drain_with_clock

USAGE = LlmUsage(input_tokens=1800, output_tokens=220, requests=1)
SPECS = {s.name: s for s in default_agents(get_settings().configs_dir).all()}

# What the brand published on the sandbox in the days before each scenario (platform, text).
HISTORY_POSTS = [
    (
        "x",
        "Our Autumn Guji is here: blueberry, jasmine, a honeyed finish. Who's brewing it first? #NorthwindCoffee",
    ),
    ("linkedin", "Office coffee people look forward to: what we learned packing 500 subscription boxes."),
    ("x", "Brewing tip: grind a touch coarser for the Guji on a V60, 15 g to 250 g water. #HomeBarista"),
    ("linkedin", "Meet Abebe, who grows the Guji we roast: altitude, patience and fair prices."),
    ("x", "House Espresso Blend, roasted Tuesday, in your cup by Friday. #SpecialtyCoffee"),
]
CRISIS_TOPIC = "late deliveries"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Sandbox time the world starts at (fixed, so its generated people and posts are the same every run)."""


@pytest.fixture
def team_of(make_team: Any, sqlite_engine: Any) -> Callable[[list[Step]], Any]:
    """`make_team` on the sandbox world it builds (same seed, brand and platforms), started at START."""

    def build(steps: list[Step]) -> Any:
        SandboxWorld.create(
            sqlite_engine, seed=5, brand="Northwind Coffee", platforms=("x", "linkedin"), start=START
        )
        team = make_team(steps)
        assert team.world.now() == START
        return team

    return build


# --- a sandbox world with history --------------------------------------------------------------------


@dataclass
class History:
    """What happened in the sandbox, read from the sandbox itself (never from the tools under test)."""

    now: datetime
    account_ids: dict[str, str]
    post_metrics: dict[str, PostMetrics]
    """By post text, as the sandbox platform reports them now."""
    followers: dict[str, AccountMetrics]
    mentions: list[tuple[str, RemoteMention]]
    """(platform, mention) matching the brand query, as the sandbox returns them."""
    messages: list[tuple[str, RemoteMessage]]
    alert_ids: list[str] = field(default_factory=list)


async def live_a_few_days(team: Any) -> History:
    """Publish the brand's posts through the publisher, let three days pass with a delivery backlash on X,
    then run the collection jobs: the listening poll (mentions, sentiment, alerts), metrics and the inbox."""
    world, engine, ws = team.world, team.services.engine, team.ctx.workspace_id
    accounts = team.services.accounts
    start = world.now()
    with Session(engine) as session:
        own = session.exec(select(SocialAccount).where(SocialAccount.workspace_id == ws)).all()
        account_ids = {a.platform: a.id for a in own}
        for i, (platform, text) in enumerate(HISTORY_POSTS):
            post = publishing.create_post(
                session,
                workspace_id=ws,
                content=PostContent(text=text),
                targets=[PostTarget(platform=platform, account_id=account_ids[platform])],
            )
            publishing.schedule_post(
                session, workspace_id=ws, post_id=post.id, at=start + timedelta(hours=7 * i), now=start
            )
        session.commit()
    await drain_with_clock(
        Publisher(engine, accounts, clock=world.now), world, step=timedelta(hours=1), rounds=60
    )
    world.advance(timedelta(days=2))
    world.schedule_crisis(
        world.now() - timedelta(hours=9),
        timedelta(hours=8),
        intensity=8.0,
        topic=CRISIS_TOPIC,
        platforms=("x",),
    )
    world.advance(timedelta(hours=1))
    for account_id in account_ids.values():  # X tokens live two hours; a refresh job keeps them fresh
        await accounts.refresh(account_id, now=world.now())
    with Session(engine) as session:
        query = ListeningQuery(
            workspace_id=ws,
            name="Brand mentions",
            query=BRAND_QUERY,
            alert_config={"max_alert_age_minutes": 12 * 60, "pause_on": []},
        )
        session.add(query)
        session.commit()
        search, matcher = search_string(query), query_filter(query)

    history = History(
        now=world.now(), account_ids=account_ids, post_metrics={}, followers={}, mentions=[], messages=[]
    )
    poll = await poll_workspace(engine, accounts, workspace_id=ws, now=world.now())
    assert not poll.queries[0].errors
    history.alert_ids = poll.alerts
    with Session(engine) as session:
        await analytics.collect_metrics(session, accounts, workspace_id=ws, now=world.now())
        for account in session.exec(select(SocialAccount).where(SocialAccount.workspace_id == ws)).all():
            connector, auth = accounts.connector(account), accounts.auth(account)
            found = await connector.fetch_mentions(auth, start, query=search)
            history.mentions += [(account.platform, m) for m in found if matcher.matches_text(m.text)]
            messages = await connector.fetch_messages(auth, start)
            inbox.store_messages(session, account=account, messages=messages)
            history.messages += [(account.platform, m) for m in messages]
            history.followers[account.platform] = await connector.fetch_account_metrics(auth)
            remote = {p.remote_id: p.text for p in world.posts(account.platform_account_id)}
            for m in await connector.fetch_metrics(auth, list(remote)):
                history.post_metrics[remote[m.remote_id]] = m
        session.commit()
    assert poll.stored == len(history.mentions) > 0, "the listening poll stored what the sandbox holds"
    assert len(history.post_metrics) == len(HISTORY_POSTS), "every post was published on the sandbox"
    return history


# --- reading what the scripted model received ----------------------------------------------------------


@dataclass
class ToolResult:
    """One tool message the model read, with the call that asked for it."""

    name: str
    args: dict[str, Any]
    text: str

    @property
    def untrusted(self) -> bool:
        return self.text.startswith(UNTRUSTED_OPEN)

    @property
    def error(self) -> bool:
        return self.text.startswith(("Error:", "Invalid arguments:"))

    @property
    def data(self) -> Any:
        body = (
            self.text.split(UNTRUSTED_OPEN, 1)[1].split(UNTRUSTED_CLOSE, 1)[0]
            if self.untrusted
            else self.text
        )
        return json.loads(body)


def tool_results(request: ModelRequest) -> list[ToolResult]:
    """The tool messages in a model request, in order, each with its call's name and arguments."""
    asked: dict[str, tuple[str, dict[str, Any]]] = {}
    out = []
    for m in request.messages:
        for c in m.get("tool_calls") or []:
            raw = c["function"]["arguments"]
            asked[c["id"]] = (c["function"]["name"], json.loads(raw) if isinstance(raw, str) else raw)
        if m.get("role") == "tool":
            name, args = asked[m["tool_call_id"]]
            out.append(ToolResult(name, args, str(m["content"])))
    return out


def last_result(request: ModelRequest, name: str) -> ToolResult:
    return [r for r in tool_results(request) if r.name == name][-1]


_ids = itertools.count(1)


def call(name: str, args: dict[str, Any] | Callable[[ModelRequest], dict[str, Any]]) -> Step:
    """The model calls a tool; `args` may be worked out from what the model has read so far."""

    def respond(request: ModelRequest) -> ModelResponse:
        arguments = args(request) if callable(args) else args
        return ModelResponse(
            model="",
            provider="",
            tool_calls=[ToolCall(id=f"call_s{next(_ids)}", name=name, arguments=arguments)],
            finish_reason="tool_calls",
            usage=USAGE,
        )

    return Step(respond=respond)


def answer(write: Callable[[ModelRequest], str], said: list[str]) -> Step:
    """The model answers from what it read; the text goes to `said` so the test can compare."""

    def respond(request: ModelRequest) -> ModelResponse:
        said.append(write(request))
        return ModelResponse(model="", provider="", content=said[-1], finish_reason="stop", usage=USAGE)

    return Step(respond=respond)


# --- shared checks ---------------------------------------------------------------------------------------


async def ask(team: Any, request: str, config: Any) -> Any:
    out = await team.graph.ainvoke({"messages": [("user", request)]}, config)
    return out


def assert_played_by(team: Any, agent: str) -> None:
    """Every model call was the agent's, each with the agent's own tools while it could still call them."""
    spec = SPECS[agent]
    calls = team.llm.calls
    assert calls and {c.metadata.get("agent") for c in calls} == {agent}, "routed straight to the agent"
    for i, c in enumerate(calls):
        if i < spec.max_steps - 1:
            assert {t["function"]["name"] for t in c.tools} == set(spec.tools), i


def assert_forwarded(out: dict[str, Any], agent: str, said: list[str]) -> None:
    final = out["messages"][-1]
    assert final.response_metadata["agents"] == [agent]
    assert final.content == said[-1], "the supervisor forwards the agent's answer verbatim"


def assert_ledger(team: Any, agent: str) -> None:
    """One ledger row per model call, for this agent and its step, priced from the model's prices."""
    flush_pending()  # the ledger is written behind: the barrier before reading it
    with Session(team.services.engine) as session:
        rows = session.exec(select(LlmCall)).all()
    assert len(rows) == len(team.llm.calls)
    spec = SPECS[agent]
    for row in rows:
        assert (row.agent, row.step, row.provider, row.offline) == (agent, spec.step, "alpha", False)
        assert (row.input_tokens, row.output_tokens) == (USAGE.input_tokens, USAGE.output_tokens)
        price = PRICES[row.model]
        expected = (
            Decimal(USAGE.input_tokens) * Decimal(str(price.input))
            + Decimal(USAGE.output_tokens) * Decimal(str(price.output))
        ) * 1000  # USD per million tokens -> nano-USD per token
        assert row.cost_nanousd == int(expected), row.model


def in_window(m: RemoteMention, since: datetime) -> bool:
    return as_utc(m.created_at) >= since  # type: ignore[operator]


# --- the eight agents --------------------------------------------------------------------------------------


async def test_content_creator_reads_the_brand_validates_and_saves_a_draft(team_of: Any) -> None:
    said: list[str] = []
    too_long = (
        "Autumn is here and so is our Guji: blueberry, jasmine and a honeyed finish from the Guji highlands, "
        "grown by the Abebe family at 2,100 metres, washed, dried on raised beds for three weeks and roasted "
        "this week in small batches in our roastery. Brew it on a V60 at 15 g to 250 g, or as a long black. "
        "#NorthwindCoffee #SpecialtyCoffee #HomeBarista"
    )

    def shorter(request: ModelRequest) -> dict[str, Any]:
        brand = last_result(request, "brand_profile").data
        best = max(last_result(request, "past_posts").data, key=lambda p: p["engagement_rate"])
        tag = re.search(r"#\w+", best["text"])
        text = (
            f"{brand['products'][0]} is here: blueberry, jasmine, a honeyed finish. {brand['call_to_action']}"
        )
        return {"platform": "x", "text": f"{text} {tag.group(0) if tag else brand['hashtags'][0]}"}

    team = team_of(
        [
            call("brand_profile", {}),
            call("past_posts", {"days": 30, "platform": "x", "limit": 5}),
            call("validate_post", {"platform": "x", "text": too_long}),
            call("validate_post", shorter),
            call("create_post_draft", lambda r: last_result(r, "validate_post").args),
            answer(
                lambda r: "X draft, saved for approval:\n" + last_result(r, "create_post_draft").args["text"],
                said,
            ),
        ]
    )
    history = await live_a_few_days(team)
    out = await ask(team, "Write an X post about our autumn Guji beans", team.config("content"))

    assert_played_by(team, "content_creator")
    assert_forwarded(out, "content_creator", said)
    assert_ledger(team, "content_creator")
    read = tool_results(team.llm.calls[-1])
    assert [r.name for r in read] == [
        "brand_profile",
        "past_posts",
        "validate_post",
        "validate_post",
        "create_post_draft",
    ]
    assert not any(r.error for r in read)
    brand = read[0].data
    assert brand["name"] == "Northwind Coffee" and "cheap" in brand["banned_words"], "the workspace's profile"
    x_posts = {t for p, t in HISTORY_POSTS if p == "x"}
    past = read[1].data
    assert {p["text"] for p in past} == x_posts, "only X posts, as published on the sandbox"
    for p in past:
        assert p["impressions"] == history.post_metrics[p["text"]].impressions > 0
    verdict = read[2].data
    assert verdict["ok"] is False
    assert [(v["field"], v["code"], v["limit"]) for v in verdict["violations"]] == [("text", "too_long", 280)]
    assert read[3].data == {"ok": True, "violations": []}, "the rewrite fits X"
    saved = read[4].data
    assert saved["status"] == "pending_approval" and saved["platform"] == "x"
    with Session(team.services.engine) as session:
        post = session.get(Post, saved["post_id"])
        assert post is not None
        assert post.content["text"] == read[3].args["text"] == read[4].args["text"]
        assert post.content["text"] in said[-1]
        assert (post.status, post.ai_generated) == ("pending_approval", True)
        assert post.ai_metadata == {"agent": "content_creator", "run_id": "run-1"}
        assert brand["products"][0] in post.content["text"]
        assert session.exec(select(OutboxEntry).where(OutboxEntry.post_id == post.id)).all() == [], (
            "a draft is never queued for publishing"
        )


async def test_strategy_builds_a_plan_from_results_best_times_and_the_calendar(team_of: Any) -> None:
    said: list[str] = []

    def plan(request: ModelRequest) -> str:
        overview = {a["platform"]: a for a in last_result(request, "account_overview").data}
        top = last_result(request, "top_posts").data[0]
        hours = last_result(request, "best_time_to_post").data["best_hours"]
        booked = last_result(request, "calendar").data
        return (
            f"Cadence: X 3/week (engagement {overview['x']['engagement_rate']:.2%}), LinkedIn 2/week "
            f"(engagement {overview['linkedin']['engagement_rate']:.2%}). Lead with posts like "
            f'"{top["text"]}". Post on X around {hours[0]["hour"]:02d}:00. '
            f"Already booked: {len(booked)} publish(es), first at {booked[0]['at']}."
        )

    team = team_of(
        [
            call("brand_profile", {}),
            call("account_overview", {"days": 7}),
            call("top_posts", {"days": 30, "limit": 3}),
            call("best_time_to_post", {"platform": "x"}),
            call("calendar", {"days": 14}),
            answer(plan, said),
        ]
    )
    history = await live_a_few_days(team)
    ws = team.ctx.workspace_id
    launch_at = history.now + timedelta(days=5)
    with Session(team.services.engine) as session:
        teaser = publishing.create_post(
            session,
            workspace_id=ws,
            content=PostContent(text="Something new is roasting. Next week. #NorthwindCoffee"),
            targets=[PostTarget(platform="x", account_id=history.account_ids["x"])],
            status="approved",
        )
        teaser_id = teaser.id
        publishing.schedule_post(session, workspace_id=ws, post_id=teaser_id, at=launch_at, now=history.now)
        session.commit()
    out = await ask(
        team, "Plan our posting calendar and cadence for the launch next month", team.config("strategy")
    )

    assert_played_by(team, "strategy")
    assert_forwarded(out, "strategy", said)
    assert_ledger(team, "strategy")
    read = {r.name: r.data for r in tool_results(team.llm.calls[-1])}
    overview = {a["platform"]: a for a in read["account_overview"]}
    for platform in ("x", "linkedin"):
        texts = [t for p, t in HISTORY_POSTS if p == platform]
        metrics = [history.post_metrics[t] for t in texts]
        assert overview[platform]["posts"] == len(texts)
        assert overview[platform]["impressions"] == sum(m.impressions for m in metrics)
        assert overview[platform]["followers"] == history.followers[platform].followers
    rate = {
        t: (m.likes + m.comments + m.shares + m.saves) / m.impressions
        for t, m in history.post_metrics.items()
    }
    assert [p["text"] for p in read["top_posts"]] == sorted(rate, key=rate.__getitem__, reverse=True)[:3]
    with Session(team.services.engine) as session:
        published_hours = {
            as_utc(e.published_at).hour: history.post_metrics[str(e.payload["text"])].impressions  # type: ignore[union-attr]
            for e in session.exec(select(OutboxEntry).where(OutboxEntry.status == "published")).all()
            if e.platform == "x"
        }
    assert len(published_hours) == 3, "the three X posts went out at different hours"
    best = read["best_time_to_post"]
    assert best["platform"] == "x"
    assert {h["hour"]: h["mean_impressions"] for h in best["best_hours"]} == published_hours
    (booked,) = read["calendar"]
    assert booked["post_id"] == teaser_id
    assert datetime.fromisoformat(booked["at"]) == launch_at


async def test_engagement_reads_the_inbox_and_saves_reply_drafts_without_sending(team_of: Any) -> None:
    said: list[str] = []

    def dms(request: ModelRequest) -> list[dict[str, Any]]:
        return [t for t in last_result(request, "inbox_threads").data if t["type"] == "dm"]

    def reply_to(i: int) -> Callable[[ModelRequest], dict[str, Any]]:
        def args(request: ModelRequest) -> dict[str, Any]:
            thread = dms(request)[i]
            first = thread["participant"].split()[0]
            return {
                "conversation_id": thread["conversation_id"],
                "text": f"Hi {first}, thanks for reaching out! Could you send us your order number? We'll sort it today.",
            }

        return args

    team = team_of(
        [
            call("inbox_threads", {"status": "open", "limit": 10}),
            call("draft_reply", reply_to(0)),
            call("draft_reply", reply_to(1)),
            answer(
                lambda r: (
                    "Two reply drafts are waiting for your approval:\n"
                    + "\n".join(f"- {x.args['text']}" for x in tool_results(r) if x.name == "draft_reply")
                ),
                said,
            ),
        ]
    )
    history = await live_a_few_days(team)
    out = await ask(team, "Draft replies to the open DMs in the inbox", team.config("engagement"))

    assert_played_by(team, "engagement")
    assert_forwarded(out, "engagement", said)
    assert_ledger(team, "engagement")
    read = tool_results(team.llm.calls[-1])
    threads = read[0]
    assert threads.untrusted, "customers' words reach the model only as marked data"
    sandbox_texts = {m.text for _, m in history.messages}
    sandbox_threads = {(p, m.thread_id) for p, m in history.messages}
    assert len(threads.data) == min(10, len(sandbox_threads))
    for t in threads.data:
        assert t["status"] == "open" and t["messages"]
        assert {m["text"] for m in t["messages"]} <= sandbox_texts, "conversations pulled from the sandbox"
    drafted = [r for r in read if r.name == "draft_reply"]
    assert len(drafted) == 2 and not any(r.error for r in drafted)
    with Session(team.services.engine) as session:
        drafts = session.exec(select(Message).where(Message.direction == "outbound_draft")).all()
        assert {(d.conversation_id, d.content) for d in drafts} == {
            (r.args["conversation_id"], r.args["text"]) for r in drafted
        }
        assert all(d.ai_generated for d in drafts)
        assert {r.data["draft_id"] for r in drafted} == {d.id for d in drafts}
        kinds = {session.get(Conversation, d.conversation_id).type for d in drafts}  # type: ignore[union-attr]
        assert kinds == {"dm"}
        audited = session.exec(select(AuditLog).where(AuditLog.action == "draft_reply")).all()
        assert sorted(a.resource_id for a in audited) == sorted(d.conversation_id for d in drafts)
    assert team.world.calls("reply") == [], "nothing was sent to the platform"


async def test_analytics_recovers_from_a_bad_argument_and_reports_the_sandbox_numbers(team_of: Any) -> None:
    said: list[str] = []

    def report(request: ModelRequest) -> str:
        overview = last_result(request, "account_overview").data
        top = last_result(request, "top_posts").data
        lines = [
            f"{a['platform']}: {a['impressions']:,} impressions, {a['engagements']} engagements "
            f"({a['engagement_rate']:.2%}), {a['followers']:,} followers"
            for a in overview
        ]
        return "\n".join([*lines, f'Best post: "{top[0]["text"]}" ({top[0]["engagement_rate"]:.2%})'])

    team = team_of(
        [
            call("account_overview", {"days": 7}),
            call("top_posts", {"days": "last week", "limit": 3}),
            call("top_posts", {"days": 7, "limit": 3}),
            answer(report, said),
        ]
    )
    history = await live_a_few_days(team)
    out = await ask(
        team, "Show me the reach, impressions and engagement of last week's posts", team.config("analytics")
    )

    assert_played_by(team, "analytics")
    assert_forwarded(out, "analytics", said)
    assert_ledger(team, "analytics")
    read = tool_results(team.llm.calls[-1])
    assert [r.name for r in read] == ["account_overview", "top_posts", "top_posts"]
    bad = read[1]
    assert bad.error and "days" in bad.text and "valid integer" in bad.text, bad.text
    assert not read[2].error, "the model fixed the argument and the tool ran"
    for a in read[0].data:
        metrics = [history.post_metrics[t] for p, t in HISTORY_POSTS if p == a["platform"]]
        engagements = sum(m.likes + m.comments + m.shares + m.saves for m in metrics)
        assert a["impressions"] == sum(m.impressions for m in metrics) > 0
        assert a["engagements"] == engagements
        assert a["followers"] == history.followers[a["platform"]].followers
    for p in read[2].data:
        m = history.post_metrics[p["text"]]
        assert p["impressions"] == m.impressions
        assert p["engagement_rate"] == round((m.likes + m.comments + m.shares + m.saves) / m.impressions, 4)
    assert [p["engagement_rate"] for p in read[2].data] == sorted(
        (p["engagement_rate"] for p in read[2].data), reverse=True
    )
    for a in read[0].data:
        assert f"{a['impressions']:,} impressions" in out["messages"][-1].content


async def test_trend_detection_finds_the_rising_hashtag_in_stored_mentions(team_of: Any) -> None:
    said: list[str] = []

    def trends(request: ModelRequest) -> str:
        top = last_result(request, "trending_topics").data[0]
        quotes = last_result(request, "search_mentions").data
        return (
            f"{top['hashtag']} is rising: {top['count']} uses by {top['unique_authors']} people in 24 h "
            f'(x{top["growth"]} its baseline). It is a complaint trend, not one to join; e.g. "{quotes[0]["text"]}"'
        )

    team = team_of(
        [
            call("trending_topics", {"hours": 24, "limit": 5}),
            call(
                "search_mentions",
                lambda r: {
                    "text": next(iter(last_result(r, "trending_topics").data), {"hashtag": "#"})["hashtag"],
                    "hours": 24,
                    "limit": 5,
                },
            ),
            answer(trends, said),
        ]
    )
    history = await live_a_few_days(team)
    out = await ask(
        team, "Which hashtags are trending and rising around coffee this week?", team.config("trends")
    )

    assert_played_by(team, "trend_detection")
    assert_forwarded(out, "trend_detection", said)
    assert_ledger(team, "trend_detection")
    read = tool_results(team.llm.calls[-1])
    since = history.now - timedelta(hours=24)
    uses: Counter[str] = Counter()
    authors: dict[str, set[str]] = {}
    for _, m in history.mentions:
        if in_window(m, since):
            for tag in {t.lower() for t in re.findall(r"#(\w{2,})", m.text)}:
                uses[tag] += 1
                authors.setdefault(tag, set()).add(m.author_username)
    rows = {r["hashtag"]: r for r in read[0].data}
    assert "#boycottnorthwindcoffee" in rows, "the backlash hashtag from the sandbox crisis"
    for tag, row in rows.items():
        assert row["count"] == uses[tag[1:]] >= 3
        assert row["unique_authors"] == len(authors[tag[1:]]) >= 2
    found = read[1]
    assert found.untrusted and found.data
    sandbox = {(m.author_username, m.text) for _, m in history.mentions}
    for m in found.data:
        assert found.args["text"].lower() in m["text"].lower()
        assert (m["author"], m["text"]) in sandbox


async def test_competitor_analysis_recovers_from_a_tool_error_and_compares_with_sandbox_rivals(
    team_of: Any,
) -> None:
    said: list[str] = []

    def busiest(request: ModelRequest) -> str:
        rivals = [c for c in last_result(request, "competitor_accounts").data if c["platform"] == "x"]
        return max(rivals, key=lambda c: c["posts"])["username"]

    def benchmark(request: ModelRequest) -> str:
        rival = busiest(request)
        posts = last_result(request, "competitor_posts").data
        ours = {a["platform"]: a for a in last_result(request, "account_overview").data}
        return (
            f"@{rival} posted {len(posts)} times on X this week; we posted {ours['x']['posts']} times "
            f"with {ours['x']['impressions']:,} impressions. Gap: they post more often."
        )

    team = team_of(
        [
            call("competitor_accounts", {}),
            call("competitor_posts", lambda r: {"username": "@" + busiest(r), "days": 7}),
            call("competitor_posts", lambda r: {"username": busiest(r), "days": 7}),
            call("account_overview", {"days": 7}),
            answer(benchmark, said),
        ]
    )
    history = await live_a_few_days(team)
    out = await ask(team, "Benchmark us against our competitors and their posts", team.config("rivals"))

    assert_played_by(team, "competitor_analysis")
    assert_forwarded(out, "competitor_analysis", said)
    assert_ledger(team, "competitor_analysis")
    read = tool_results(team.llm.calls[-1])
    assert [r.name for r in read] == [
        "competitor_accounts",
        "competitor_posts",
        "competitor_posts",
        "account_overview",
    ]
    rivals = read[0].data
    assert {(c["platform"], c["username"]) for c in rivals} == {
        (c.platform, c.username) for c in team.world.competitors()
    }
    x_account = next(a for a in team.world.own_accounts() if a.platform == "x")
    for c in rivals:
        if c["platform"] == "x":
            metrics = await team.world.connector("x").fetch_user_metrics(x_account.auth(), c["username"])
            assert (c["followers"], c["posts"]) == (metrics.followers, metrics.posts)
    wrong = read[1]
    assert wrong.error and "is not a tracked competitor" in wrong.text and "Fix the arguments" in wrong.text
    rival = read[2].args["username"]
    assert wrong.args["username"] == "@" + rival
    expected = [
        p.text
        for p in team.world.competitor_posts("x", history.now - timedelta(days=7))
        if p.username == rival
    ]
    assert read[2].untrusted and expected
    assert [p["text"] for p in read[2].data] == expected, "the rival's posts as the sandbox has them"
    assert f"posted {len(expected)} times" in out["messages"][-1].content


async def test_crisis_management_drafts_a_statement_that_waits_for_approval_and_is_edited(
    team_of: Any,
) -> None:
    said: list[str] = []
    drafted = (
        "We know many of you are waiting longer than you should for your orders. We're sorry for the "
        "wait. Our team is working through every delayed delivery and we'll share an update by 5pm today."
    )
    edited = drafted.replace("by 5pm today", "within 24 hours") + " Questions: hello@northwind.example"

    def newest_drop(request: ModelRequest) -> str:
        alerts = last_result(request, "crisis_alerts").data
        return next((a for a in alerts if a["kind"] == "sentiment_drop"), alerts[0])["id"]

    team = team_of(
        [
            call("crisis_alerts", {}),
            call(
                "search_mentions", {"text": CRISIS_TOPIC, "sentiment": "negative", "hours": 12, "limit": 10}
            ),
            call("sentiment_summary", {"hours": 6}),
            call("holding_statement", lambda r: {"statement": drafted, "alert_id": newest_drop(r)}),
            answer(
                lambda r: (
                    "Holding statement saved for approval "
                    f"({last_result(r, 'holding_statement').data['approval_id']}):\n"
                    + last_result(r, "holding_statement").data["statement"]
                    + "\nRecommendation: pause scheduled posts until deliveries catch up."
                ),
                said,
            ),
        ]
    )
    history = await live_a_few_days(team)
    assert history.alert_ids, "the listening pipeline raised alerts during the sandbox backlash"
    config = team.config(
        "crisis", require_approval_for=frozenset({"write", "publish", "reply", "delete", "spend"})
    )
    paused = await ask(team, "There's a backlash over late deliveries, draft a holding statement", config)

    (pending,) = paused["__interrupt__"]
    assert pending.value["tool"] == "holding_statement" and pending.value["agent"] == "crisis_management"
    assert pending.value["args"]["statement"] == drafted and pending.value["scopes"] == ["write"]
    assert pending.value["args"]["alert_id"] in history.alert_ids
    assert (await team.graph.aget_state(config)).next, "the run waits for a person"
    with Session(team.services.engine) as session:
        assert session.exec(select(Approval)).all() == [], "nothing is saved before the reviewer decides"
    out = await team.graph.ainvoke(
        Command(resume={"approved": True, "reviewer": "maria", "args": {"statement": edited}}), config
    )

    assert_played_by(team, "crisis_management")
    assert_forwarded(out, "crisis_management", said)
    assert_ledger(team, "crisis_management")
    read = {r.name: r for r in tool_results(team.llm.calls[-1])}
    with Session(team.services.engine) as session:
        stored = session.exec(
            select(Alert).where(col(Alert.kind).not_in(NOTICE_KINDS)).order_by(col(Alert.created_at).desc())
        ).all()
        notices = session.exec(select(Alert).where(col(Alert.kind).in_(NOTICE_KINDS))).all()
        (approval,) = session.exec(select(Approval)).all()
        audit = session.exec(select(AuditLog).where(AuditLog.action == "propose_statement")).one()
    listed = read["crisis_alerts"].data
    assert sorted(a["id"] for a in listed) == sorted(a.id for a in stored), "the open alerts, all of them"
    # The held statement is announced to whoever may approve it, not listed among the alerts.
    assert [(n.kind, n.details["approval_id"]) for n in notices] == [("approval_requested", approval.id)]
    assert [a["created_at"] for a in listed] == sorted((a["created_at"] for a in listed), reverse=True)
    negative = read["search_mentions"].data
    assert read["search_mentions"].untrusted and negative
    sandbox = {m.text for _, m in history.mentions}
    assert all(m["sentiment"] == "negative" and CRISIS_TOPIC in m["text"].lower() for m in negative)
    assert {m["text"] for m in negative} <= sandbox
    summary = read["sentiment_summary"].data
    analyzer = LexiconAnalyzer()
    window = [m for _, m in history.mentions if in_window(m, history.now - timedelta(hours=6))]
    hostile = [m for m in window if analyzer.analyze(m.text).label == "negative"]
    assert (summary["current"]["total"], summary["current"]["negative"]) == (len(window), len(hostile))
    assert sum(CRISIS_TOPIC in m.text for m in hostile) > len(hostile) / 2, "the backlash is in the window"
    saved = read["holding_statement"].data
    assert saved["statement"] == edited, "the reviewer's edit is what ran"
    assert (approval.id, approval.resource, approval.resource_id) == (
        saved["approval_id"],
        "statement",
        pending.value["args"]["alert_id"],
    )
    assert approval.requested_by == "crisis_management" and approval.status == "pending"
    assert approval.comments == [{"author": "crisis_management", "text": edited}]
    assert audit.resource_id == approval.id
    assert audit.changes == {"statement": edited, "alert_id": approval.resource_id}
    assert edited in out["messages"][-1].content


async def test_sentiment_analysis_reports_shares_that_match_the_scored_sandbox_mentions(
    team_of: Any,
) -> None:
    said: list[str] = []

    def shares(request: ModelRequest) -> str:
        now, before = (last_result(request, "sentiment_summary").data[k] for k in ("current", "previous"))
        worst = last_result(request, "search_mentions").data
        return (
            f"Last 72 h: {now['positive']} positive, {now['neutral']} neutral, {now['negative']} negative of "
            f"{now['total']} mentions ({now['negative_share']:.0%} negative, up from {before['negative_share']:.0%}). "
            f'Theme: delivery delays, e.g. "{worst[0]["text"]}"'
        )

    team = team_of(
        [
            call("sentiment_summary", {"hours": 72}),
            call("search_mentions", {"sentiment": "negative", "hours": 24, "limit": 3}),
            answer(shares, said),
        ]
    )
    history = await live_a_few_days(team)
    out = await ask(team, "How do people feel about us, positive or negative?", team.config("sentiment"))

    assert_played_by(team, "sentiment_analysis")
    assert_forwarded(out, "sentiment_analysis", said)
    assert_ledger(team, "sentiment_analysis")
    read = {r.name: r for r in tool_results(team.llm.calls[-1])}
    analyzer = LexiconAnalyzer()
    recent = [m for _, m in history.mentions if in_window(m, history.now - timedelta(hours=72))]
    labels = Counter(analyzer.analyze(m.text).label for m in recent)
    current = read["sentiment_summary"].data["current"]
    assert (current["total"], current["positive"], current["neutral"], current["negative"]) == (
        len(recent),
        labels["positive"],
        labels["neutral"],
        labels["negative"],
    )
    assert current["unscored"] == 0 and current["negative"] > 0
    worst = read["search_mentions"].data
    assert len(worst) == 3 and all(m["sentiment"] == "negative" for m in worst)
    newest_negative = sorted(
        (m for _, m in history.mentions if analyzer.analyze(m.text).label == "negative"),
        key=lambda m: m.created_at,
        reverse=True,
    )
    assert [m["text"] for m in worst] == [m.text for m in newest_negative[:3]]
    assert f"{current['negative']} negative of {current['total']} mentions" in out["messages"][-1].content
