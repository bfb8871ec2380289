"""The marketers' web page, driven in headless Chromium against a live server: login, chat (streaming,
agents and cost, an approval inside the chat), the approvals queue, the calendar, campaigns and spend."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from brandcrew.llm.messages import ModelRequest, ResponseChunk
from brandcrew.llm.offline import OfflineBackend
from brandcrew.llm.runtime import set_runtime
from brandcrew.llm.testing import ScriptedLlm, reply, tool_call
from brandcrew.llm.usage import LlmUsage
from brandcrew.store.engine import session_scope
from brandcrew.store.tables import Approval, AuditLog, OutboxEntry, Post, User
from tests.utils.autopilot import PricedOffline, campaign_file
from tests.utils.llm import make_runtime
from tests.utils.server import Account, register

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("BRANDCREW_WEB_SHOTS", "/tmp/brandcrew-web-shots"))
expect.set_options(timeout=90_000)  # the first chat turn of a process loads MiniLM for the router
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium (`make browser` installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests (each test gets its own context)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (`make browser` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def warm_router() -> None:
    """Build the supervisor's fast router once (loading MiniLM and embedding its examples is the slow part
    of a process's first chat turn; later routers reuse the process's embeddings)."""
    from brandcrew.agents import default_agents
    from brandcrew.graphs.supervisor import default_router
    from brandcrew.settings import Settings

    default_router(default_agents(Settings().configs_dir))


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser tab on the live server (UTC, desktop size); fails the test on a page error."""
    context = browser.new_context(
        base_url=live_server, timezone_id="UTC", viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(20_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # Failed fetches (a 401 before a refresh, a 422) are logged by the browser itself; script errors are not.
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert not errors, f"the page logged errors: {errors}"


def shot(tab: Any, name: str) -> None:
    """A full-page screenshot for the record (outside the repository)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(tab: Any, account: Account) -> None:
    """Log in through the form and wait for the app."""
    tab.goto("/")
    tab.get_by_label("Email").fill(account.email)
    tab.get_by_label("Password").fill(account.password)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("navigation", name="Sections").wait_for()


@pytest.fixture
def account(live_server: str) -> Account:
    """A registered owner of a fresh workspace on the live server."""
    with httpx.Client(base_url=live_server) as client:
        return register(client, name="Maria", workspace="Northwind Coffee")


# ---------------------------------------------------------------- the page itself (no browser needed)


def test_root_redirects_to_the_page_which_is_served_with_a_strict_csp(client: TestClient) -> None:
    res = client.get("/", follow_redirects=False)
    assert res.status_code == 307 and res.headers["location"] == "/app/"
    page_res = client.get("/app/")
    assert page_res.status_code == 200 and page_res.headers["content-type"].startswith("text/html")
    csp = page_res.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page_res.headers["x-content-type-options"] == "nosniff"
    assert page_res.headers["cache-control"] == "no-cache"
    assert "<script>" not in page_res.text and " on" not in page_res.text.split("<body>")[1].split("=")[0]
    for asset, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        res = client.get(f"/app/{asset}")
        assert res.status_code == 200 and res.headers["content-type"].startswith(kind)
        again = client.get(f"/app/{asset}", headers={"If-None-Match": res.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


def test_unknown_paths_under_app_are_404_not_files_of_the_server(client: TestClient) -> None:
    for path in ("/app/../server/app.py", "/app/routes/web.py", "/app/nope.js", "/app/%2e%2e/app.py"):
        res = client.get(path)
        assert res.status_code == 404, path


def test_the_page_ships_in_the_package_data() -> None:
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["brandcrew"]
    assert "server/web/*" in patterns
    from brandcrew.server.routes.web import FILES, WEB_DIR

    assert all((WEB_DIR / name).is_file() for name in FILES)


def test_page_scripts_never_write_html_from_data() -> None:
    from brandcrew.server.routes.web import WEB_DIR

    script = (WEB_DIR / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


# ---------------------------------------------------------------- login


@needs_chromium
def test_login_wrong_password_then_right_one_and_refresh_on_401(page: Any, account: Account) -> None:
    page.goto("/")
    assert page.url.endswith("/app/")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
    shot(page, "login")
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Sections").wait_for()
    expect(page.locator("#who-name")).to_have_text("Maria")
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('brandcrew.auth'))")
    # An expired or bad access token: the page refreshes it with the refresh token and carries on.
    page.evaluate(
        "s => sessionStorage.setItem('brandcrew.auth', JSON.stringify({...s, accessToken: 'expired'}))",
        stored,
    )
    with page.expect_response(lambda r: r.url.endswith("/api/auth/refresh")) as refreshed:
        page.reload()
    assert refreshed.value.status == 200
    page.get_by_role("navigation", name="Sections").wait_for()
    after = page.evaluate("JSON.parse(sessionStorage.getItem('brandcrew.auth'))")
    assert after["accessToken"] != "expired" and after["refreshToken"] != stored["refreshToken"]
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.evaluate("sessionStorage.getItem('brandcrew.auth')") is None


# ---------------------------------------------------------------- chat


class StreamingPricedOffline(PricedOffline):
    """The offline model's answers, streamed word by word and billed like a paid provider."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[ResponseChunk]:
        self.calls += 1
        async for chunk in OfflineBackend().stream(request):
            yield chunk


def use_priced_offline(app: Any) -> None:
    """Every model call answers as the offline model, priced at the alpha/beta test prices."""
    engine = app.state.services.engine
    set_runtime(make_runtime(engine, {p: StreamingPricedOffline(p) for p in ("alpha", "beta")}))


def watch_answer(tab: Any) -> None:
    """Record every text the newest answer shows, as it changes (to see the answer arrive in pieces)."""
    tab.evaluate(
        """() => {
          window.__answerTexts = [];
          new MutationObserver((records) => {
            for (const r of records) {
              const answer = r.target.closest && r.target.closest('[data-role=answer]');
              if (answer) window.__answerTexts.push(answer.textContent);
            }
          }).observe(document.querySelector('#chat-log'), {childList: true, subtree: true, characterData: true});
        }"""
    )


def chat_state(live_server: str, account: Account, thread_id: str) -> dict[str, Any]:
    """The thread's state, read through the runs API."""
    with httpx.Client(base_url=live_server, headers=account.headers) as client:
        res = client.get(f"/threads/{thread_id}/state")
        assert res.status_code == 200, res.text
        return dict(res.json())


@needs_chromium
def test_chat_streams_the_answer_and_shows_agents_models_and_cost(
    warm_router: None, page: Any, app: Any, live_server: str, account: Account
) -> None:
    use_priced_offline(app)
    sign_in(page, account)
    expect(page.get_by_role("heading", name="Chat with your strategy team")).to_be_visible()
    watch_answer(page)
    page.get_by_label("Message").fill("Plan our posting cadence for next month")
    page.get_by_role("button", name="Send").click()
    answer = page.locator("[data-role=answer]").last
    expect(answer).to_have_attribute("aria-live", "polite")
    expect(answer).to_have_attribute("aria-busy", "false")
    cost = page.locator("[data-role=cost]").last
    expect(cost).to_have_text(re.compile(r"^\$\d+\.\d+$"))

    thread_id = page.evaluate("sessionStorage.getItem('brandcrew.thread')")
    state = chat_state(live_server, account, thread_id)
    final = state["values"]["messages"][-1]
    assert final["type"] == "ai" and final["content"].strip()
    texts = page.evaluate("window.__answerTexts")
    assert final["content"] in texts, "the whole answer was shown as it streamed"
    pieces = [t for t in texts if t and len(t) < len(final["content"]) and final["content"].startswith(t)]
    assert len(set(pieces)) > 1, "the answer appeared in pieces before the whole of it"
    # Once complete, the Markdown answer is shown formatted (as elements, never parsed HTML).
    if "\n## " in final["content"]:
        heading = final["content"].split("\n## ")[1].split("\n")[0]
        expect(answer.locator("h3").filter(has_text=heading).first).to_be_visible()

    with httpx.Client(base_url=live_server, headers=account.headers) as client:
        (run,) = client.get(f"/threads/{thread_id}/runs").json()
    usage = run["metadata"]["usage"]
    shown_agents = page.locator("[data-role=usage] .chip[data-agent]").all_inner_texts()
    assert usage["agents"] and [a.replace("_", " ") for a in usage["agents"]] == shown_agents
    shown_models = page.locator("[data-role=usage] .chip.model").all_inner_texts()
    assert sorted(shown_models) == sorted(usage["models"]) and usage["models"] != ["offline"]
    assert Decimal(usage["cost_usd"]) > 0
    assert cost.inner_text() == f"${Decimal(usage['cost_usd']):.4f}"
    page.locator("#chat-log").evaluate(
        "log => { log.style.maxHeight = 'none'; }"
    )  # the whole turn in the shot
    shot(page, "chat")


APPROVAL_TOOL = '''
"""A tool that needs a person's approval before it runs (for the web page's tests)."""

from brandcrew.services import audit
from brandcrew.tools import ToolContext, tool
from brandcrew.tools.builtin._session import session_for


@tool(scopes=["write"], effect="write", needs_approval=True, agents=["content_creator"])
def share_with_client(ctx: ToolContext, text: str) -> dict[str, str]:
    """Send a draft to the client for sign-off (a person approves first)."""
    with session_for(ctx) as session:
        audit.record(
            session, workspace_id=ctx.workspace_id, actor="agent", action="share",
            resource="draft", resource_id="client-review", changes={"text": text},
        )
    return {"status": "shared", "text": text}
'''
SHARED = "Autumn Guji is back: bright, juicy, roasted this week."
USAGE = LlmUsage(input_tokens=1200, output_tokens=300, requests=1)


@pytest.fixture
def approval_configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped configs plus a tool that pauses for approval (set before the app is built)."""
    from brandcrew.settings import get_settings

    configs = tmp_path / "configs"
    shutil.copytree(get_settings().configs_dir, configs)
    (configs / "tools").mkdir(exist_ok=True)
    (configs / "tools" / "share_with_client.py").write_text(APPROVAL_TOOL)
    monkeypatch.setenv("BRANDCREW_CONFIGS_DIR", str(configs))
    get_settings.cache_clear()
    return configs


@needs_chromium
@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
def test_an_approval_interrupt_is_answered_inside_the_chat(
    warm_router: None,
    approval_configs: Path,
    approve: bool,
    page: Any,
    app: Any,
    live_server: str,
    account: Account,
) -> None:
    final_text = "Shared with the client for sign-off." if approve else "Understood, not shared."
    llm = ScriptedLlm(
        [tool_call("share_with_client", {"text": SHARED}, usage=USAGE), reply(final_text, usage=USAGE)],
        provider="alpha",
    )
    set_runtime(make_runtime(app.state.services.engine, {"alpha": llm}))
    sign_in(page, account)
    page.get_by_label("Message").fill(
        "Write an X post about our autumn Guji beans and share it with the client"
    )
    page.get_by_role("button", name="Send").click()

    card = page.get_by_role("region", name="Approval needed")
    expect(card).to_be_visible()
    expect(card).to_contain_text("content creator wants to share with client")
    expect(card.locator("dd")).to_have_text(SHARED)
    with Session(app.state.services.engine) as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "share")).all() == []
    thread_id = page.evaluate("sessionStorage.getItem('brandcrew.thread')")
    assert chat_state(live_server, account, thread_id)["next"], "the run waits for the person"
    if approve:
        shot(page, "chat-approval")
        card.get_by_role("button", name="Approve").click()
    else:
        card.get_by_label("Reason").fill("not before the tasting")
        card.get_by_role("button", name="Reject").click()

    answer = page.locator("[data-role=answer]").last
    expect(answer).to_have_text(final_text)
    expect(card).to_contain_text("Approved" if approve else "Rejected")
    expect(page.locator("[data-role=cost]").last).to_have_text(re.compile(r"^\$0\.00\d\d$"))
    state = chat_state(live_server, account, thread_id)
    assert state["next"] == [] and state["interrupts"] == []
    with httpx.Client(base_url=live_server, headers=account.headers) as client:
        runs = client.get(f"/threads/{thread_id}/runs").json()
    assert [r["status"] for r in runs] == ["success", "interrupted"]
    with Session(app.state.services.engine) as session:
        shared = session.exec(select(AuditLog).where(AuditLog.action == "share")).all()
    if approve:
        (row,) = shared
        assert row.workspace_id == account.workspace_id and row.changes == {"text": SHARED}
    else:
        assert shared == []
        tool_message = [m for m in llm.calls[-1].messages if m.get("role") == "tool"][-1]
        assert "rejected" in tool_message["content"] and "not before the tasting" in tool_message["content"]


# ---------------------------------------------------------------- approvals queue


@pytest.fixture
def waiting_autopilot(app: Any, tmp_path: Path) -> Iterator[tuple[Any, Account]]:
    """A day of an autopilot campaign whose three posts wait for a person, and an owner of its workspace."""
    from brandcrew.jobs._dbos import shutdown_dbos
    from brandcrew.jobs.autopilot import AutopilotOptions, run_autopilot
    from brandcrew.services.users import hash_password

    path = campaign_file(tmp_path, approval="human", days=2)
    try:
        # In a thread of its own: Playwright's sync API keeps an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(asyncio.run, run_autopilot(path, options=AutopilotOptions(days=1))).result()
        assert first.waiting_approval == 3
        password = "lead passphrase 1"
        with Session(app.state.services.engine) as session:
            user = User(
                workspace_id=first.workspace_id,
                email="lead@northwind.example",
                name="Lead",
                role="owner",
                password_hash=hash_password(password),
            )
            session.add(user)
            session.commit()
            lead = Account(
                user_id=user.id,
                workspace_id=first.workspace_id,
                email=user.email,
                password=password,
                access_token="",
                refresh_token="",
                api_key="",
            )
        yield first, lead
    finally:
        shutdown_dbos()


@needs_chromium
def test_approvals_queue_approve_edit_and_reject_with_a_reason(
    page: Any, app: Any, live_server: str, waiting_autopilot: tuple[Any, Account]
) -> None:
    run, lead = waiting_autopilot
    engine = app.state.services.engine
    sign_in(page, lead)
    expect(page.locator("#approvals-count")).to_have_text("3")
    page.get_by_role("link", name=re.compile("^Approvals")).click()
    cards = page.locator("li.approval")
    expect(cards).to_have_count(3)
    with Session(engine) as session:
        pending = session.exec(select(Approval).order_by(col(Approval.created_at))).all()
        texts = {a.id: session.get(Post, a.resource_id).content["text"] for a in pending}  # type: ignore[union-attr]
    ids = [cards.nth(i).get_attribute("data-id") for i in range(3)]
    a, b, c = (page.locator(f"li.approval[data-id='{i}']") for i in ids)
    assert sorted(ids) == sorted(texts)
    for card, approval_id in zip((a, b, c), ids, strict=True):
        expect(card.get_by_label("Post text")).to_have_value(texts[approval_id])
        expect(card).to_contain_text("Test launch")
    shot(page, "approvals")

    a.get_by_role("button", name="Approve").click()
    expect(cards).to_have_count(2)
    expect(page.locator("#approvals-count")).to_have_text("2")

    edited = "Cold brew, the Northwind way: coarse grind, 16 hours, patience. <b>&amp;</b>"
    b.get_by_role("button", name="Edit").click()
    b.get_by_label("Post text").fill(edited)
    b.get_by_role("button", name="Save and approve").click()
    expect(cards).to_have_count(1)

    c.get_by_role("button", name="Reject").click()
    c.get_by_role("button", name="Confirm reject").click()
    expect(c.get_by_role("status")).to_have_text("Give a reason so the team can learn from it.")
    c.get_by_label("Reason for rejecting").fill("off topic for launch week")
    c.get_by_role("button", name="Confirm reject").click()
    expect(page.get_by_text("Nothing is waiting for approval.")).to_be_visible()
    expect(page.locator("#approvals-count")).to_be_hidden()

    with Session(engine) as session:
        decided = {x.id: x for x in session.exec(select(Approval)).all()}
        assert [decided[i].status for i in ids] == ["approved", "approved", "rejected"]
        assert all(decided[i].decided_by == lead.user_id for i in ids)
        assert "off topic for launch week" in (decided[ids[2]].reason or "")
        edited_post = session.get(Post, decided[ids[1]].resource_id)
        assert edited_post is not None and edited_post.content["text"] == edited
        rejected_post = session.get(Post, decided[ids[2]].resource_id)
        assert rejected_post is not None and rejected_post.status == "rejected"
        # The last decision resumed the cycle: the approved and the edited post are scheduled, not the other.
        scheduled = {e.post_id: e for e in session.exec(select(OutboxEntry)).all()}
    assert set(scheduled) == {decided[ids[0]].resource_id, decided[ids[1]].resource_id}
    assert scheduled[decided[ids[1]].resource_id].payload["text"] == edited

    # The campaign's autopilot run, as the campaigns panel shows it.
    page.get_by_role("link", name="Campaigns & spend").click()
    campaign = page.locator(f"[data-campaign-id='{run.campaign_id}']")
    expect(campaign).to_contain_text("Test launch")
    expect(campaign.locator(".badge")).to_contain_text(["autopilot"])
    token = page.evaluate("JSON.parse(sessionStorage.getItem('brandcrew.auth')).accessToken")
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {token}"}) as client:
        (autopilot,) = client.get("/api/campaigns/autopilot").json()["runs"]
    cycles = campaign.get_by_role("progressbar", name="autopilot cycles progress")
    expect(cycles).to_have_attribute(
        "aria-valuenow", str(round(100 * autopilot["nextCycle"] / autopilot["cycles"]))
    )
    expect(campaign).to_contain_text(f"{autopilot['postsPublished']} of {autopilot['posts']} posts published")
    shot(page, "campaigns-autopilot")


# ---------------------------------------------------------------- calendar


XSS_TEXT = "Fresh Guji on the bar today <img src=x onerror=window.__xss=1>"


def seed_posts(live_server: str, account: Account) -> tuple[datetime, datetime, str]:
    """A post scheduled on X and LinkedIn in two days at 10:00 UTC, and one published today on X."""
    with httpx.Client(base_url=live_server, headers=account.headers) as client:
        res = client.post("/api/accounts/sandbox", json={"platforms": ["x", "linkedin"]})
        assert res.status_code == 201, res.text
        by_platform = {a["platform"]: a["id"] for a in res.json()["accounts"]}
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        due = today + timedelta(days=2, hours=10)
        res = client.post(
            "/api/posts",
            json={
                "content": {"text": "Tasting night on Friday: book a seat"},
                "platforms": [{"platform": p, "accountId": by_platform[p]} for p in ("x", "linkedin")],
                "scheduledAt": due.isoformat(),
            },
        )
        assert res.status_code == 201, res.text
        res = client.post(
            "/api/posts",
            json={
                "content": {"text": XSS_TEXT},
                "platforms": [{"platform": "x", "accountId": by_platform["x"]}],
            },
        )
        assert res.status_code == 201, res.text
        published_id = res.json()["post"]["id"]
        assert client.post(f"/api/posts/{published_id}/publish").status_code == 200
    return today, due, published_id


def mark_published(app: Any, post_id: str, at: datetime) -> None:
    """What the publishing worker does once the platform accepted the post."""
    # A read-modify-write: it holds the write lock from its start, as the live server writes too.
    with session_scope(app.state.services.engine) as session:
        for entry in session.exec(select(OutboxEntry).where(OutboxEntry.post_id == post_id)).all():
            entry.status, entry.published_at = "published", at
            session.add(entry)


@needs_chromium
def test_calendar_shows_scheduled_and_published_posts_on_their_days(
    page: Any, app: Any, live_server: str, account: Account
) -> None:
    today, due, published_id = seed_posts(live_server, account)
    published_at = datetime.now(UTC).replace(microsecond=0)
    mark_published(app, published_id, published_at)
    sign_in(page, account)
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Content calendar")).to_be_visible()
    if due.date() - timedelta(days=due.weekday()) != today.date() - timedelta(days=today.weekday()):
        page.get_by_role("button", name="Next").click()  # the post falls in next week
    day = page.locator(f"[data-date='{due.date().isoformat()}']")
    posts = day.locator(".post")
    expect(posts).to_have_count(2)
    assert sorted(posts.locator(".badge.platform").all_text_contents()) == ["linkedin", "x"]
    expect(posts.first).to_contain_text("10:00")
    expect(posts.first.locator(".text")).to_have_text("Tasting night on Friday: book a seat")
    expect(posts.first.locator(".state")).to_have_text("scheduled")
    shot(page, "calendar-week")

    page.get_by_role("button", name="Month").click()
    expect(page.locator("#cal-month")).to_have_attribute("aria-pressed", "true")
    if due.month != today.month:
        page.get_by_role("button", name="Today").click()
    published = page.locator(f"[data-date='{published_at.date().isoformat()}'] .post.published")
    expect(published).to_have_count(1)
    expect(published.locator(".text")).to_have_text(XSS_TEXT)
    assert page.evaluate("window.__xss") is None, "server text is shown as text, never run as markup"
    expect(page.locator("#calendar-legend")).to_contain_text("x")
    shot(page, "calendar-month")


# ---------------------------------------------------------------- campaigns and spend


@needs_chromium
def test_campaigns_and_spend_show_a_campaign_budgets_and_the_spend_of_a_chat_turn(
    warm_router: None, page: Any, app: Any, live_server: str, account: Account
) -> None:
    use_priced_offline(app)
    with httpx.Client(base_url=live_server, headers=account.headers) as client:
        res = client.post(
            "/api/campaigns",
            json={
                "name": "Autumn <i>launch</i>",
                "startDate": "2026-09-01T00:00:00Z",
                "endDate": "2026-12-31T00:00:00Z",
                "goals": [{"metric": "posts_published", "target": 12}],
                "budgetUsd": "25",
            },
        )
        assert res.status_code == 201, res.text
        campaign_id = res.json()["campaign"]["id"]
        for kind, limit in (("workspace_day", "2"), ("workspace_month", "40")):
            res = client.put("/api/costs/budget", json={"kind": kind, "limitUsd": limit})
            assert res.status_code == 200, res.text
    sign_in(page, account)
    page.get_by_label("Message").fill("Plan our posting cadence for next month")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("[data-role=cost]").last).to_have_text(re.compile(r"^\$0\.\d{4}$"))

    page.get_by_role("link", name="Campaigns & spend").click()
    campaign = page.locator(f"[data-campaign-id='{campaign_id}']")
    expect(campaign).to_contain_text("Autumn <i>launch</i>")
    expect(campaign.locator(".badge")).to_contain_text(["draft"])
    expect(campaign.get_by_role("progressbar", name="posts published progress")).to_have_attribute(
        "aria-valuenow", "0"
    )
    with httpx.Client(base_url=live_server, headers=account.headers) as client:
        summary = client.get("/api/costs/summary").json()
        costs = client.get("/api/costs", params={"groupBy": "agent,model"}).json()
    assert Decimal(summary["todayUsd"]) > 0
    today = page.locator("[data-figure=today] dd")
    expect(today).to_have_text(f"${Decimal(summary['todayUsd']):.4f}")
    expect(page.locator("[data-figure=month] dd")).to_have_text(f"${Decimal(summary['monthUsd']):.4f}")
    for figure in ("today", "month"):
        value = page.locator(f"[data-figure={figure}] dd").inner_text()
        assert Decimal(value.removeprefix("$")) >= 0
    daily = page.locator("[data-budget=workspace_day]")
    expect(daily).to_contain_text("Daily cap")
    expect(daily).to_contain_text("of $2.00")
    rows = page.locator("#breakdown-table tbody tr")
    expect(rows).to_have_count(len(costs["rows"]))
    agents = {r["group"]["agent"] for r in costs["rows"]}
    assert "strategy" in agents
    expect(page.locator("#breakdown-table tbody tr[data-agent=strategy]").first).to_contain_text("alpha/")
    shot(page, "campaigns")


@needs_chromium
def test_panels_say_so_when_an_api_is_missing(page: Any, account: Account) -> None:
    """A server without the approvals, calendar or costs routes (404 there): each panel says what is missing."""
    missing = json.dumps({"error": {"code": "NOT_FOUND", "message": "Not Found", "details": None}})
    for pattern in ("**/api/approvals**", "**/api/posts/calendar**", "**/api/costs**"):
        page.route(
            pattern, lambda route: route.fulfill(status=404, body=missing, content_type="application/json")
        )
    sign_in(page, account)
    page.get_by_role("link", name=re.compile("^Approvals")).click()
    expect(page.locator("#approvals-status")).to_have_text(
        "The approvals queue is not available on this server yet."
    )
    expect(page.locator("li.approval")).to_have_count(0)
    page.get_by_role("link", name="Calendar").click()
    expect(page.locator("#calendar-status")).to_have_text("The calendar is not available on this server yet.")
    expect(page.locator("#calendar-grid [data-date]")).to_have_count(7)
    page.get_by_role("link", name="Campaigns & spend").click()
    expect(page.locator("#spend-status")).to_have_text("AI spend is not available on this server yet.")
    expect(page.locator("#breakdown-status")).to_have_text(
        "The spend breakdown is not available on this server yet."
    )
    expect(page.locator("#campaigns-status")).to_have_text("No campaigns yet.")


@needs_chromium
def test_narrow_screens_get_a_single_column_layout(
    page: Any, app: Any, live_server: str, account: Account
) -> None:
    seed_posts(live_server, account)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, account)
    page.get_by_role("link", name="Calendar").click()
    first, second = (
        page.locator("#calendar-grid [data-date]").nth(0),
        page.locator("#calendar-grid [data-date]").nth(1),
    )
    expect(first).to_be_visible()
    one, two = first.bounding_box(), second.bounding_box()
    assert one and two and two["y"] > one["y"] and abs(two["x"] - one["x"]) < 1, "days stack in one column"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing overflows sideways"
    shot(page, "calendar-narrow")
    page.get_by_role("link", name="Chat").click()
    expect(page.get_by_label("Message")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "chat-narrow")
