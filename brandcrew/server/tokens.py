"""JWT access and refresh tokens (the seed's strategy: access 15 minutes, refresh 7 days).

Access tokens carry the seed's payload (userId, workspaceId, role, permissions) so a request needs no
database read to be authorised; refresh tokens carry only the user, the login session and a token id
that the session rotates, so a stolen refresh token works at most once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
_ALGORITHM = "HS256"
_VERIFIED_CACHE_SIZE = 4096


class TokenError(Exception):
    """A token is invalid (`code` INVALID_TOKEN) or expired (`code` TOKEN_EXPIRED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AccessClaims(BaseModel):
    """What an access token says about its bearer."""

    model_config = ConfigDict(frozen=True)  # one verified token's claims serve many requests

    user_id: str
    workspace_id: str
    role: str
    permissions: list[str]
    session_id: str


class RefreshClaims(BaseModel):
    """What a refresh token says: whose session it belongs to and which rotation it is."""

    user_id: str
    session_id: str
    jti: str


class TokenPair(BaseModel):
    """An access token and a refresh token, as the seed's auth responses return them."""

    access_token: str
    refresh_token: str
    expires_in: int = int(ACCESS_TTL.total_seconds())


def load_secret(data_dir: Path, configured: str | None = None) -> bytes:
    """The configured signing secret (`BRANDCREW_JWT_SECRET`), or one from (a new) 0600 file in data_dir."""
    if configured:
        return configured.encode()
    path = data_dir / "jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server process of this data dir made it first
            return path.read_bytes().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_bytes().strip()


class TokenSigner:
    """Issues and verifies tokens; access and refresh tokens use different derived keys."""

    def __init__(self, secret: bytes) -> None:
        # Only tokens that verified are kept (a flood of bad ones cannot fill it), each with its `exp`.
        self._verified: dict[str, tuple[float, AccessClaims]] = {}
        self._verified_lock = threading.Lock()
        self._access_key = hmac.new(secret, b"brandcrew access", hashlib.sha256).digest()
        self._refresh_key = hmac.new(secret, b"brandcrew refresh", hashlib.sha256).digest()

    def issue(self, claims: AccessClaims, refresh_jti: str, *, now: datetime | None = None) -> TokenPair:
        """A new access token and a refresh token for the given session rotation."""
        now = now or datetime.now(UTC)
        access = {
            "userId": claims.user_id,
            "workspaceId": claims.workspace_id,
            "role": claims.role,
            "permissions": claims.permissions,
            "sid": claims.session_id,
            "typ": "access",
            "iat": now,
            "exp": now + ACCESS_TTL,
        }
        refresh = {
            "userId": claims.user_id,
            "sid": claims.session_id,
            "jti": refresh_jti,
            "typ": "refresh",
            "iat": now,
            "exp": now + REFRESH_TTL,
        }
        return TokenPair(
            access_token=jwt.encode(access, self._access_key, algorithm=_ALGORITHM),
            refresh_token=jwt.encode(refresh, self._refresh_key, algorithm=_ALGORITHM),
        )

    def verify_access(self, token: str) -> AccessClaims:
        """The claims of a valid access token, or TokenError.

        A token verified before is answered from memory until its `exp`, when it expires as PyJWT
        would expire it: a client sends the same token with every request for 15 minutes, and
        checking its signature and encoding again cost a GET about a twentieth of its time.
        """
        known = self._verified.get(token)
        if known is not None:
            if time.time() < known[0]:
                return known[1]
            self._verified.pop(token, None)
            raise TokenError("TOKEN_EXPIRED", "access token expired")
        data = self._decode(token, self._access_key, "access")
        claims = AccessClaims(
            user_id=data["userId"],
            workspace_id=data["workspaceId"],
            role=data["role"],
            permissions=list(data.get("permissions", [])),
            session_id=data.get("sid", ""),
        )
        with self._verified_lock:
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = (float(data["exp"]), claims)
        return claims

    def verify_refresh(self, token: str) -> RefreshClaims:
        """The claims of a valid refresh token, or TokenError."""
        data = self._decode(token, self._refresh_key, "refresh")
        return RefreshClaims(user_id=data["userId"], session_id=data["sid"], jti=data["jti"])

    @staticmethod
    def _decode(token: str, key: bytes, kind: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = jwt.decode(
                token, key, algorithms=[_ALGORITHM], options={"require": ["exp", "iat"]}
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("TOKEN_EXPIRED", f"{kind} token expired") from None
        except jwt.PyJWTError:
            raise TokenError("INVALID_TOKEN", f"invalid {kind} token") from None
        if data.get("typ") != kind:
            raise TokenError("INVALID_TOKEN", f"not a {kind} token")
        return data
