"""OAuth 2 authorization-code flow for the real platforms: authorize URL (state + PKCE), exchange, refresh.

PKCE (RFC 7636) with S256 is used where the platform documents it for web apps (X requires it);
LinkedIn's web flow and Meta's Graph/Threads logins are confidential-client flows with the app
secret, so they get `state` but no challenge unless a provider is configured with `pkce=True`.

Meta platforms have no refresh tokens: a short-lived token from the code exchange is swapped for a
long-lived one (60 days), and "refreshing" re-extends that long-lived access token. `OAuthClient`
hides the difference: `exchange_code` returns the long-lived token and `refresh` takes whichever
token the platform refreshes with (`refresh_with` says which).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode

import httpx

from brandcrew.connectors._http import (
    DEFAULT_TIMEOUT,
    Clock,
    PlatformClient,
    error_for_status,
    read_json,
    utc_now,
)
from brandcrew.connectors.base import TokenSet
from brandcrew.connectors.errors import AuthExpired, ConnectorError

__all__ = (
    "PROVIDERS",
    "AuthorizationRequest",
    "OAuthCallbackError",
    "OAuthClient",
    "OAuthProvider",
    "code_challenge",
    "get_provider",
    "make_code_verifier",
    "make_state",
)

GRAPH_VERSION: Final = "v25.0"

RefreshStyle = Literal["refresh_token", "fb_exchange_token", "th_refresh_token", "ig_refresh_token"]
ClientAuth = Literal["basic", "body"]


@dataclass(frozen=True, kw_only=True)
class OAuthProvider:
    """One platform's OAuth endpoints and conventions."""

    name: str
    authorize_url: str
    token_url: str
    default_scopes: tuple[str, ...]
    scope_separator: str = " "
    pkce: bool = False
    client_auth: ClientAuth = "body"
    token_method: Literal["POST", "GET"] = "POST"
    """Facebook documents the code exchange as a GET with query parameters and no grant_type."""
    """`basic`: confidential clients send id:secret as HTTP Basic (X); `body`: in the form (everyone else)."""
    refresh_style: RefreshStyle = "refresh_token"
    refresh_url: str | None = None
    """Endpoint of the refresh / re-extend call when it is not `token_url`."""
    long_lived_url: str | None = None
    """Meta: endpoint that swaps the short-lived token from the code exchange for a long-lived one."""
    long_lived_grant: str | None = None
    rotates_refresh_token: bool = False
    """X issues a new refresh token on each refresh and voids the old one, so a refresh whose answer
    is lost cannot simply be repeated."""
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    docs: tuple[str, ...] = ()

    @property
    def refresh_with(self) -> Literal["refresh_token", "access_token"]:
        """Which stored token `OAuthClient.refresh` expects for this platform."""
        return "refresh_token" if self.refresh_style == "refresh_token" else "access_token"


_GRAPH = f"https://graph.facebook.com/{GRAPH_VERSION}"

PROVIDERS: Final[Mapping[str, OAuthProvider]] = {
    p.name: p
    for p in (
        OAuthProvider(
            name="x",
            authorize_url="https://x.com/i/oauth2/authorize",
            token_url="https://api.x.com/2/oauth2/token",
            default_scopes=(
                "tweet.read",
                "tweet.write",
                "users.read",
                "dm.read",
                "dm.write",
                "offline.access",  # without it X returns no refresh token
            ),
            pkce=True,
            client_auth="basic",
            rotates_refresh_token=True,
            docs=("https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token",),
        ),
        OAuthProvider(
            name="linkedin",
            authorize_url="https://www.linkedin.com/oauth/v2/authorization",
            token_url="https://www.linkedin.com/oauth/v2/accessToken",
            default_scopes=("w_member_social", "w_organization_social", "r_organization_social"),
            docs=(
                "https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow",
                "https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens",
            ),
        ),
        OAuthProvider(
            name="facebook",
            authorize_url=f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth",
            token_url=f"{_GRAPH}/oauth/access_token",
            default_scopes=(
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
                "read_insights",
                "instagram_basic",
                "instagram_content_publish",
                "instagram_manage_insights",
            ),
            scope_separator=",",
            token_method="GET",
            refresh_style="fb_exchange_token",
            long_lived_url=f"{_GRAPH}/oauth/access_token",
            long_lived_grant="fb_exchange_token",
            docs=(
                "https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow",
                "https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived",
            ),
        ),
        OAuthProvider(
            name="instagram",
            authorize_url="https://www.instagram.com/oauth/authorize",
            token_url="https://api.instagram.com/oauth/access_token",
            default_scopes=(
                "instagram_business_basic",
                "instagram_business_content_publish",
                "instagram_business_manage_insights",
            ),
            scope_separator=",",
            refresh_style="ig_refresh_token",
            refresh_url="https://graph.instagram.com/refresh_access_token",
            long_lived_url="https://graph.instagram.com/access_token",
            long_lived_grant="ig_exchange_token",
            docs=(
                "https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login",
            ),
        ),
        OAuthProvider(
            name="threads",
            authorize_url="https://threads.com/oauth/authorize",
            token_url="https://graph.threads.net/oauth/access_token",
            default_scopes=(
                "threads_basic",
                "threads_content_publish",
                "threads_manage_insights",
                "threads_read_replies",
                "threads_manage_replies",
            ),
            scope_separator=",",
            refresh_style="th_refresh_token",
            refresh_url="https://graph.threads.net/refresh_access_token",
            long_lived_url="https://graph.threads.net/access_token",
            long_lived_grant="th_exchange_token",
            docs=(
                "https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions",
                "https://developers.facebook.com/docs/threads/get-started/long-lived-tokens",
            ),
        ),
    )
}
"""Known providers by platform name; Instagram with Facebook Login uses `facebook`."""


