"""Derived random streams and stable hashes: every draw is a pure function of (seed, purpose)."""

from __future__ import annotations

import hashlib
import math
import random


def rng(seed: str, *purpose: object) -> random.Random:
    """A private RNG for one purpose, e.g. `rng(seed, "noise", remote_id)`; never the global one."""
    return random.Random(":".join([seed, *map(str, purpose)]))


def digest(*parts: object, size: int = 10) -> str:
    """A short stable hex digest of `parts` (ids, tokens, signatures)."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:size]


def number(*parts: object, digits: int = 18) -> int:
    """A stable positive integer of `digits` digits derived from `parts`."""
    value = int(hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest(), 16)
    low = 10 ** (digits - 1)
    return low + value % (9 * low)


def lognormal_unit(r: random.Random, sigma: float) -> float:
    """A lognormal factor with mean 1 and log-standard-deviation `sigma`."""
    return r.lognormvariate(-(sigma**2) / 2, sigma) if sigma > 0 else 1.0


def poisson(r: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(r.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def weighted_choice(r: random.Random, weights: dict[str, float]) -> str:
    """One key of `weights`, drawn in proportion to its weight (keys in insertion order)."""
    total = sum(weights.values())
    u = r.random() * total
    acc = 0.0
    last = ""
    for key, w in weights.items():
        acc += w
        last = key
        if u < acc:
            return key
    return last
