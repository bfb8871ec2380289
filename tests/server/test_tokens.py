"""Access tokens verified once are answered from memory, and still expire when PyJWT would expire them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from brandcrew.server import tokens
from brandcrew.server.tokens import AccessClaims, TokenError, TokenSigner

CLAIMS = AccessClaims(
    user_id="u1", workspace_id="w1", role="owner", permissions=["posts:read"], session_id="s1"
)


def test_a_verified_token_is_checked_once_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner(b"secret")
    issued = datetime.now(UTC)
    token = signer.issue(CLAIMS, "j1", now=issued).access_token
    decodes: list[str] = []
    real_decode = jwt.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        decodes.append(args[0])
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counted)
    assert signer.verify_access(token) == CLAIMS
    assert signer.verify_access(token) == CLAIMS
    assert len(decodes) == 1
    # A second before `exp` it still holds; at `exp` it is expired, as PyJWT says (exp <= now).
    expires = (issued + tokens.ACCESS_TTL).timestamp()
    monkeypatch.setattr(tokens.time, "time", lambda: int(expires) - 1)
    assert signer.verify_access(token).user_id == "u1"
    monkeypatch.setattr(tokens.time, "time", lambda: int(expires))
    with pytest.raises(TokenError) as expired:
        signer.verify_access(token)
    assert expired.value.code == "TOKEN_EXPIRED"


def test_bad_tokens_are_refused_every_time_and_never_kept() -> None:
    signer = TokenSigner(b"secret")
    good = signer.issue(CLAIMS, "j1").access_token
    head, payload, signature = good.split(".")
    flipped = "A" if signature[10] != "A" else "B"  # a character inside: every bit of it counts
    tampered = f"{head}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
    other_key = TokenSigner(b"another secret").issue(CLAIMS, "j1").access_token
    refresh = signer.issue(CLAIMS, "j1").refresh_token
    for bad in (tampered, other_key, refresh, "not.a.jwt"):
        for _ in range(2):
            with pytest.raises(TokenError) as refused:
                signer.verify_access(bad)
            assert refused.value.code == "INVALID_TOKEN"
    assert signer.verify_access(good) == CLAIMS
    assert list(signer._verified) == [good]


def test_the_cache_of_verified_tokens_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_VERIFIED_CACHE_SIZE", 3)
    signer = TokenSigner(b"secret")
    issued = [
        signer.issue(CLAIMS, f"j{i}", now=datetime.now(UTC) - timedelta(seconds=i)).access_token
        for i in range(5)
    ]
    for token in issued:
        signer.verify_access(token)
    assert list(signer._verified) == issued[2:]
