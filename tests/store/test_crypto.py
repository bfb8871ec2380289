"""OAuth tokens are encrypted at rest with AES-256-GCM, tagged with a key id so keys can rotate."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from brandcrew.errors import ConfigError
from brandcrew.store.crypto import FieldCipher, load_cipher, parse_keys


def key(byte: bytes) -> bytes:
    return byte * 32


def test_round_trip_is_randomised_and_bound_to_its_context() -> None:
    cipher = FieldCipher([("k1", key(b"a"))])
    one, two = (
        cipher.encrypt("secret-token", context="acct-1"),
        cipher.encrypt("secret-token", context="acct-1"),
    )
    assert one != two and one.startswith("v1:k1:") and "secret" not in one
    assert cipher.decrypt(one, context="acct-1") == "secret-token"
    with pytest.raises(InvalidTag):
        cipher.decrypt(one, context="acct-2")  # a token copied onto another account does not decrypt


def test_rotation_decrypts_old_values_and_encrypts_with_the_newest_key() -> None:
    old = FieldCipher([("k1", key(b"a"))])
    stored = old.encrypt("t")
    rotated = FieldCipher([("k2", key(b"b")), ("k1", key(b"a"))])
    assert rotated.decrypt(stored) == "t" and rotated.needs_rotation(stored)
    assert rotated.encrypt("t").startswith("v1:k2:")
    with pytest.raises(ValueError, match="unknown encryption key id"):
        FieldCipher([("k3", key(b"c"))]).decrypt(stored)


@pytest.mark.parametrize(
    ("keys", "message"),
    [([], "no encryption key"), ([("k", b"short")], "32 bytes"), ([("a:b", key(b"a"))], "may not contain")],
)
def test_bad_keys_are_refused_clearly(keys: list[tuple[str, bytes]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FieldCipher(keys)


def test_keys_from_environment_or_a_private_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = base64.urlsafe_b64encode(key(b"z")).decode().rstrip("=")
    monkeypatch.setenv("BRANDCREW_ENCRYPTION_KEYS", f"prod2:{encoded}")
    assert load_cipher(tmp_path).current_key_id == "prod2"
    assert parse_keys(f"a:{encoded}, b:{encoded}")[1][0] == "b"
    with pytest.raises(ConfigError):
        parse_keys("no-colon-here")
    monkeypatch.delenv("BRANDCREW_ENCRYPTION_KEYS")
    first = load_cipher(tmp_path / "data")
    again = load_cipher(tmp_path / "data")
    assert first.current_key_id == again.current_key_id
    assert again.decrypt(first.encrypt("x")) == "x"
    mode = os.stat(tmp_path / "data" / "encryption-keys.json").st_mode
    assert stat.S_IMODE(mode) == 0o600