def get_provider(name: str) -> OAuthProvider:
    """The OAuth provider of a platform (`x`, `linkedin`, `facebook`, `instagram`, `threads`)."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(f"no OAuth provider {name!r}; known: {', '.join(sorted(PROVIDERS))}") from None


# --- PKCE and state -----------------------------------------------------------------------------


def make_code_verifier(nbytes: int = 32) -> str:
    """A random PKCE code verifier: 32 bytes -> 43 unreserved characters (RFC 7636 §4.1 allows 43-128)."""
    if not 32 <= nbytes <= 96:
        raise ValueError("nbytes must be 32..96 so the verifier is 43..128 characters")
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode("ascii")


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state() -> str:
    """An unguessable `state` value binding the callback to the browser session (CSRF protection)."""
    return secrets.token_urlsafe(24)


class OAuthCallbackError(ConnectorError):
    """The authorization callback is unusable: state mismatch (possible CSRF), denial, or no code."""

    kind = "oauth_callback"


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep server-side until the callback arrives."""

    url: str
    state: str
    code_verifier: str | None
    """Keep it secret; `exchange_code` needs it. None when the provider does not use PKCE."""

    def code_from_callback(self, params: Mapping[str, str]) -> str:
        """The authorization code from the redirect's query, after checking `state` and errors."""
        if not hmac.compare_digest(params.get("state", ""), self.state):
            raise OAuthCallbackError("OAuth callback state does not match the request (possible CSRF)")
        if "error" in params:
            reason = params.get("error_description") or params["error"]
            raise OAuthCallbackError(f"authorization was not granted: {reason}")
        code = params.get("code")
        if not code:
            raise OAuthCallbackError("OAuth callback carries no code")
        return code


# --- the client ---------------------------------------------------------------------------------


