"""Team members: registration, password checks, invitations, login sessions and API keys.

Passwords are hashed with argon2id (argon2-cffi's defaults, which follow RFC 9106's second
recommended profile); API keys are random, so a fast sha256 suffices and keeps every request cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, EmailStr, Field
from sqlmodel import Session, col, select

from brandcrew.services import audit
from brandcrew.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from brandcrew.services.workspaces import slugify
from brandcrew.store.tables import ApiKey, AuthSession, User, Workspace, as_utc, new_id, utcnow

Role = Literal["owner", "admin", "manager", "editor", "viewer"]
ROLES: tuple[str, ...] = ("owner", "admin", "manager", "editor", "viewer")
_RANK = {role: len(ROLES) - i for i, role in enumerate(ROLES)}
_hasher = PasswordHasher()
# A hash of a random password, checked when the email is unknown so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class InvalidCredentials(ServiceError):
    """Email or password is wrong (deliberately not saying which)."""

    code = "UNAUTHORIZED"
    status_code = 401


class Registration(BaseModel):
    """A new account: its first user becomes the owner of a new workspace."""

    email: EmailStr
    password: str = Field(min_length=10, max_length=256)
    name: str = Field(min_length=1, max_length=255)
    workspace_name: str = Field(min_length=1, max_length=255, alias="workspaceName")

    model_config = {"populate_by_name": True}


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def outranks(role: str, other: str) -> bool:
    """True when `role` is at least as powerful as `other`."""
    return _RANK.get(role, 0) >= _RANK.get(other, 0)


def register(session: Session, data: Registration) -> tuple[User, Workspace]:
    """Create a workspace and its owner; ALREADY_EXISTS-style conflict when the email is taken."""
    email = data.email.lower()
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise Conflict("a user with this email already exists", details={"field": "email"})
    slug = slugify(data.workspace_name)
    if session.exec(select(Workspace).where(Workspace.slug == slug)).first() is not None:
        slug = f"{slug}-{secrets.token_hex(3)}"
    workspace = Workspace(name=data.workspace_name, slug=slug)
    session.add(workspace)
    session.flush()
    user = User(
        workspace_id=workspace.id,
        email=email,
        name=data.name,
        role="owner",
        password_hash=hash_password(data.password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace.id,
        user_id=user.id,
        action="register",
        resource="user",
        resource_id=user.id,
        changes={"email": email, "role": "owner"},
    )
    return user, workspace


def add_member(
    session: Session,
    *,
    workspace_id: str,
    email: str,
    name: str,
    role: str,
    password: str,
    invited_by: User,
) -> User:
    """Add a user to the inviter's workspace with a role no higher than the inviter's."""
    if role not in ROLES:
        raise ValidationFailed(f"unknown role {role!r}", details={"roles": list(ROLES)})
    if role == "owner" or not outranks(invited_by.role, role):
        raise ValidationFailed(f"a {invited_by.role} may not grant the role {role!r}")
    if len(password) < 10:
        raise ValidationFailed("password must be at least 10 characters", details={"field": "password"})
    email = email.lower()
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise Conflict("a user with this email already exists", details={"field": "email"})
    user = User(
        workspace_id=workspace_id, email=email, name=name, role=role, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=invited_by.id,
        action="invite",
        resource="user",
        resource_id=user.id,
        changes={"email": email, "role": role},
    )
    return user


def list_members(session: Session, *, workspace_id: str) -> list[User]:
    """The workspace's users, oldest first."""
    stmt = select(User).where(User.workspace_id == workspace_id).order_by(col(User.created_at))
    return list(session.exec(stmt))


def get_user(session: Session, *, user_id: str, workspace_id: str | None = None) -> User:
    """An active user (of `workspace_id` when given), or NotFound."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or (workspace_id and user.workspace_id != workspace_id):
        raise NotFound(f"user {user_id} not found")
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """The user with this email and password, or InvalidCredentials."""
    user = session.exec(select(User).where(User.email == email.lower())).first()
    if user is None or not user.is_active or not user.password_hash:
        _verify(_DUMMY_HASH, password)
        raise InvalidCredentials("invalid email or password")
    if not _verify(user.password_hash, password):
        raise InvalidCredentials("invalid email or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(session: Session, *, user: User, lifetime: timedelta) -> AuthSession:
    """A new login session holding the id of its first refresh token."""
    row = AuthSession(
        user_id=user.id,
        workspace_id=user.workspace_id,
        refresh_jti=new_id(),
        expires_at=utcnow() + lifetime,
    )
    session.add(row)
    session.flush()
    return row


def rotate_session(session: Session, *, session_id: str, jti: str) -> AuthSession:
    """Swap the session's refresh token for a new one; a reused (older) token revokes the session."""
    row = session.get(AuthSession, session_id)
    now = utcnow()
    if row is None or row.revoked_at is not None or (as_utc(row.expires_at) or now) <= now:
        raise InvalidCredentials("refresh token is no longer valid")
    if row.refresh_jti != jti:
        # A refresh token used twice was copied: end the session so neither copy works (RFC 9700 4.14).
        row.revoked_at, row.revoked_reason = now, "refresh token reused"
        session.add(row)
        session.commit()
        raise InvalidCredentials("refresh token was already used; the session is revoked")
    row.refresh_jti = new_id()
    row.last_used_at = now
    session.add(row)
    return row


def revoke_session(session: Session, *, session_id: str, reason: str = "logout") -> None:
    """End a login session (logout)."""
    row = session.get(AuthSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at, row.revoked_reason = utcnow(), reason
        session.add(row)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, *, user: User, name: str, role: str | None = None, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new API key acting as `user` with `role` (default: the user's); the secret is shown once."""
    role = role or user.role
    if role not in ROLES or not outranks(user.role, role):
        raise ValidationFailed(f"a {user.role} may not create a key with the role {role!r}")
    prefix = secrets.token_hex(6)
    key = f"bc_{prefix}_{secrets.token_urlsafe(24)}"
    row = ApiKey(
        workspace_id=user.workspace_id,
        user_id=user.id,
        name=name,
        prefix=prefix,
        secret_hash=_key_hash(key),
        role=role,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        workspace_id=user.workspace_id,
        user_id=user.id,
        action="create",
        resource="api_key",
        resource_id=row.id,
        changes={"name": name, "role": role},
    )
    return row, key


def check_api_key(session: Session, key: str) -> ApiKey | None:
    """The live key row for a presented key, or None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "bc":
        return None
    row = session.exec(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or not secrets.compare_digest(row.secret_hash, _key_hash(key))
    ):
        return None
    if row.expires_at is not None and (as_utc(row.expires_at) or now) <= now:
        return None
    return row


def list_api_keys(session: Session, *, workspace_id: str) -> list[ApiKey]:
    """The workspace's keys (secrets are never stored)."""
    stmt = select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(col(ApiKey.created_at))
    return list(session.exec(stmt))


def revoke_api_key(session: Session, *, workspace_id: str, key_id: str, user_id: str) -> ApiKey:
    """Revoke a key of this workspace."""
    row = session.get(ApiKey, key_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"api key {key_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="revoke",
            resource="api_key",
            resource_id=key_id,
        )
    return row
