"""Shared httpx plumbing of the real platform connectors.

One request helper (`PlatformClient`) turns every failure into a typed connector error, because the
exactly-once publisher decides from the error type alone whether it may resend, must wait, must
refresh a token, or must reconcile:

* nothing reached the platform (connection refused, connect timeout) -> `RetryableError`;
* the request was written and then the connection failed or timed out -> `OutcomeUnknown` for a
  create (the post may exist), `RetryableError` for a read or an idempotent call;
* 5xx -> `OutcomeUnknown` for a create, `RetryableError` otherwise;
* 429 / quota codes -> `RateLimited` with the reset time read from the platform's headers;
* 401 / expired-token codes -> `AuthExpired`; other 4xx -> `Rejected`.

Platform-specific body formats (X problem details, LinkedIn Rest.li errors, Meta Graph errors) are
classified by small functions here and in the connectors.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from brandcrew.connectors.base import AccountAuth, Connector, PublishResult, TokenSet
from brandcrew.connectors.capabilities import PlatformCapabilities
from brandcrew.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    RetryableError,
)
from brandcrew.connectors.validation import Violation
from brandcrew.errors import ConfigError

if TYPE_CHECKING:
    from brandcrew.connectors.oauth import OAuthClient

__all__ = (
    "DEFAULT_TIMEOUT",
    "JSON",
    "Clock",
    "DuplicateContent",
    "HTTPConnector",
    "MetaUsage",
    "NotFound",
    "PlatformClient",
    "Sleep",
    "ThreadIncomplete",
    "classify_graph_error",
    "classify_transport_error",
    "error_for_status",
    "format_rfc3339",
    "graph_reset_at",
    "next_utc_midnight",
    "parse_meta_usage",
    "parse_retry_after",
    "parse_timestamp",
    "raise_for_violations",
    "read_json",
    "utc_now",
    "x_reset_at",
)

DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
"""Connect fails fast (nothing was sent, safe to retry); reads wait long enough for slow creates."""

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
JSON = dict[str, Any]


_SECRET_PARAM: Final = re.compile(
    r"([?&](?:access_token|client_secret|fb_exchange_token|refresh_token|code)=)[^&\s\"']+"
)


class _RedactSecrets(logging.Filter):
    """Blank token-bearing query parameters in httpx's request log lines.

    Meta and Threads take `access_token` as a query parameter (as documented), and httpx logs every
    request URL at INFO; without this a token would reach any log handler at that level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record with secrets blanked; never drop it."""
        message = record.getMessage()
        redacted = _SECRET_PARAM.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


logging.getLogger("httpx").addFilter(_RedactSecrets())


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class DuplicateContent(Rejected):
    """The platform refused a create because the same content already exists on the account.

    X answers 403 "duplicate content", LinkedIn 422 "Content is a duplicate of urn:...", Meta code
    506. The publisher should reconcile (the earlier attempt probably succeeded), not retry.
    """

    duplicate = True

    def __init__(
        self,
        message: str,
        *,
        platform: str = "",
        status_code: int | None = 403,
        existing_id: str | None = None,
    ) -> None:
        super().__init__(message, platform=platform, status_code=status_code, field="duplicate")
        self.existing_id = existing_id
        """The id of the existing post when the platform names it (LinkedIn does)."""


class NotFound(Rejected):
    """The addressed object does not exist (HTTP 404, or Meta's error 100/33 on an unknown id)."""


class ThreadIncomplete(OutcomeUnknown):
    """The first part of a thread is live but a later part failed.

    An `OutcomeUnknown`, so a generic publisher reconciles and finds the first part; `result` says
    exactly which parts exist, so a smarter one can resume the chain with `reply`.
    """

    def __init__(self, message: str, *, platform: str, result: PublishResult, cause: ConnectorError) -> None:
        super().__init__(message, platform=platform, status_code=cause.status_code)
        self.result = result
        self.cause = cause


# --- time and rate-limit headers ----------------------------------------------------------------


def format_rfc3339(moment: datetime) -> str:
    """`moment` as the second-precision UTC timestamp X query parameters take (2026-08-20T09:30:00Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp (Z, +00:00 or +0000) or epoch milliseconds, as aware UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)  # LinkedIn sends epoch milliseconds
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _epoch_seconds(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value.strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """When a `Retry-After` header (delta seconds or an HTTP date) says to try again."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def x_reset_at(headers: httpx.Headers, now: datetime) -> datetime | None:
    """When an X rate limit resets: the latest reset among the exhausted windows."""
    # X sends `x-rate-limit-*` for the 15-minute endpoint window and, on posting endpoints,
    # `x-user-limit-24hour-*` / `x-app-limit-24hour-*` for the daily caps; resets are epoch seconds.
    # A 429 caused by a daily cap still carries a 15-minute reset that is too early, so an exhausted
    # daily window wins.
    resets: list[datetime] = []
    for prefix in ("x-user-limit-24hour", "x-app-limit-24hour", "x-rate-limit"):
        reset = _epoch_seconds(headers.get(f"{prefix}-reset"))
        if reset is not None and headers.get(f"{prefix}-remaining", "").strip() == "0":
            resets.append(reset)
    if resets:
        return max(resets)
    return _epoch_seconds(headers.get("x-rate-limit-reset")) or parse_retry_after(
        headers.get("retry-after"), now
    )


def next_utc_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC (when LinkedIn's daily application and member limits reset)."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class MetaUsage:
    """The worst usage Meta reports in `x-app-usage`, `x-page-usage` and `x-business-use-case-usage`."""

    percent: float = 0.0
    """Highest of call_count / total_cputime / total_time, in percent of the limit."""
    regain_minutes: int | None = None
    """Longest `estimated_time_to_regain_access` of a business-use-case entry."""

    @property
    def exhausted(self) -> bool:
        """True when some limit is at or above 100%."""
        return self.percent >= 100 or bool(self.regain_minutes)


_USAGE_KEYS: Final = ("call_count", "total_cputime", "total_time")


def _usage_percent(entry: Mapping[str, Any]) -> float:
    values = [entry.get(k) for k in _USAGE_KEYS]
    return max((float(v) for v in values if isinstance(v, int | float)), default=0.0)


def _header_json(headers: httpx.Headers, name: str) -> Any:
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def parse_meta_usage(headers: httpx.Headers) -> MetaUsage:
    """Read Meta's usage headers (each a JSON string) into the worst percentage and regain time."""
    percent = 0.0
    regain: int | None = None
    for name in ("x-app-usage", "x-page-usage"):
        entry = _header_json(headers, name)
        if isinstance(entry, dict):
            percent = max(percent, _usage_percent(entry))
    buc = _header_json(headers, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                percent = max(percent, _usage_percent(entry))
                minutes = entry.get("estimated_time_to_regain_access")
                if isinstance(minutes, int) and minutes > 0:
                    regain = max(regain or 0, minutes)
    return MetaUsage(percent=percent, regain_minutes=regain)


def graph_reset_at(headers: httpx.Headers, now: datetime) -> datetime | None:
    """When a throttled Meta app, page or Instagram account may call again, from its usage headers."""
    # Business-use-case limits say how many minutes until access is regained. Platform (app/user/page)
    # limits are counted over a rolling hour and give no time, so an exhausted one means "within an
    # hour" and we wait the whole window rather than hammer the API.
    usage = parse_meta_usage(headers)
    if usage.regain_minutes:
        return now + timedelta(minutes=usage.regain_minutes)
    retry = parse_retry_after(headers.get("retry-after"), now)
    if retry is not None:
        return retry
    if usage.percent >= 100:
        return now + timedelta(hours=1)
    return None


# --- error classification -----------------------------------------------------------------------


def classify_transport_error(exc: httpx.RequestError, *, platform: str, idempotent: bool) -> ConnectorError:
    """The typed error for a request that got no usable HTTP response."""
    # A connect failure means nothing was sent. Anything later (read/write timeout, connection reset,
    # server hung up, an undecodable body) happened after at least part of the request was on the
    # wire, and for a create the platform may already have acted.
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ProxyError):
        return RetryableError(f"{platform}: {name} before the request was sent: {exc}", platform=platform)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return ConnectorError(f"{platform}: invalid request ({name}): {exc}", platform=platform)
    if idempotent:
        return RetryableError(f"{platform}: {name} on an idempotent request: {exc}", platform=platform)
    return OutcomeUnknown(
        f"{platform}: {name} after the request was sent; the platform may have acted: {exc}",
        platform=platform,
    )


def error_for_status(
    response: httpx.Response,
    *,
    platform: str,
    idempotent: bool,
    message: str,
    now: datetime,
    reset_at: datetime | None = None,
) -> ConnectorError:
    """The typed error for a non-2xx response, from its status code alone."""
    status = response.status_code
    text = f"{platform}: HTTP {status}: {message}"
    if status == 401:
        return AuthExpired(text, platform=platform, status_code=status)
    if status == 429:
        reset = reset_at or parse_retry_after(response.headers.get("retry-after"), now)
        return RateLimited(text, reset_at=reset, platform=platform, status_code=status)
    if status == 408:
        return RetryableError(text, platform=platform, status_code=status)
    if status >= 500:
        if idempotent:
            return RetryableError(text, platform=platform, status_code=status)
        # Platforms answer 5xx to creates they went on to complete (X's 503 is notorious).
        return OutcomeUnknown(text, platform=platform, status_code=status)
    if status == 404:
        return NotFound(text, platform=platform, status_code=status)
    return Rejected(text, platform=platform, status_code=status)


def read_json(response: httpx.Response, *, platform: str, idempotent: bool) -> JSON:
    """The JSON object of a response; an unreadable 2xx body is an outcome we cannot know."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    text = f"{platform}: HTTP {response.status_code} with an unreadable body: {response.text[:200]!r}"
    if idempotent:
        raise RetryableError(text, platform=platform, status_code=response.status_code)
    raise OutcomeUnknown(text, platform=platform, status_code=response.status_code)


def _safe_json(response: httpx.Response) -> JSON:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# Graph API error codes: https://developers.facebook.com/docs/graph-api/guides/error-handling
# and https://developers.facebook.com/docs/graph-api/overview/rate-limiting
_GRAPH_AUTH_CODES: Final = frozenset({102, 190})
_GRAPH_RATE_CODES: Final = frozenset({4, 17, 32, 341, 613, *range(80001, 80015)})
_GRAPH_TRANSIENT_CODES: Final = frozenset({1, 2})
_GRAPH_DUPLICATE_CODES: Final = frozenset({506})
_GRAPH_POLICY_BLOCK: Final = 368  # "temporarily blocked for policies violations: wait and retry"
_IG_PUBLISH_LIMIT: Final = (9, 2207042)  # Instagram Content Publishing: 24 h post quota reached


def classify_graph_error(
    response: httpx.Response, *, platform: str, idempotent: bool, now: datetime
) -> ConnectorError:
    """The typed error for a Meta Graph (Facebook, Instagram) or Threads API error response."""
    # Meta puts the meaning in `error.code` / `error.error_subcode`, not in the status (an expired
    # token is often HTTP 400), so the body decides first and the status is the fallback.
    error = _safe_json(response).get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    message = str(error.get("error_user_msg") or error.get("message") or response.reason_phrase)
    label = f"{platform}: Graph error {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
    status = response.status_code
    if code in _GRAPH_AUTH_CODES or status == 401:
        return AuthExpired(label, platform=platform, status_code=status)
    if (
        code in _GRAPH_RATE_CODES
        or code == _GRAPH_POLICY_BLOCK
        or (code, subcode) == _IG_PUBLISH_LIMIT
        or status == 429
    ):
        return RateLimited(
            label, reset_at=graph_reset_at(response.headers, now), platform=platform, status_code=status
        )
    if code in _GRAPH_DUPLICATE_CODES:
        return DuplicateContent(label, platform=platform, status_code=status)
    if status >= 500 or code in _GRAPH_TRANSIENT_CODES or error.get("is_transient") is True:
        if idempotent:
            return RetryableError(label, platform=platform, status_code=status)
        return OutcomeUnknown(label, platform=platform, status_code=status)
    if parse_meta_usage(response.headers).exhausted:
        return RateLimited(
            label, reset_at=graph_reset_at(response.headers, now), platform=platform, status_code=status
        )
    if (code == 100 and subcode == 33) or status == 404:
        return NotFound(label, platform=platform, status_code=status)
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):
        return Rejected(label, platform=platform, status_code=status, field="permission")
    return Rejected(label, platform=platform, status_code=status)


def raise_for_violations(platform: str, violations: Sequence[Violation]) -> None:
    """Refuse to send a draft that breaks the platform's limits (nothing is sent, nothing happened)."""
    if violations:
        message = "; ".join(v.message for v in violations)
        raise Rejected(
            f"{platform}: {message}", platform=platform, status_code=None, field=violations[0].field
        )


# --- the client ---------------------------------------------------------------------------------

ErrorClassifier = Callable[[httpx.Response, bool], ConnectorError]
"""Maps a non-2xx response and whether the request was idempotent to the error to raise."""


class PlatformClient:
    """An httpx.AsyncClient bound to one platform's base URL, raising typed errors.

    Pass `client` to share a pool or to inject a test transport; a client created here is closed
    by `aclose`, an injected one is left to its owner.
    """

    def __init__(
        self,
        *,
        platform: str,
        base_url: str,
        classify: ErrorClassifier,
        client: httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self._classify = classify
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=self._timeout)

    def url(self, path: str) -> str:
        """An absolute URL for `path` (absolute URLs pass through)."""
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; return a 2xx response or raise the typed error for what happened."""
        try:
            response = await self._client.request(
                method,
                self.url(path),
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.RequestError as exc:
            raise classify_transport_error(exc, platform=self.platform, idempotent=idempotent) from exc
        if response.is_success:
            return response
        raise self._classify(response, idempotent)

    async def aclose(self) -> None:
        """Close the underlying client when this object created it."""
        if self._owns_client:
            await self._client.aclose()


class HTTPConnector(Connector):
    """What every real connector shares: the platform client, a clock, an OAuth client, capabilities."""

    def __init__(
        self,
        *,
        base_url: str,
        client: httpx.AsyncClient | None,
        oauth: OAuthClient | None,
        timeout: httpx.Timeout | float,
        clock: Clock,
        capabilities: PlatformCapabilities | None,
    ) -> None:
        self._clock = clock
        self._oauth = oauth
        self._caps = capabilities
        self._http = PlatformClient(
            platform=self.platform, base_url=base_url, classify=self._classify, client=client, timeout=timeout
        )

    def capabilities(self) -> PlatformCapabilities:
        """The platform's limits, or the ones passed to the constructor (e.g. an X Premium account)."""
        return self._caps or super().capabilities()

    def _classify(self, response: httpx.Response, idempotent: bool) -> ConnectorError:
        raise NotImplementedError

    def _token(self, account: AccountAuth) -> str:
        if not account.access_token:
            raise AuthExpired(
                f"{self.platform}: account {account.account_id} has no access token", platform=self.platform
            )
        return account.access_token

    async def refresh_token(self, account: AccountAuth) -> TokenSet:
        """New tokens through the OAuth client (refresh token, or Meta's long-lived token re-extension)."""
        if self._oauth is None:
            raise ConfigError(f"{self.platform}: token refresh needs an OAuthClient (pass oauth=...)")
        if self._oauth.provider.refresh_with == "refresh_token":
            return await self._oauth.refresh(account.refresh_token or "")
        return await self._oauth.refresh(account.access_token)

    async def aclose(self) -> None:
        """Close the HTTP client when the connector created it."""
        await self._http.aclose()
