"""Rate limits per user, workspace and endpoint (GCRA: a smooth rate with a burst of one period).

In-process by default; in Redis (one Lua script per check) when `REDIS_URL` is set, so several server
processes share the counts. Exceeding a limit answers 429 in the seed's error format with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class Limit:
    """At most `requests` per `period_s` seconds, in bursts of up to `requests`."""

    requests: int
    period_s: float = 60.0


@dataclass(frozen=True)
class Decision:
    """The outcome of one check."""

    allowed: bool
    retry_after_s: float
    remaining: int


class RateLimitStore(Protocol):
    """Where the limiter keeps each key's theoretical arrival time."""

    def hit(self, key: str, limit: Limit, now: float) -> Decision:
        """Count one request against `key`; allowed or not."""
        ...


def _gcra(tat: float, limit: Limit, now: float) -> tuple[Decision, float]:
    interval = limit.period_s / limit.requests
    new_tat = max(tat, now) + interval
    allow_at = new_tat - limit.period_s
    if allow_at > now:
        return Decision(False, allow_at - now, 0), tat
    remaining = int((limit.period_s - (new_tat - now)) / interval)
    return Decision(True, 0.0, max(remaining, 0)), new_tat


class MemoryRateLimitStore:
    """Limits of one process (the embedded default)."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: Limit, now: float) -> Decision:
        """Count one request against `key`."""
        with self._lock:
            decision, tat = _gcra(self._tat.get(key, 0.0), limit, now)
            self._tat[key] = tat
            if len(self._tat) > 100_000:  # drop keys whose window has long passed
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return decision


_GCRA_LUA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local new_tat = math.max(tat, now) + interval
local allow_at = new_tat - period
if allow_at > now then
  return {0, tostring(allow_at - now), 0}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(period * 1000) + 1000)
return {1, '0', math.floor((period - (new_tat - now)) / interval)}
"""


class RedisRateLimitStore:
    """Limits shared by every server process through Redis."""

    def __init__(self, client: Any, *, prefix: str = "brandcrew:rl:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_GCRA_LUA)

    def hit(self, key: str, limit: Limit, now: float) -> Decision:
        """Count one request against `key` atomically in Redis."""
        allowed, retry, remaining = self._script(
            keys=[self._prefix + key], args=[now, limit.period_s / limit.requests, limit.period_s]
        )
        return Decision(bool(int(allowed)), float(retry), max(int(remaining), 0))


@dataclass(frozen=True, kw_only=True)
class RateLimitRules:
    """The limits a server enforces; `scale` multiplies every count (0 turns limiting off)."""

    per_user: Limit = Limit(requests=600)
    per_workspace: Limit = Limit(requests=3000)
    per_ip_auth: Limit = Limit(requests=20)
    """Login, register and refresh, per client address: slows password guessing."""
    endpoints: tuple[tuple[str, Limit], ...] = (
        # The seed's per-endpoint limits, per user.
        ("/api/ai/", Limit(requests=20)),
        ("/api/analytics", Limit(requests=50)),
        ("/api/posts", Limit(requests=100)),
    )
    scale: float = 1.0

    def scaled(self, limit: Limit) -> Limit:
        """The limit after `scale`."""
        return Limit(requests=max(1, math.ceil(limit.requests * self.scale)), period_s=limit.period_s)


class RateLimiter:
    """Checks a request against every limit that applies to it; the tightest refusal wins."""

    def __init__(self, store: RateLimitStore, rules: RateLimitRules | None = None) -> None:
        self.store = store
        self.rules = rules or RateLimitRules()
        self.blocking = not isinstance(store, MemoryRateLimitStore)
        """The store does network I/O (Redis): call it off the event loop."""

    @property
    def enabled(self) -> bool:
        """False when the rules' scale is 0."""
        return self.rules.scale > 0

    def check(self, *, path: str, user_key: str, workspace_id: str | None) -> Decision:
        """Count a request of an authenticated caller."""
        checks = [(f"u:{user_key}", self.rules.per_user)]
        if workspace_id:
            checks.append((f"w:{workspace_id}", self.rules.per_workspace))
        for prefix, limit in self.rules.endpoints:
            if path.startswith(prefix):
                checks.append((f"e:{prefix}:{user_key}", limit))
                break
        return self._run(checks)

    def check_anonymous(self, *, ip: str) -> Decision:
        """Count a login/register/refresh attempt from a client address."""
        return self._run([(f"ip:{ip}", self.rules.per_ip_auth)])

    def _run(self, checks: list[tuple[str, Limit]]) -> Decision:
        if not self.enabled:
            return Decision(True, 0.0, 0)
        now = time.time()
        worst = Decision(True, 0.0, 1 << 30)
        for key, limit in checks:
            decision = self.store.hit(key, self.rules.scaled(limit), now)
            if not decision.allowed:
                return decision
            if decision.remaining < worst.remaining:
                worst = decision
        return worst
