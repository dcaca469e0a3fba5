"""Encryption of secrets at rest: AES-256-GCM under a key ring that supports rotation.

A ciphertext reads ``v1:<kid>:<base64(nonce + ciphertext + tag)>``. The key id says which
key decrypts it, so keys can rotate: the first key of the ring encrypts, the others only
decrypt until ``needs_rotation`` finds nothing left under them. Associated data binds a
ciphertext to where it is stored (org, row, column): copied to another row it fails to
decrypt instead of handing one tenant's token to another.

Errors never include plaintext or key material; a ``Secret`` masks itself when printed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import DecryptionError, KeyRingError

__all__ = [
    "DecryptionError",
    "KeyRing",
    "KeyRingError",
    "Secret",
    "generate_key_item",
]

CIPHERTEXT_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class Secret:
    """A string that will not print itself: ``repr``/``str`` show ``****``; ``reveal()`` tells."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the plaintext; call it only where the value leaves for its destination."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    def __str__(self) -> str:
        return "****"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


def generate_key_item(kid: str) -> str:
    """Return a new key ring item ``"<kid>:<base64 of 32 random bytes>"``."""
    _check_kid(kid)
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"


class KeyRing:
    """Ordered AES-GCM keys: the first encrypts, every key decrypts what it encrypted."""

    def __init__(self, items: Iterable[str]) -> None:
        self._keys: dict[str, AESGCM] = {}
        for position, item in enumerate(items):
            kid, key = _parse_item(item, position)
            if kid in self._keys:
                raise KeyRingError(f"key ring item {position}: duplicate key id {kid!r}")
            self._keys[kid] = AESGCM(key)
        if not self._keys:
            raise KeyRingError("key ring is empty: give at least one 'kid:base64-key' item")
        self._primary_kid = next(iter(self._keys))

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        """Build a ring from items separated by commas or whitespace (as in one setting)."""
        return cls(item for item in re.split(r"[\s,]+", text) if item)

    @property
    def primary_kid(self) -> str:
        """Id of the key that encrypts."""
        return self._primary_kid

    @property
    def kids(self) -> tuple[str, ...]:
        """Ids of every key, newest first."""
        return tuple(self._keys)

    def encrypt(self, plaintext: str | Secret, *, associated_data: str) -> str:
        """Encrypt under the primary key, bound to ``associated_data``."""
        value = plaintext.reveal() if isinstance(plaintext, Secret) else plaintext
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._primary_kid].encrypt(
            nonce, value.encode("utf-8"), associated_data.encode("utf-8")
        )
        payload = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{CIPHERTEXT_VERSION}:{self._primary_kid}:{payload}"

    def decrypt(self, ciphertext: str, *, associated_data: str) -> Secret:
        """Decrypt a ciphertext made by ``encrypt`` with the same ``associated_data``."""
        kid, blob = _split(ciphertext)
        key = self._keys.get(kid)
        if key is None:
            raise DecryptionError(f"no key with id {kid!r} in the key ring")
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        try:
            plaintext = key.decrypt(nonce, sealed, associated_data.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext under key {kid!r} failed authentication "
                "(tampered, or stored under another row or column)"
            ) from None
        return Secret(plaintext.decode("utf-8"))

    def needs_rotation(self, ciphertext: str) -> bool:
        """True when ``ciphertext`` is not under the primary key and should be re-encrypted."""
        kid, _ = _split(ciphertext)
        return kid != self._primary_kid

    def reencrypt(self, ciphertext: str, *, associated_data: str) -> str:
        """Decrypt and encrypt again under the primary key."""
        return self.encrypt(
            self.decrypt(ciphertext, associated_data=associated_data),
            associated_data=associated_data,
        )

    def __repr__(self) -> str:
        return f"KeyRing(kids={list(self._keys)!r})"


def _check_kid(kid: str) -> None:
    if not KID_PATTERN.match(kid):
        raise KeyRingError("key id must be 1-32 characters of letters, digits, '_', '.', '-'")


def _parse_item(item: str, position: int) -> tuple[str, bytes]:
    kid, separator, encoded = item.strip().partition(":")
    if not separator:
        raise KeyRingError(f"key ring item {position}: expected 'kid:base64-key'")
    try:
        _check_kid(kid)
    except KeyRingError as error:
        raise KeyRingError(f"key ring item {position}: {error}") from None
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyRingError(f"key ring item {position} ({kid!r}): key is not base64") from None
    if len(key) != KEY_BYTES:
        raise KeyRingError(
            f"key ring item {position} ({kid!r}): key must be {KEY_BYTES} bytes, got {len(key)}"
        )
    return kid, key


def _split(ciphertext: str) -> tuple[str, bytes]:
    parts = ciphertext.split(":")
    if len(parts) != 3 or parts[0] != CIPHERTEXT_VERSION:
        raise DecryptionError(f"not a {CIPHERTEXT_VERSION} ciphertext")
    _, kid, payload = parts
    try:
        blob = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"ciphertext under key {kid!r} is not valid base64") from None
    if len(blob) <= NONCE_BYTES:
        raise DecryptionError(f"ciphertext under key {kid!r} is truncated")
    return kid, blob
