"""Tolerant body decoding shared by hooks: a hook must never raise on a garbled body."""

from __future__ import annotations

import json
from typing import Any

import httpx


def json_or_none(response: httpx.Response) -> Any:
    """The decoded JSON body, or None when the body is not JSON."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
