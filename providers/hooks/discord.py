"""Discord incoming webhooks take their secret in the URL path, not in a header.

A webhook connection stores the webhook's token as its API key, so it is encrypted at rest
and never travels in a job. An action addresses ``/webhooks/<id>/__webhook_token__``; here,
after the auth flow has put the credential in the ``Authorization`` header, the marker is
replaced by it and the header dropped (webhook executions take no Authorization). Only that
exact path shape is rewritten, and error messages are built before auth, so the token shows
up in neither.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx

WEBHOOK_TOKEN_MARKER = "__webhook_token__"  # noqa: S105 - a placeholder, not a secret
_WEBHOOK_PATH = re.compile(r"^(?P<head>.*/webhooks/[0-9]{15,21}/)" + WEBHOOK_TOKEN_MARKER + "$")


def prepare_request(request: httpx.Request) -> None:
    """Move the credential from the Authorization header into a webhook path."""
    match = _WEBHOOK_PATH.match(request.url.path)
    if match is None:
        return
    token = request.headers.pop("Authorization", "").removeprefix("Bot ")
    request.url = request.url.copy_with(path=match["head"] + quote(token, safe=""))
