"""Authorize.Net takes credentials inside the JSON body, not in a header.

The basic strategy has already put them in ``Authorization``; this hook moves them into
``merchantAuthentication`` as the first key of the request object (the API checks order).
"""

from __future__ import annotations

import base64
import json

import httpx


def prepare_request(request: httpx.Request) -> None:
    """Move basic-auth credentials into the body's ``merchantAuthentication``."""
    header = request.headers.pop("Authorization", None)
    if header is None or not header.startswith("Basic "):
        return
    login, _, key = base64.b64decode(header[6:]).decode().partition(":")
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return
    if not isinstance(body, dict) or len(body) != 1:
        return
    ((operation, payload),) = body.items()
    if not isinstance(payload, dict):
        return
    auth = {"merchantAuthentication": {"name": login, "transactionKey": key}}
    content = json.dumps({operation: {**auth, **payload}}).encode()
    request.headers["Content-Length"] = str(len(content))
    request.stream = httpx.ByteStream(content)
    request._content = content
