"""OAuth 2 authorization-code flow: PKCE (RFC 7636), authorize URLs, code exchange and token refresh."""

from __future__ import annotations

import base64
import string
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from brandcrew.connectors.base import AccountAuth
from brandcrew.connectors.errors import AuthExpired, OutcomeUnknown
from brandcrew.connectors.linkedin import LinkedInConnector
from brandcrew.connectors.oauth import (
    OAuthCallbackError,
    OAuthClient,
    code_challenge,
    make_code_verifier,
)
from brandcrew.connectors.threads import ThreadsConnector
from brandcrew.connectors.x import XConnector
from brandcrew.errors import ConfigError

from .conftest import CONNECTOR_VCR, NOW, clock, failing_client, handler_client

# RFC 7636 appendix B: the example verifier and its S256 challenge.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

X_CLIENT_ID = "Q2xpZW50SWRGb3JUZXN0czox"
X_REDIRECT = "https://app.brandcrew.example/oauth/x/callback"
X_ACCOUNT = AccountAuth(
    account_id="acc-x",
    platform="x",
    platform_account_id="1846210987654321000",
    access_token="x-expired-access-token",
    refresh_token="bWRWa3gzdnk3WHRGU1o0bmRhd0pxYkZjTlRQc0tXTVdkNzU0S2cxOjE3OTU1OTkwMDA6MTowOnJ0OjE",
)


def x_oauth(*, secret: str | None = None, client: httpx.AsyncClient | None = None) -> OAuthClient:
    return OAuthClient(
        "x", client_id=X_CLIENT_ID, client_secret=secret, redirect_uri=X_REDIRECT, client=client, clock=clock
    )


# --- PKCE and authorize URLs


