"""Shapes of the server's own resources (users, workspaces, tokens, keys), camelCase on the wire as
the seed's API is."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """A wire model: camelCase names out, either spelling in."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class UserPublic(ApiModel):
    """A user as the API shows it (never the password hash)."""

    id: str
    workspace_id: str
    email: str
    name: str
    role: str
    is_active: bool
    last_login_at: datetime | None = None
    created_at: datetime


class WorkspacePublic(ApiModel):
    """A workspace as the API shows it."""

    id: str
    name: str
    slug: str
    plan: str
    publishing_paused_reason: str | None = None
    created_at: datetime


class LoginIn(ApiModel):
    """Email and password."""

    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(ApiModel):
    """A refresh token to rotate."""

    refresh_token: str = Field(min_length=10, max_length=4096)


class TokensOut(ApiModel):
    """A new token pair."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RegisterOut(TokensOut):
    """The new user, their workspace and tokens."""

    user: UserPublic
    workspace: WorkspacePublic


class LoginOut(TokensOut):
    """The user and tokens."""

    user: UserPublic


class MemberIn(ApiModel):
    """A teammate to add."""

    email: str = Field(min_length=3, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    role: str = Field(default="editor", max_length=50)
    password: str = Field(min_length=10, max_length=256)


class ApiKeyIn(ApiModel):
    """A key to create; the role defaults to the creator's."""

    name: str = Field(min_length=1, max_length=255)
    role: str | None = Field(default=None, max_length=50)
    expires_at: datetime | None = None


class ApiKeyPublic(ApiModel):
    """A key as lists show it (the secret is never stored)."""

    id: str
    name: str
    prefix: str
    role: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyPublic):
    """A new key, with its secret shown this once."""

    key: str


class MeOut(ApiModel):
    """The caller: user, workspace, role and permissions."""

    user: UserPublic | None
    workspace: WorkspacePublic
    role: str
    permissions: list[str]
    api_key_id: str | None = None
