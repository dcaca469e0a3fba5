"""Named record transforms a sync definition may reference (``transform: name``).

A transform gets one provider record (already validated to be an object) and returns what
is stored. Keep them small and pure; they exist for the few providers whose records carry
noise that would otherwise change the content hash on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Transform = Callable[[dict[str, Any]], dict[str, Any]]


def drop_salesforce_attributes(record: dict[str, Any]) -> dict[str, Any]:
    """Salesforce's ``attributes`` (type and a per-request URL) are not record data."""
    return {k: v for k, v in record.items() if k != "attributes"}


TRANSFORMS: dict[str, Transform] = {
    "drop_salesforce_attributes": drop_salesforce_attributes,
}


def transform_named(name: str | None) -> Transform | None:
    """The transform called ``name``; unknown names raise ``LookupError`` naming them."""
    if name is None:
        return None
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise LookupError(f"no sync transform {name!r}") from None
