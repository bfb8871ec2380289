"""The marketers' web page, driven in headless Chromium against a live server: login, chat (streaming,
agents and cost, an approval inside the chat), the approvals queue, the calendar, campaigns and spend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tests.utils.server import Account, register

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(os.environ.get("BRANDCREW_WEB_SHOTS", "/tmp/brandcrew-web-shots"))
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
