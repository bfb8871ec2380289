"""Provider health: a circuit breaker per provider, so a failing provider is skipped for a while."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

CircuitState = Literal["closed", "open", "half_open"]


@dataclass
class _Circuit:
    failures: deque[float] = field(default_factory=deque)
    opened_at: float | None = None
    trial_in_flight: bool = False


class ProviderHealth:
    """Opens a provider's circuit after N failures in a window; lets one trial through after a cooldown."""

    def __init__(
        self,
        *,
        failures: int = 3,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window_s = window_s
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        self._lock = threading.Lock()

    def state(self, provider: str) -> CircuitState:
        """closed (healthy), open (skipped) or half_open (one trial allowed)."""
        with self._lock:
            return self._state(provider)

    def _state(self, provider: str) -> CircuitState:
        circuit = self._circuits.get(provider)
        if circuit is None or circuit.opened_at is None:
            return "closed"
        if self._clock() - circuit.opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def allows(self, provider: str) -> bool:
        """Whether a request to `provider` may be tried now."""
        with self._lock:
            state = self._state(provider)
            if state == "closed":
                return True
            if state == "half_open":
                return not self._circuits[provider].trial_in_flight
            return False

    def begin_trial(self, provider: str) -> None:
        """Mark the one half-open trial as taken."""
        with self._lock:
            if self._state(provider) == "half_open":
                self._circuits[provider].trial_in_flight = True

    def record_success(self, provider: str) -> None:
        """Close the circuit."""
        with self._lock:
            self._circuits.pop(provider, None)

    def record_failure(self, provider: str) -> None:
        """Count a failure; open the circuit when there are too many in the window."""
        now = self._clock()
        with self._lock:
            circuit = self._circuits.setdefault(provider, _Circuit())
            if circuit.opened_at is not None:
                # A failed half-open trial re-opens for a full cooldown.
                circuit.opened_at = now
                circuit.trial_in_flight = False
                return
            circuit.failures.append(now)
            while circuit.failures and now - circuit.failures[0] > self.window_s:
                circuit.failures.popleft()
            if len(circuit.failures) >= self.failures:
                circuit.opened_at = now
                circuit.failures.clear()
