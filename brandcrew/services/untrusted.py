"""Text from outside the brand (mentions, DMs, comments, web pages, product descriptions) that a run
has shown to a model, remembered as fingerprints so effectful tools can tell when their content was
copied from it.

A fingerprint set holds hashes of every 5-word window of the text and of every link, domain, handle
and e-mail address in it, computed on a normal form that defeats the usual disguises: Unicode
compatibility forms and look-alike letters folded, zero-width and combining characters dropped, case
folded; base64 and percent-encoded runs are decoded and fingerprinted too. An effectful call whose text
shares one window or one link with what the run has read is "tainted".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from urllib.parse import unquote

from sqlmodel import Session, col, select

from brandcrew.store.tables import UntrustedSeen

WINDOW = 5
_MAX_FINGERPRINTS = 4000
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
# Cyrillic and Greek letters that look like Latin ones (the common homoglyph substitutions).
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁԍһԛԝАВЕКМНОРСТХІЈЅαβεικνορτυχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdghqwABEKMHOPCTXIJSabeiknoptuxABEHIKMNOPTYX",
)
_WORD = re.compile(r"\w+", re.UNICODE)
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+\b|\b(?:[\w-]+\.)+[a-z]{2,24}\b|@\w{2,}", re.IGNORECASE
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def normalize(text: str) -> str:
    """The text with look-alike, zero-width and combining characters folded away, case-folded."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).translate(_CONFUSABLES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=7).digest(), "big")


def _decoded_variants(text: str) -> list[str]:
    out = []
    if "%" in text:
        out.append(unquote(text))
    for blob in _BASE64.findall(text):
        try:
            decoded = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if decoded.isprintable() or "\n" in decoded:
            out.append(decoded)
    return out


def fingerprint(text: str) -> set[int]:
    """Hashes of the text's 5-word windows and links, on the normal form and on decoded runs."""
    found: set[int] = set()
    for variant in (text, *_decoded_variants(text)):
        norm = normalize(variant)
        for link in _LINK.findall(norm):
            bare = re.sub(r"^https?://", "", link).removeprefix("www.").rstrip(".,;:!?)]}'\"/")
            found.add(_hash("link:" + bare))
        words = _WORD.findall(norm)
        for i in range(max(0, len(words) - WINDOW + 1)):
            found.add(_hash(" ".join(words[i : i + WINDOW])))
    return found


def record_seen(session: Session, *, workspace_id: str, thread_id: str, source: str, text: str) -> int:
    """Remember what a run's model was shown; returns how many fingerprints were stored."""
    prints = sorted(fingerprint(text))[:_MAX_FINGERPRINTS]
    if prints:
        session.add(
            UntrustedSeen(workspace_id=workspace_id, thread_id=thread_id, source=source, fingerprints=prints)
        )
    return len(prints)


def seen(session: Session, *, workspace_id: str, thread_id: str) -> set[int]:
    """Every fingerprint of outside text shown to the models of a thread."""
    rows = session.exec(
        select(UntrustedSeen.fingerprints).where(
            UntrustedSeen.workspace_id == workspace_id, col(UntrustedSeen.thread_id) == thread_id
        )
    )
    out: set[int] = set()
    for prints in rows:
        out.update(int(p) for p in prints)
    return out


def copied_from(text: str, fingerprints: set[int]) -> bool:
    """True when `text` shares a 5-word window or a link with text whose fingerprints are given."""
    return bool(fingerprints) and not fingerprint(text).isdisjoint(fingerprints)
