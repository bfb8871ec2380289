"""The media library: files stored locally (content-addressed) and described in `media_assets`."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from sqlmodel import Session, col, select

from brandcrew.services import audit
from brandcrew.services.errors import NotFound, ValidationFailed
from brandcrew.store.tables import MediaAsset

_KINDS = {"image/gif": "gif"}
MAX_BYTES = 512 * 1024 * 1024


def media_kind(mime: str) -> str:
    """image, video or gif for a MIME type (anything else is refused)."""
    if mime in _KINDS:
        return _KINDS[mime]
    major = mime.split("/", 1)[0]
    if major in ("image", "video"):
        return major
    raise ValidationFailed(
        f"unsupported media type {mime!r}; upload images, GIFs or videos", details={"field": "file"}
    )


class MediaStore:
    """Stores uploads under a root directory, one file per content hash (uploading twice stores once)."""

    def __init__(self, root: Path, *, public_base_url: str | None = None) -> None:
        self.root = root
        self.public_base_url = public_base_url
        """Where platforms can fetch files (Instagram needs a public URL); local `file://` otherwise."""

    def save(
        self,
        session: Session,
        *,
        workspace_id: str,
        filename: str,
        data: bytes,
        mime_type: str | None = None,
        folder: str | None = None,
        tags: list[str] | None = None,
        width: int | None = None,
        height: int | None = None,
        duration_s: float | None = None,
        user_id: str | None = None,
    ) -> MediaAsset:
        """Store a file and its description; the same bytes in the same workspace are one asset."""
        if not data:
            raise ValidationFailed("the file is empty", details={"field": "file"})
        if len(data) > MAX_BYTES:
            raise ValidationFailed(f"the file is larger than {MAX_BYTES} bytes", details={"field": "file"})
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        kind = media_kind(mime)
        digest = hashlib.sha256(data).hexdigest()
        existing = session.exec(
            select(MediaAsset).where(MediaAsset.workspace_id == workspace_id, MediaAsset.sha256 == digest)
        ).first()
        if existing is not None:
            return existing
        suffix = Path(filename).suffix or (mimetypes.guess_extension(mime) or "")
        path = self.root / workspace_id / f"{digest}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a crash never leaves half a file under the final name
        url = (
            f"{self.public_base_url.rstrip('/')}/{workspace_id}/{path.name}"
            if self.public_base_url
            else path.resolve().as_uri()
        )
        asset = MediaAsset(
            workspace_id=workspace_id,
            type=kind,
            url=url,
            filename=Path(filename).name,
            mime_type=mime,
            size=len(data),
            sha256=digest,
            width=width,
            height=height,
            duration_s=duration_s,
            tags=list(tags or []),
            folder=folder,
        )
        session.add(asset)
        session.flush()
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="upload",
            resource="media",
            resource_id=asset.id,
            changes={"filename": asset.filename, "size": asset.size},
        )
        return asset

    def list(self, session: Session, *, workspace_id: str, folder: str | None = None) -> list[MediaAsset]:
        """The workspace's media, newest first."""
        stmt = select(MediaAsset).where(MediaAsset.workspace_id == workspace_id)
        if folder is not None:
            stmt = stmt.where(MediaAsset.folder == folder)
        return list(session.exec(stmt.order_by(col(MediaAsset.created_at).desc())).all())

    def delete(
        self, session: Session, *, workspace_id: str, asset_id: str, user_id: str | None = None
    ) -> None:
        """Remove an asset's record (the file stays if another workspace shares the bytes)."""
        asset = session.get(MediaAsset, asset_id)
        if asset is None or asset.workspace_id != workspace_id:
            raise NotFound(f"media asset {asset_id} not found")
        session.delete(asset)
        session.flush()
        audit.record(
            session,
            workspace_id=workspace_id,
            user_id=user_id,
            action="delete",
            resource="media",
            resource_id=asset_id,
        )
