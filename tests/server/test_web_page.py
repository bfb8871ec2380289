"""The marketers' web page, driven in headless Chromium against a live server: login, chat (streaming,
agents and cost, an approval inside the chat), the approvals queue, the calendar, campaigns and spend."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlmodel import Session, select

from brandcrew.llm.messages import ModelRequest, ResponseChunk
from brandcrew.llm.offline import OfflineBackend
from brandcrew.llm.runtime import set_runtime
from brandcrew.llm.testing import ScriptedLlm, reply, tool_call
from brandcrew.llm.usage import LlmUsage
from brandcrew.store.tables import AuditLog
from tests.utils.autopilot import PricedOffline
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
