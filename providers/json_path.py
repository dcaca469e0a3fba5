"""One way to read a value at a dotted path in decoded JSON (catalog paths, action outputs,
inbound webhook fields), so every reader agrees on dotted keys and list indexes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dig(data: Any, path: str) -> Any:
    """``data`` followed along a dotted path, or None when a step is missing.

    A number steps into a list (``entry.0.id``); keys that contain dots (``@odata.nextLink``)
    are tried whole before being split; an empty path is ``data`` itself.
    """
    if not path:
        return data
    if isinstance(data, list):
        head, _, rest = path.partition(".")
        if head.isdigit() and int(head) < len(data):
            return dig(data[int(head)], rest)
        return None
    if not isinstance(data, Mapping):
        return None
    if path in data:
        return data[path]
    head, sep, rest = path.partition(".")
    while sep:
        if head in data:
            found = dig(data[head], rest)
            if found is not None:
                return found
        part, sep, rest = rest.partition(".")
        head = f"{head}.{part}"
    return None
