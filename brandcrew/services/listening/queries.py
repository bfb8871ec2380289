"""Saved listening queries of a workspace: create, read, change, delete, each checked and audited.

A query is a boolean expression (`services.listening.query` grammar) and/or keywords (any one must
appear), narrowed by platforms, languages, excluded terms and a sentiment label. Everything is parsed
when it is saved, so a query that cannot run is refused with the position of the problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, func, select

from brandcrew.connectors.capabilities import Platform
from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import ValidationFailed
from brandcrew.services.listening.query import QueryFilter, QuerySyntaxError
from brandcrew.store.tables import AlertChannel, ListeningMatch, ListeningQuery

__all__ = (
    "QUERY_FIELDS",
    "create_query",
    "delete_query",
    "get_query",
    "list_queries",
    "update_query",
)

QUERY_FIELDS = ("name", "query", "keywords", "platforms", "languages", "excluded_terms", "sentiment_filter")
SENTIMENTS = ("positive", "neutral", "negative")
_LANGUAGE = re.compile(r"^[a-z]{2}(-[a-z0-9]{2,8})?$")


def _clean_terms(values: Sequence[str], field: str) -> list[str]:
    out = []
    for value in values:
        term = " ".join(value.split())
        if not term:
            raise ValidationFailed(f"{field} may not contain empty terms", details={"field": field})
        out.append(term)
    return list(dict.fromkeys(out))


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and validate a query's fields; ValidationFailed names the field that is wrong."""
    out = dict(values)
    if "name" in out:
        out["name"] = " ".join(str(out["name"]).split())
        if not out["name"]:
            raise ValidationFailed("a query needs a name", details={"field": "name"})
    if "query" in out:
        out["query"] = (out["query"] or "").strip()
    for field in ("keywords", "excluded_terms"):
        if field in out:
            out[field] = _clean_terms(out[field] or [], field)
    if "platforms" in out:
        known = {p.value for p in Platform}
        platforms = [str(p).lower() for p in out["platforms"] or []]
        unknown = sorted(set(platforms) - known)
        if unknown:
            raise ValidationFailed(
                f"unknown platforms: {', '.join(unknown)}",
                details={"field": "platforms", "known": sorted(known)},
            )
        out["platforms"] = list(dict.fromkeys(platforms))
    if "languages" in out:
        languages = [str(code).lower() for code in out["languages"] or []]
        bad = [code for code in languages if not _LANGUAGE.match(code)]
        if bad:
            raise ValidationFailed(
                f"languages are ISO 639-1 codes (en, de, pt-br), not {', '.join(bad)}",
                details={"field": "languages"},
            )
        out["languages"] = list(dict.fromkeys(languages))
    if out.get("sentiment_filter") is not None and out["sentiment_filter"] not in SENTIMENTS:
        raise ValidationFailed(
            "sentimentFilter is positive, neutral or negative", details={"field": "sentimentFilter"}
        )
    return out


def _parse(row: ListeningQuery) -> None:
    """Refuse a query that has nothing to match or does not parse."""
    if not row.query.strip() and not row.keywords:
        raise ValidationFailed("a query needs keywords or a boolean query", details={"field": "keywords"})
    try:
        QueryFilter(query=row.query, keywords=row.keywords, excluded_terms=row.excluded_terms)
    except QuerySyntaxError as exc:
        raise ValidationFailed(
            f"the boolean query does not parse: {exc.reason} at position {exc.position}",
            details={"field": "booleanQuery", "position": exc.position, "query": exc.query},
        ) from None
    except RecursionError:
        # The parser and the matcher recurse once per nesting level; refuse what they cannot run.
        raise ValidationFailed(
            "the boolean query is nested too deeply", details={"field": "booleanQuery"}
        ) from None


def create_query(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    query: str = "",
    keywords: Sequence[str] = (),
    platforms: Sequence[str] = (),
    languages: Sequence[str] = (),
    excluded_terms: Sequence[str] = (),
    sentiment_filter: str | None = None,
    is_active: bool = True,
    user_id: str | None = None,
) -> ListeningQuery:
    """Save a new query (polled from the next listening round on while active)."""
    values = _checked(
        {
            "name": name,
            "query": query,
            "keywords": list(keywords),
            "platforms": list(platforms),
            "languages": list(languages),
            "excluded_terms": list(excluded_terms),
            "sentiment_filter": sentiment_filter,
        }
    )
    row = ListeningQuery(workspace_id=workspace_id, is_active=is_active, **values)
    _parse(row)
    session.add(row)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="create",
        resource="listening_query",
        resource_id=row.id,
        changes={**values, "is_active": is_active},
    )
    return row


def get_query(session: Session, *, workspace_id: str, query_id: str) -> ListeningQuery:
    """One query of the workspace, or NotFound."""
    return get_owned(session, ListeningQuery, query_id, workspace_id=workspace_id, label="listening query")


def list_queries(
    session: Session, *, workspace_id: str, offset: int = 0, limit: int = 50
) -> tuple[list[ListeningQuery], int]:
    """A page of the workspace's queries (oldest first) and how many there are."""
    where = ListeningQuery.workspace_id == workspace_id
    total = int(session.exec(select(func.count()).select_from(ListeningQuery).where(where)).one())
    rows = session.exec(
        select(ListeningQuery)
        .where(where)
        .order_by(col(ListeningQuery.created_at), col(ListeningQuery.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


def update_query(
    session: Session,
    *,
    workspace_id: str,
    query_id: str,
    changes: dict[str, Any],
    user_id: str | None = None,
) -> ListeningQuery:
    """Change some fields of a query (`QUERY_FIELDS` and `is_active`); the rest stay as they were."""
    row = get_query(session, workspace_id=workspace_id, query_id=query_id)
    allowed = {*QUERY_FIELDS, "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(sorted(unknown))}")
    values = _checked(changes)
    for field, value in values.items():
        setattr(row, field, value)
    _parse(row)
    session.add(row)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="update",
        resource="listening_query",
        resource_id=row.id,
        changes=values,
    )
    return row


def delete_query(session: Session, *, workspace_id: str, query_id: str, user_id: str | None = None) -> None:
    """Delete a query and its links to mentions (the mentions themselves, and alerts, are kept); its
    alert rule's channels stop (kept inactive with their delivery history)."""
    row = get_query(session, workspace_id=workspace_id, query_id=query_id)
    session.execute(delete(ListeningMatch).where(col(ListeningMatch.query_id) == row.id))
    session.execute(
        update(AlertChannel)
        .where(col(AlertChannel.workspace_id) == workspace_id, col(AlertChannel.query_id) == row.id)
        .values(is_active=False)
    )
    session.delete(row)
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="delete",
        resource="listening_query",
        resource_id=query_id,
        changes={"name": row.name},
    )
    session.flush()