def test_code_challenge_matches_rfc_7636_appendix_b() -> None:
    assert code_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_generated_verifiers_are_43_unreserved_characters_and_unique() -> None:
    allowed = set(string.ascii_letters + string.digits + "-._~")
    verifiers = {make_code_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    assert all(len(v) == 43 and set(v) <= allowed for v in verifiers)
    assert all("=" not in code_challenge(v) and len(code_challenge(v)) == 43 for v in verifiers)


def test_x_authorize_url_carries_state_and_s256_challenge() -> None:
    request = x_oauth().authorization_request(state="st4te-9f1c", code_verifier=RFC_VERIFIER)
    url = httpx.URL(request.url)
    assert (url.scheme, url.host, url.path) == ("https", "x.com", "/i/oauth2/authorize")
    assert {k: v[0] for k, v in parse_qs(url.query.decode()).items()} == {
        "response_type": "code",
        "client_id": X_CLIENT_ID,
        "redirect_uri": X_REDIRECT,
        "scope": "tweet.read tweet.write users.read dm.read dm.write offline.access",
        "state": "st4te-9f1c",
        "code_challenge": RFC_CHALLENGE,
        "code_challenge_method": "S256",
    }
    assert "scope=tweet.read%20tweet.write" in request.url  # spaces as %20, as X documents
    assert request.code_verifier == RFC_VERIFIER
    assert request.state == "st4te-9f1c"


def test_fresh_authorization_requests_get_their_own_state_and_verifier() -> None:
    oauth = x_oauth()
    first, second = oauth.authorization_request(), oauth.authorization_request()
    assert first.state != second.state
    assert first.code_verifier and second.code_verifier and first.code_verifier != second.code_verifier
    challenge = parse_qs(httpx.URL(first.url).query.decode())["code_challenge"][0]
    assert challenge == code_challenge(first.code_verifier)


def test_linkedin_authorize_url_has_state_but_no_challenge() -> None:
    oauth = OAuthClient(
        "linkedin", client_id="77abcdef", client_secret="s", redirect_uri="https://a.example/cb"
    )
    request = oauth.authorization_request(state="abc")
    params = parse_qs(httpx.URL(request.url).query.decode())
    assert request.url.startswith("https://www.linkedin.com/oauth/v2/authorization?")
    assert params["state"] == ["abc"]
    assert "code_challenge" not in params
    assert request.code_verifier is None


def test_callback_checks_state_and_reports_denial() -> None:
    request = x_oauth().authorization_request(state="good-state", code_verifier=RFC_VERIFIER)
    assert request.code_from_callback({"state": "good-state", "code": "c0de"}) == "c0de"
    with pytest.raises(OAuthCallbackError, match="state"):
        request.code_from_callback({"state": "forged", "code": "c0de"})
    with pytest.raises(OAuthCallbackError, match="access_denied"):
        request.code_from_callback({"state": "good-state", "error": "access_denied"})


# --- token endpoint


async def test_x_code_exchange_sends_the_verifier() -> None:
    oauth = x_oauth()
    with CONNECTOR_VCR.use_cassette("oauth_x_exchange.yaml") as cassette:
        tokens = await oauth.exchange_code(
            "VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hMNDoxNzk1NTk5MDAwOjE6MTphYzox",
            code_verifier=RFC_VERIFIER,
        )
    await oauth.aclose()
    assert cassette.all_played
    assert tokens.access_token.startswith("b3VkRnpPNnB")
    assert tokens.refresh_token and tokens.refresh_token.startswith("bWRWa3gz")
    assert tokens.expires_at == NOW + timedelta(hours=2)
    assert tokens.scope == "tweet.write users.read tweet.read offline.access dm.read dm.write"


async def test_x_exchange_without_verifier_is_refused_locally() -> None:
    with pytest.raises(ValueError, match="code_verifier"):
        await x_oauth(client=failing_client(httpx.ConnectError)).exchange_code("code")


async def test_x_connector_refreshes_with_basic_auth_for_a_confidential_client() -> None:
    seen: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    client = httpx.AsyncClient(event_hooks={"request": [hook]})
    connector = XConnector(oauth=x_oauth(secret="fake-client-secret", client=client), clock=clock)
    with CONNECTOR_VCR.use_cassette("oauth_x_refresh.yaml") as cassette:
        tokens = await connector.refresh_token(X_ACCOUNT)
    await client.aclose()
    assert cassette.all_played
    assert tokens.access_token == "TjBiTlJ1a0JYbWh2T0pNcXhjSnpNRzJ5SUwwTTRfYTVpcm9XSmp0MTp4OjE6YXQ6MQ"
    assert (
        tokens.refresh_token == "Rk5sSHBQNDRtc3hGVUxLM0drZmN2WXh0aEZ2VEZCcjZ6Z2xRNjQ6eDoxOnJ0OjI"
    )  # rotated
    expected = base64.b64encode(f"{X_CLIENT_ID}:fake-client-secret".encode()).decode()
    assert seen[0].headers["Authorization"] == f"Basic {expected}"
    assert "client_id" not in parse_qs(seen[0].content.decode())


async def test_x_invalid_refresh_token_is_auth_expired() -> None:
    oauth = x_oauth()
    with CONNECTOR_VCR.use_cassette("oauth_x_refresh_invalid.yaml"), pytest.raises(AuthExpired):
        await oauth.refresh("revoked-refresh-token")
    await oauth.aclose()


async def test_x_refresh_timeout_is_outcome_unknown_because_x_rotates_refresh_tokens() -> None:
    # X voids the old refresh token when it issues a new one: if the answer is lost, repeating the
    # call with the old token cannot be assumed to work.
    with pytest.raises(OutcomeUnknown):
        await x_oauth(client=failing_client(httpx.ReadTimeout)).refresh("some-refresh-token")


async def test_linkedin_connector_refreshes_with_the_refresh_token() -> None:
    oauth = OAuthClient(
        "linkedin",
        client_id="77abcdefgh1234",
        client_secret="fake-linkedin-secret",
        redirect_uri="https://app.brandcrew.example/oauth/linkedin/callback",
        clock=clock,
    )
    account = AccountAuth(
        account_id="acc-li",
        platform="linkedin",
        platform_account_id="2414183",
        access_token="li-old",
        refresh_token="AQWf2vH1rT7Jk0uNbCq4sP9xZ3aL6mEo8dG5yB2wK1cV4nR7tY0uI3oP6aS9dF2gH5jK8lZ1xC4vB7nM0qW3eR6tY9u",
    )
    with CONNECTOR_VCR.use_cassette("oauth_linkedin_refresh.yaml") as cassette:
        tokens = await LinkedInConnector(oauth=oauth, clock=clock).refresh_token(account)
    await oauth.aclose()
    assert cassette.all_played
    assert tokens.access_token.startswith("AQXp")
    assert tokens.expires_at == NOW + timedelta(seconds=5183999)
    assert tokens.refresh_token == account.refresh_token  # LinkedIn keeps the refresh token's TTL


async def test_threads_connector_reextends_the_long_lived_token() -> None:
    oauth = OAuthClient(
        "threads",
        client_id="990602627938098",
        client_secret="fake-threads-secret",
        redirect_uri="https://app.brandcrew.example/oauth/threads/callback",
        clock=clock,
    )
    account = AccountAuth(
        account_id="acc-th", platform="threads", platform_account_id="25123456789012345", access_token="THold"
    )
    with CONNECTOR_VCR.use_cassette("oauth_threads_refresh.yaml") as cassette:
        tokens = await ThreadsConnector(oauth=oauth, clock=clock).refresh_token(account)
    await oauth.aclose()
    assert cassette.all_played
    assert tokens.access_token.startswith("THAAJ")
    assert tokens.refresh_token is None  # Threads has no refresh tokens
    assert tokens.expires_at == NOW + timedelta(seconds=5183944)


async def test_threads_refresh_sends_the_current_token_and_no_secret() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json={"access_token": "new", "token_type": "bearer", "expires_in": 5183944}
        )

    oauth = OAuthClient(
        "threads",
        client_id="1",
        client_secret="s",
        redirect_uri="https://a.example/cb",
        client=handler_client(handler),
    )
    await oauth.refresh("THold")
    params = dict(seen[0].url.params)
    assert params == {"grant_type": "th_refresh_token", "access_token": "THold"}
    assert str(seen[0].url).startswith("https://graph.threads.net/refresh_access_token?")


async def test_facebook_code_exchange_returns_a_long_lived_token() -> None:
    oauth = OAuthClient(
        "facebook",
        client_id="1234567890123456",
        client_secret="fake-app-secret",
        redirect_uri="https://app.brandcrew.example/oauth/facebook/callback",
        clock=clock,
    )
    with CONNECTOR_VCR.use_cassette("oauth_facebook_exchange.yaml") as cassette:
        tokens = await oauth.exchange_code("AQBx7fN2kQ9sL3vT8wE1rY6uI0oP4aS7dF2gH5jK")
    await oauth.aclose()
    assert cassette.all_played  # code -> short-lived token -> fb_exchange_token -> long-lived token
    assert tokens.access_token.startswith("EAAGlong")
    assert tokens.expires_at == NOW + timedelta(seconds=5183944)


async def test_connector_without_oauth_client_cannot_refresh() -> None:
    with pytest.raises(ConfigError, match="OAuthClient"):
        await XConnector(clock=clock).refresh_token(X_ACCOUNT)


async def test_refresh_without_a_refresh_token_means_reconnect() -> None:
    account = X_ACCOUNT.model_copy(update={"refresh_token": None})
    connector = XConnector(oauth=x_oauth(client=failing_client(httpx.ConnectError)), clock=clock)
    with pytest.raises(AuthExpired, match="reconnected"):
        await connector.refresh_token(account)
