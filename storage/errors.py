"""Errors raised by the storage package, so callers can map them once at their boundary.

    StorageError
    ├── NotFoundError        a row does not exist (or belongs to another org)
    │   └── AmbiguousError      a reference fits more than one row (an id and another's name)
    ├── ConflictError        a unique rule would be broken (duplicate name, ...)
    │   └── StaleVersionError   an optimistic version check lost a race
    ├── InvalidFieldError    a value is malformed; ``field`` names it
    └── CryptoError
        ├── KeyRingError     the key ring configuration is unusable
        └── DecryptionError  a ciphertext cannot be decrypted

Messages name the entity and field; they never contain secrets or key material.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by ``storage``."""


class NotFoundError(StorageError):
    """The row does not exist in the caller's scope.

    A row of another org is reported exactly like a missing one, so scoping leaks nothing.
    """

    def __init__(self, entity: str, key: str) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key!r} not found")


class AmbiguousError(NotFoundError):
    """A reference names no single row: callers that report "not found" report this too."""

    def __init__(self, entity: str, key: str, detail: str) -> None:
        super().__init__(entity, key)
        self.args = (f"{entity} {key!r} is ambiguous: {detail}",)


class ConflictError(StorageError):
    """Writing would break a uniqueness rule."""

    def __init__(self, entity: str, field: str, value: str, *, message: str | None = None) -> None:
        self.entity = entity
        self.field = field
        self.value = value
        super().__init__(message or f"{entity} with {field} {value!r} already exists")


class StaleVersionError(ConflictError):
    """The row changed since it was read: another writer won the race."""

    def __init__(self, entity: str, key: str, expected_version: int) -> None:
        self.key = key
        self.expected_version = expected_version
        super().__init__(
            entity,
            "version",
            str(expected_version),
            message=f"{entity} {key!r} is no longer at version {expected_version}",
        )


class InvalidFieldError(StorageError, ValueError):
    """A value given to a repository is malformed."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class CryptoError(StorageError):
    """Base class of encryption errors."""


class KeyRingError(CryptoError):
    """The key ring cannot be built from the configured items."""


class DecryptionError(CryptoError):
    """A ciphertext is malformed, uses an unknown key, or fails authentication."""
