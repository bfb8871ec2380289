"""Field encryption at rest: AES-256-GCM with a key-id prefix, so keys can rotate.

Stored form: `v1:<key id>:<base64 nonce + ciphertext + tag>`. The newest key encrypts; any known
key decrypts. Keys come from `BRANDCREW_ENCRYPTION_KEYS` (`kid:base64key,...`, newest first) or,
on the embedded default, from a key file created in the data directory with mode 0600.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from brandcrew.errors import ConfigError

_PREFIX = "v1"


class FieldCipher:
    """Encrypts and decrypts short secrets such as OAuth tokens."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ConfigError("no encryption key configured")
        for kid, key in keys:
            if len(key) != 32:
                raise ConfigError(f"encryption key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            if ":" in kid:
                raise ConfigError(f"encryption key id {kid!r} may not contain ':'")
        self._current = keys[0]
        self._keys = dict(keys)

    @property
    def current_key_id(self) -> str:
        """The id of the key new values are encrypted with."""
        return self._current[0]

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        """Encrypt `plaintext`; `context` (e.g. the account id) is authenticated, not stored."""
        kid, key = self._current
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode() or None)
        return f"{_PREFIX}:{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        """Decrypt a value made by `encrypt` with any known key."""
        try:
            version, kid, blob = token.split(":", 2)
        except ValueError:
            raise ValueError("not an encrypted field value") from None
        if version != _PREFIX or kid not in self._keys:
            raise ValueError(f"unknown encryption key id {kid!r}")
        raw = base64.urlsafe_b64decode(blob)
        return AESGCM(self._keys[kid]).decrypt(raw[:12], raw[12:], context.encode() or None).decode()

    def needs_rotation(self, token: str) -> bool:
        """True when `token` was encrypted with an older key."""
        return token.split(":", 2)[1] != self.current_key_id


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """Parse `kid:base64key,kid2:base64key` into (id, key) pairs, newest first."""
    keys = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, _, encoded = part.partition(":")
        if not encoded:
            raise ConfigError("BRANDCREW_ENCRYPTION_KEYS entries look like 'kid:base64key'")
        keys.append((kid, base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))
    return keys


def load_cipher(data_dir: Path) -> FieldCipher:
    """The cipher from the environment, or from (a new) key file under `data_dir`."""
    spec = os.environ.get("BRANDCREW_ENCRYPTION_KEYS")
    if spec:
        return FieldCipher(parse_keys(spec))
    path = data_dir / "encryption-keys.json"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        kid = "k" + secrets.token_hex(4)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"keys": [[kid, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()]]}, handle)
    stored = json.loads(path.read_text())["keys"]
    return FieldCipher([(kid, base64.urlsafe_b64decode(key)) for kid, key in stored])
