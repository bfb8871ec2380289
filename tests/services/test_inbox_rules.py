"""Inbox routing in the service: the keyword intent classifier, first-match and all-match rules, VIPs,
SLA deadlines and their one-time breach alerts, Meta payload parsing and signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from brandcrew.connectors.base import RemoteMessage
from brandcrew.services import alerts, inbox, inbox_rules
from brandcrew.services.errors import ValidationFailed
from brandcrew.services.inbox_rules import RuleActions, RuleConditions
from brandcrew.store.tables import (
    Alert,
    AlertDelivery,
    Conversation,
    Mention,
    SocialAccount,
    User,
    Workspace,
    as_utc,
)
from tests.utils.domain import TEST_CIPHER

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _world(engine: Any, name: str = "northwind") -> tuple[str, str, str]:
    """A workspace with an Instagram account and one member; their ids."""
    with Session(engine) as session:
        ws = Workspace(name=name, slug=name)
        session.add(ws)
        session.flush()
        member = User(workspace_id=ws.id, email=f"amy@{name}.example", name="Amy")
        account = SocialAccount(
            workspace_id=ws.id,
            platform="instagram",
            platform_account_id=f"ig-{name}",
            username=name,
            access_token="x",
        )
        session.add_all([member, account])
        session.commit()
        return ws.id, account.id, member.id


def _message(n: int, text: str, *, author: str = "u1", name: str = "", minutes: int = 0) -> RemoteMessage:
    return RemoteMessage(
        remote_id=f"m{n}",
        thread_id=f"t-{author}",
        kind="dm",
        author_id=author,
        author_name=name,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
    )


def _store(engine: Any, account_id: str, *messages: RemoteMessage) -> list[inbox_rules.Routed]:
    routed: list[inbox_rules.Routed] = []
    with Session(engine) as session:
        account = session.get(SocialAccount, account_id)
        assert account is not None
        inbox.store_messages(
            session, account=account, messages=list(messages), scorer=inbox._lexicon_scorer(), routed=routed
        )
        session.commit()
    return routed


def _conversation(engine: Any, thread: str) -> Conversation:
    with Session(engine) as session:
        row = session.exec(select(Conversation).where(Conversation.external_thread_id == thread)).one()
        session.expunge(row)
        return row


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Do you ship to Canada?", "question"),
        ("Is there a discount code for the Lite", "question"),
        ("My order never came and tracking is stuck", "order_issue"),
        ("I want my money back", "refund"),
        ("This is the worst service, totally unacceptable", "complaint"),
        ("Love the new roast, amazing!", "praise"),
        ("Follow me for free followers, click the link", "spam"),
        ("ok", "other"),
    ],
)
def test_the_keyword_classifier_gives_each_message_one_intent(text: str, intent: str) -> None:
    assert inbox_rules.classify_intent(text) == intent


def test_the_first_matching_rule_wins_unless_it_lets_later_rules_match(sqlite_engine: Any) -> None:
    ws, account, member = _world(sqlite_engine)
    with Session(sqlite_engine) as session:
        first = inbox_rules.create_rule(
            session,
            workspace_id=ws,
            name="refunds",
            conditions=RuleConditions(intents=["refund"]),
            actions=RuleActions(assign_to=member, add_tags=["money"], priority="high"),
        )
        inbox_rules.create_rule(
            session,
            workspace_id=ws,
            name="instagram",
            conditions=RuleConditions(platforms=["instagram"]),
            actions=RuleActions(add_tags=["ig"], sla_minutes=15),
        )
        inbox_rules.create_rule(
            session,
            workspace_id=ws,
            name="off",
            conditions=RuleConditions(),
            actions=RuleActions(add_tags=["never"]),
            is_active=False,
        )
        session.commit()
        first_id = first.id

    (routed,) = _store(sqlite_engine, account, _message(1, "Please refund my order", author="a"))
    assert (routed.intent, routed.rules) == ("refund", (first_id,))
    c = _conversation(sqlite_engine, "t-a")
    assert (c.assigned_to, c.tags, c.priority, c.intent) == (member, ["money"], "high", "refund")
    assert as_utc(c.sla_deadline) == T0 + timedelta(hours=4)  # the high priority's default

    # The second rule matches only what the first did not take...
    _store(sqlite_engine, account, _message(2, "hello there", author="b"))
    c = _conversation(sqlite_engine, "t-b")
    assert (c.assigned_to, c.tags, c.priority) == (None, ["ig"], "medium")
    assert as_utc(c.sla_deadline) == T0 + timedelta(minutes=15)

    # ...until the first lets later rules match too (all-match).
    with Session(sqlite_engine) as session:
        inbox_rules.update_rule(session, workspace_id=ws, rule_id=first_id, stop=False)
        session.commit()
    (routed,) = _store(sqlite_engine, account, _message(3, "refund please", author="c"))
    assert len(routed.rules) == 2
    c = _conversation(sqlite_engine, "t-c")
    assert (c.tags, c.priority) == (["ig", "money"], "high")
    assert as_utc(c.sla_deadline) == T0 + timedelta(minutes=15)


def test_vip_and_keyword_conditions_and_an_sla_only_brought_forward(sqlite_engine: Any) -> None:
    ws, account, _ = _world(sqlite_engine)
    with Session(sqlite_engine) as session:
        inbox_rules.update_inbox_settings(session, workspace_id=ws, vip_authors=["@BigCafe"])
        inbox_rules.create_rule(
            session,
            workspace_id=ws,
            name="vip",
            conditions=RuleConditions(vip=True, keywords=["collab", "partnership"]),
            actions=RuleActions(priority="urgent", add_tags=["vip"]),
        )
        session.commit()
    _store(sqlite_engine, account, _message(1, "A PARTNERSHIP idea", author="99", name="bigcafe"))
    vip = _conversation(sqlite_engine, "t-99")
    assert (vip.priority, vip.tags) == ("urgent", ["vip"])
    assert as_utc(vip.sla_deadline) == T0 + timedelta(hours=1)
    _store(sqlite_engine, account, _message(2, "A partnership idea", author="42", name="smallfry"))
    assert _conversation(sqlite_engine, "t-42").priority == "medium"

    # A later message in the same thread never pushes a running deadline back.
    _store(sqlite_engine, account, _message(3, "any news?", author="99", name="bigcafe", minutes=30))
    assert as_utc(_conversation(sqlite_engine, "t-99").sla_deadline) == T0 + timedelta(hours=1)


def test_authors_with_enough_followers_are_vips_by_the_message_or_by_listening(sqlite_engine: Any) -> None:
    ws, account, _ = _world(sqlite_engine)
    with Session(sqlite_engine) as session:
        inbox_rules.update_inbox_settings(session, workspace_id=ws, vip_min_followers=10_000)
        inbox_rules.create_rule(
            session,
            workspace_id=ws,
            name="big accounts",
            conditions=RuleConditions(vip=True),
            actions=RuleActions(priority="urgent", add_tags=["vip"]),
        )
        # Listening saw @roastery_rita with 25k followers; her DM does not say how many she has.
        session.add(
            Mention(
                workspace_id=ws,
                platform="instagram",
                platform_mention_id="mn-1",
                author_id="rita-1",
                author_username="Roastery_Rita",
                author_followers=25_000,
                content="Loving the new beans",
                created_at=T0 - timedelta(days=2),
            )
        )
        session.commit()
    assert inbox_rules.inbox_settings(Session(sqlite_engine), ws).vip_min_followers == 10_000
    big = _message(1, "hello", author="big", name="bigvoice").model_copy(update={"author_followers": 10_000})
    small = _message(2, "hello", author="small", name="smallvoice").model_copy(
        update={"author_followers": 9_999}
    )
    known = _message(3, "hello", author="rita-2", name="@roastery_rita")  # another id, the same handle
    unknown = _message(4, "hello", author="nobody", name="nobody")
    _store(sqlite_engine, account, big, small, known, unknown)
    priorities = {
        a: _conversation(sqlite_engine, f"t-{a}").priority for a in ("big", "small", "rita-2", "nobody")
    }
    assert priorities == {"big": "urgent", "small": "medium", "rita-2": "urgent", "nobody": "medium"}
    with Session(sqlite_engine) as session:  # 0 turns it off
        inbox_rules.update_inbox_settings(session, workspace_id=ws, vip_min_followers=0)
        session.commit()
        assert inbox_rules.inbox_settings(session, ws).vip_min_followers is None


def test_rules_refuse_members_of_other_workspaces_and_empty_actions(sqlite_engine: Any) -> None:
    ws, _, _ = _world(sqlite_engine)
    _, _, stranger = _world(sqlite_engine, "other")
    with Session(sqlite_engine) as session:
        with pytest.raises(ValidationFailed):
            inbox_rules.create_rule(
                session,
                workspace_id=ws,
                name="x",
                conditions=RuleConditions(),
                actions=RuleActions(assign_to=stranger),
            )
        with pytest.raises(ValidationFailed):
            inbox_rules.create_rule(
                session, workspace_id=ws, name="x", conditions=RuleConditions(), actions=RuleActions()
            )


def test_sla_breaches_alert_once_per_open_conversation_of_each_workspace(sqlite_engine: Any) -> None:
    ws, account, _ = _world(sqlite_engine)
    other_ws, other_account, _ = _world(sqlite_engine, "other")
    _store(sqlite_engine, account, _message(1, "hi", author="a"), _message(2, "yo", author="b"))
    _store(sqlite_engine, other_account, _message(3, "hey", author="z"))
    with Session(sqlite_engine) as session:  # the workspace's channel for SLA alerts gets each one queued
        channel = alerts.add_channel(
            session,
            TEST_CIPHER,
            workspace_id=ws,
            name="inbox leads",
            kind="webhook",
            settings={"url": "http://127.0.0.1:9/hook"},
            kinds=["sla_breach"],
        )
        session.commit()
        channel_id = channel.id
    with Session(sqlite_engine) as session:  # a resolved conversation is no longer waiting
        resolved = session.exec(select(Conversation).where(Conversation.external_thread_id == "t-b")).one()
        resolved.status = "resolved"
        session.add(resolved)
        session.commit()
    deadline = T0 + timedelta(hours=24)
    assert inbox_rules.check_sla_breaches(sqlite_engine, deadline - timedelta(seconds=1)) == []
    mine = inbox_rules.check_sla_breaches(sqlite_engine, deadline, workspace_id=ws)
    assert mine == [_conversation(sqlite_engine, "t-a").id]
    assert inbox_rules.check_sla_breaches(sqlite_engine, deadline + timedelta(hours=2), workspace_id=ws) == []
    theirs = inbox_rules.check_sla_breaches(sqlite_engine, deadline + timedelta(hours=3))
    assert theirs == [_conversation(sqlite_engine, "t-z").id]
    with Session(sqlite_engine) as session:
        alerts_raised = session.exec(select(Alert).where(Alert.kind == "sla_breach")).all()
    assert sorted((a.workspace_id, a.details["conversation_id"]) for a in alerts_raised) == sorted(
        [(ws, mine[0]), (other_ws, theirs[0])]
    )
    assert as_utc(_conversation(sqlite_engine, "t-a").sla_breached_at) == deadline
    with Session(sqlite_engine) as session:
        queued = session.exec(select(AlertDelivery)).all()
    assert [(d.channel_id, d.alert_id) for d in queued] == [
        (channel_id, next(a.id for a in alerts_raised if a.workspace_id == ws))
    ]


def test_meta_payloads_give_dms_and_comments_and_skip_echoes_and_junk() -> None:
    payload: dict[str, Any] = {
        "object": "page",
        "entry": [
            {
                "id": "page-1",
                "time": 1762300000,
                "messaging": [
                    {
                        "sender": {"id": "u1"},
                        "timestamp": 1762300000123,
                        "message": {"mid": "m1", "text": "hi?"},
                    },
                    {"sender": {"id": "page-1"}, "message": {"mid": "m2", "text": "x", "is_echo": True}},
                    {"sender": "junk", "message": ["junk"]},
                    {"sender": {"id": "u2"}, "read": {"watermark": 1}},
                ],
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "c1",
                            "post_id": "p1",
                            "message": "nice",
                            "from": {"id": "u3", "name": "Cy"},
                            "created_time": 1762300100,
                        },
                    },
                    {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "p1"}},
                    {"field": "comments", "value": "junk"},
                ],
            },
            "junk",
        ],
    }
    events = inbox_rules.parse_meta_events(payload)
    assert [(owner, m.remote_id, m.kind, m.author_id, m.text) for owner, m in events] == [
        ("page-1", "m1", "dm", "u1", "hi?"),
        ("page-1", "c1", "comment", "u3", "nice"),
    ]
    assert events[0][1].created_at == datetime.fromtimestamp(1762300000.123, UTC)
    assert events[1][1].in_reply_to == "p1" and events[1][1].author_name == "Cy"
    assert inbox_rules.parse_meta_events({"entry": {"not": "a list"}}) == []


def test_the_signature_is_metas_hmac_sha256_of_the_raw_body() -> None:
    # A published example value (HMAC-SHA256 of "test" keyed "secret").
    assert inbox_rules.signature_of(b"test", "secret") == (
        "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
    )
    body = b'{"entry": []}'
    assert inbox_rules.signature_of(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
