"""Why a connection request was refused: the field at fault and the HTTP status it maps to."""

from __future__ import annotations


class ConnectError(Exception):
    """A refused connect, callback, check or disconnect; the message names the field."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


def not_found(what: str, ident: str) -> ConnectError:
    return ConnectError(what, f"no {what} {ident!r} in this org", status=404)