class OAuthClient:
    """Authorization-code flow against one provider for one registered app."""

    def __init__(
        self,
        provider: OAuthProvider | str,
        *,
        client_id: str,
        redirect_uri: str,
        client_secret: str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Clock = utc_now,
    ) -> None:
        self.provider = get_provider(provider) if isinstance(provider, str) else provider
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._clock = clock
        self._http = PlatformClient(
            platform=self.provider.name,
            base_url=self.provider.token_url,
            classify=self._classify,
            client=client,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        """Close the HTTP client when this object created it."""
        await self._http.aclose()

    def authorization_request(
        self,
        *,
        scopes: tuple[str, ...] | list[str] | None = None,
        state: str | None = None,
        code_verifier: str | None = None,
    ) -> AuthorizationRequest:
        """Build the authorize URL with `state` and, where used, an S256 code challenge."""
        p = self.provider
        state = state or make_state()
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": p.scope_separator.join(scopes if scopes is not None else p.default_scopes),
            "state": state,
        }
        verifier: str | None = None
        if p.pkce:
            verifier = code_verifier or make_code_verifier()
            params["code_challenge"] = code_challenge(verifier)
            params["code_challenge_method"] = "S256"
        params.update(p.extra_authorize_params)
        # quote_via=quote keeps spaces as %20 (X's documented form) rather than "+".
        url = f"{p.authorize_url}?{urlencode(params, quote_via=quote)}"
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    async def exchange_code(self, code: str, *, code_verifier: str | None = None) -> TokenSet:
        """Trade an authorization code for tokens (long-lived ones on Meta platforms)."""
        p = self.provider
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
        }
        if p.pkce:
            if not code_verifier:
                raise ValueError(f"{p.name} uses PKCE: pass the code_verifier of the authorization request")
            form["code_verifier"] = code_verifier
        # A code is single-use: if the answer is lost the code is spent either way, and a second
        # exchange fails cleanly with invalid_grant, so there is nothing to reconcile.
        if p.token_method == "GET":
            del form["grant_type"]
        tokens = await self._token_request(p.token_url, form, idempotent=True)
        if p.long_lived_url and p.long_lived_grant:
            return await self._extend(tokens.access_token, url=p.long_lived_url, grant=p.long_lived_grant)
        return tokens

    async def refresh(self, token: str) -> TokenSet:
        """New tokens from `token`: the refresh token (X, LinkedIn) or the long-lived access token (Meta)."""
        p = self.provider
        if not token:
            raise AuthExpired(
                f"{p.name}: no token to refresh with; the account must be reconnected", platform=p.name
            )
        if p.refresh_style == "refresh_token":
            form = {"grant_type": "refresh_token", "refresh_token": token}
            url = p.refresh_url or p.token_url
            return await self._token_request(url, form, idempotent=not p.rotates_refresh_token)
        return await self._extend(token, url=p.refresh_url or p.token_url, grant=p.refresh_style)

    # --- internals

    async def _token_request(self, url: str, form: dict[str, str], *, idempotent: bool) -> TokenSet:
        headers: dict[str, str] = {}
        form = dict(form)
        if self.provider.client_auth == "basic" and self.client_secret:
            raw = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            form["client_id"] = self.client_id
            if self.client_secret:
                form["client_secret"] = self.client_secret
        if self.provider.token_method == "GET":
            response = await self._http.request(
                "GET", url, idempotent=idempotent, params=form, headers=headers
            )
        else:
            response = await self._http.request(
                "POST", url, idempotent=idempotent, data=form, headers=headers
            )
        return self._token_set(read_json(response, platform=self.provider.name, idempotent=idempotent))

    async def _extend(self, token: str, *, url: str, grant: str) -> TokenSet:
        params = {"grant_type": grant}
        if grant == "fb_exchange_token":
            params.update(client_id=self.client_id, fb_exchange_token=token)
        else:
            params["access_token"] = token
        if grant in ("fb_exchange_token", "th_exchange_token", "ig_exchange_token") and self.client_secret:
            params["client_secret"] = self.client_secret
        response = await self._http.request("GET", url, idempotent=True, params=params)
        return self._token_set(read_json(response, platform=self.provider.name, idempotent=True))

    def _token_set(self, body: Mapping[str, Any]) -> TokenSet:
        data = body.get("data")
        if "access_token" not in body and isinstance(data, list) and data and isinstance(data[0], dict):
            body = data[0]  # Instagram Login's code exchange wraps the token in {"data": [...]}
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthExpired(
                f"{self.provider.name}: token response has no access_token", platform=self.provider.name
            )
        expires_in = body.get("expires_in")
        refresh = body.get("refresh_token")
        scope = body.get("scope")
        return TokenSet(
            access_token=access,
            refresh_token=refresh if isinstance(refresh, str) else None,
            expires_at=self._clock() + timedelta(seconds=expires_in) if isinstance(expires_in, int) else None,
            scope=scope if isinstance(scope, str) else None,
        )

    def _classify(self, response: httpx.Response, idempotent: bool) -> ConnectorError:
        name = self.provider.name
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        error = body.get("error")
        if isinstance(error, dict):  # Meta: {"error": {"message": ..., "code": 190}}
            message = str(error.get("message", ""))
            error_code = str(error.get("code", ""))
        else:  # RFC 6749 §5.2: {"error": "invalid_grant", "error_description": ...}
            message = str(body.get("error_description") or error or response.reason_phrase)
            error_code = str(error or "")
        text = f"{error_code}: {message}" if error_code else message
        # RFC 6749 §5.2: invalid_grant = the code / refresh token is invalid, expired or revoked, and
        # Meta's code 190 / 100 on the token endpoint means the same; only a reconnect helps.
        if response.status_code in (400, 401) and (
            error_code in ("invalid_grant", "invalid_request", "190", "100") or response.status_code == 401
        ):
            return AuthExpired(
                f"{name}: token request refused: {text}", platform=name, status_code=response.status_code
            )
        return error_for_status(
            response, platform=name, idempotent=idempotent, message=text, now=self._clock()
        )
