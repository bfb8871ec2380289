"""Register, login, refresh, logout; the caller's identity; team members and API keys."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from brandcrew.server.deps import PrincipalDep, SessionDep, limit_anonymous, require
from brandcrew.server.errors import ApiError
from brandcrew.server.permissions import Permission, permissions_of
from brandcrew.server.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyPublic,
    LoginIn,
    LoginOut,
    MemberIn,
    MeOut,
    RefreshIn,
    RegisterOut,
    TokensOut,
    UserPublic,
    WorkspacePublic,
)
from brandcrew.server.tokens import REFRESH_TTL, AccessClaims, TokenError, TokenPair, TokenSigner
from brandcrew.services import users
from brandcrew.services.workspaces import get_workspace
from brandcrew.store.tables import User

router = APIRouter(prefix="/api/auth", tags=["auth"])
team_router = APIRouter(prefix="/api", tags=["team"])


def _signer(request: Request) -> TokenSigner:
    signer: TokenSigner = request.app.state.signer
    return signer


def _issue(session: Session, signer: TokenSigner, user: User) -> TokenPair:
    login = users.open_session(session, user=user, lifetime=REFRESH_TTL)
    claims = AccessClaims(
        user_id=user.id,
        workspace_id=user.workspace_id,
        role=user.role,
        permissions=sorted(permissions_of(user.role, user.permissions)),
        session_id=login.id,
    )
    return signer.issue(claims, login.refresh_jti)


@router.post(
    "/register", response_model=RegisterOut, status_code=201, dependencies=[Depends(limit_anonymous)]
)
def register(body: users.Registration, request: Request, session: SessionDep) -> RegisterOut:
    """Create a workspace and its owner; returns tokens."""
    user, workspace = users.register(session, body)
    pair = _issue(session, _signer(request), user)
    session.commit()
    return RegisterOut(
        user=UserPublic.model_validate(user),
        workspace=WorkspacePublic.model_validate(workspace),
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.post("/login", response_model=LoginOut, dependencies=[Depends(limit_anonymous)])
def login(body: LoginIn, request: Request, session: SessionDep) -> LoginOut:
    """Exchange email and password for tokens."""
    user = users.authenticate(session, email=body.email, password=body.password)
    pair = _issue(session, _signer(request), user)
    session.commit()
    return LoginOut(
        user=UserPublic.model_validate(user),
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.post("/refresh", response_model=TokensOut, dependencies=[Depends(limit_anonymous)])
def refresh(body: RefreshIn, request: Request, session: SessionDep) -> TokensOut:
    """Rotate a refresh token: a new pair; the old refresh token stops working."""
    signer = _signer(request)
    try:
        claims = signer.verify_refresh(body.refresh_token)
    except TokenError as exc:
        raise ApiError(401, exc.code, str(exc)) from None
    row = users.rotate_session(session, session_id=claims.session_id, jti=claims.jti)
    user = users.get_user(session, user_id=claims.user_id)
    access = AccessClaims(
        user_id=user.id,
        workspace_id=user.workspace_id,
        role=user.role,
        permissions=sorted(permissions_of(user.role, user.permissions)),
        session_id=row.id,
    )
    pair = signer.issue(access, row.refresh_jti)
    session.commit()
    return TokensOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@router.post("/logout", status_code=204)
def logout(body: RefreshIn, request: Request, session: SessionDep) -> None:
    """End the login session of a refresh token."""
    try:
        claims = _signer(request).verify_refresh(body.refresh_token)
    except TokenError as exc:
        raise ApiError(401, exc.code, str(exc)) from None
    users.revoke_session(session, session_id=claims.session_id)
    session.commit()


@router.get("/me", response_model=MeOut)
def me(principal: PrincipalDep, session: SessionDep) -> MeOut:
    """Who the caller is and what they may do."""
    user = session.get(User, principal.user_id) if principal.user_id else None
    return MeOut(
        user=UserPublic.model_validate(user) if user else None,
        workspace=WorkspacePublic.model_validate(get_workspace(session, principal.workspace_id)),
        role=principal.role,
        permissions=sorted(principal.permissions),
        api_key_id=principal.api_key_id,
    )


@team_router.get("/team/members", response_model=list[UserPublic])
def list_members(principal: PrincipalDep, session: SessionDep) -> list[UserPublic]:
    """The workspace's members."""
    return [
        UserPublic.model_validate(u) for u in users.list_members(session, workspace_id=principal.workspace_id)
    ]


@team_router.post(
    "/team/members",
    response_model=UserPublic,
    status_code=201,
    dependencies=[require(Permission.TEAM_INVITE)],
)
def add_member(body: MemberIn, principal: PrincipalDep, session: SessionDep) -> UserPublic:
    """Add a teammate to the caller's workspace, with a role no higher than the caller's."""
    inviter = users.get_user(session, user_id=principal.user_id or "", workspace_id=principal.workspace_id)
    user = users.add_member(
        session,
        workspace_id=principal.workspace_id,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        invited_by=inviter,
    )
    session.commit()
    return UserPublic.model_validate(user)


@team_router.get(
    "/api-keys", response_model=list[ApiKeyPublic], dependencies=[require(Permission.APIKEY_MANAGE)]
)
def list_api_keys(principal: PrincipalDep, session: SessionDep) -> list[ApiKeyPublic]:
    """The workspace's API keys."""
    return [
        ApiKeyPublic.model_validate(k)
        for k in users.list_api_keys(session, workspace_id=principal.workspace_id)
    ]


@team_router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(body: ApiKeyIn, principal: PrincipalDep, session: SessionDep) -> ApiKeyCreated:
    """A new API key acting as the caller (any member may make one for their own automation)."""
    if principal.api_key_id:
        raise ApiError(403, "FORBIDDEN", "API keys cannot create API keys")
    user = users.get_user(session, user_id=principal.user_id or "", workspace_id=principal.workspace_id)
    row, key = users.create_api_key(
        session, user=user, name=body.name, role=body.role, expires_at=body.expires_at
    )
    session.commit()
    return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": key})


@team_router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(key_id: str, request: Request, principal: PrincipalDep, session: SessionDep) -> None:
    """Revoke a key: the creator may revoke their own; `apikey:manage` may revoke any in the workspace."""
    row = session.get(users.ApiKey, key_id)
    if row is None or row.workspace_id != principal.workspace_id:
        raise ApiError(404, "NOT_FOUND", f"api key {key_id} not found")
    if row.user_id != principal.user_id and not principal.can(Permission.APIKEY_MANAGE):
        raise ApiError(403, "FORBIDDEN", "only the key's creator or an admin may revoke it")
    users.revoke_api_key(
        session, workspace_id=principal.workspace_id, key_id=key_id, user_id=principal.user_id or ""
    )
    session.commit()
    request.app.state.api_key_cache.clear()
