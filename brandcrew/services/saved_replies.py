"""Saved replies: a workspace's reply templates with `{{variables}}`, and filling them in."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, func, select

from brandcrew.services import audit
from brandcrew.services._scoped import get_owned
from brandcrew.services.errors import Conflict, ValidationFailed
from brandcrew.store.tables import Conversation, SavedReply

__all__ = (
    "create_saved_reply",
    "get_saved_reply",
    "list_saved_replies",
    "render",
    "render_for",
    "variables_of",
)

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def variables_of(content: str) -> list[str]:
    """The `{{names}}` a template uses, in order of first use."""
    return list(dict.fromkeys(_VARIABLE.findall(content)))


def render(content: str, values: Mapping[str, str]) -> str:
    """The template with every `{{name}}` replaced; ValidationFailed names the values missing."""
    missing = [name for name in variables_of(content) if not str(values.get(name, "")).strip()]
    if missing:
        raise ValidationFailed(
            f"the template needs values for {', '.join(missing)}",
            details={"field": "variables", "missing": missing},
        )
    return _VARIABLE.sub(lambda m: str(values[m.group(1)]), content)


def create_saved_reply(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    content: str,
    category: str | None = None,
    variables: Sequence[str] | None = None,
    user_id: str | None = None,
) -> SavedReply:
    """Save a template; declared `variables` must be exactly the ones its content uses."""
    name = " ".join(name.split())
    if not name or not content.strip():
        raise ValidationFailed(
            "a template needs a name and content", details={"field": "name" if not name else "content"}
        )
    used = variables_of(content)
    if variables is not None:
        declared = [v.strip().strip("{}").strip() for v in variables]
        bad = [v for v in declared if not _NAME.match(v)]
        if bad:
            raise ValidationFailed(
                f"invalid variable names: {', '.join(bad)}", details={"field": "variables"}
            )
        if set(declared) != set(used):
            raise ValidationFailed(
                "variables must list exactly the {{names}} the content uses",
                details={"field": "variables", "used": used, "declared": declared},
            )
    taken = session.exec(
        select(SavedReply.id).where(SavedReply.workspace_id == workspace_id, SavedReply.name == name)
    ).first()
    if taken is not None:
        raise Conflict(f"a saved reply named {name!r} exists already", details={"field": "name"})
    row = SavedReply(
        workspace_id=workspace_id,
        name=name,
        content=content.strip(),
        category=(category or "").strip() or None,
        variables=used,
        created_by=user_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        workspace_id=workspace_id,
        user_id=user_id,
        action="create",
        resource="saved_reply",
        resource_id=row.id,
        changes={"name": name, "category": row.category, "variables": used},
    )
    return row


def get_saved_reply(session: Session, *, workspace_id: str, reply_id: str) -> SavedReply:
    """One template of the workspace, or NotFound."""
    return get_owned(session, SavedReply, reply_id, workspace_id=workspace_id, label="saved reply")


def list_saved_replies(
    session: Session, *, workspace_id: str, category: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[SavedReply], int]:
    """A page of the workspace's templates (by name) and how many there are."""
    where = [SavedReply.workspace_id == workspace_id]
    if category is not None:
        where.append(SavedReply.category == category)
    total = int(session.exec(select(func.count()).select_from(SavedReply).where(*where)).one())
    rows = session.exec(
        select(SavedReply).where(*where).order_by(col(SavedReply.name)).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def render_for(
    session: Session,
    *,
    workspace_id: str,
    reply_id: str,
    conversation: Conversation,
    values: Mapping[str, str] | None = None,
) -> str:
    """A template filled in for a conversation: `name` and `platform` come from it, the rest from `values`."""
    row = get_saved_reply(session, workspace_id=workspace_id, reply_id=reply_id)
    text = render(
        row.content,
        {"name": conversation.participant_name, "platform": conversation.platform, **(values or {})},
    )
    row.usage_count += 1
    session.add(row)
    return text
