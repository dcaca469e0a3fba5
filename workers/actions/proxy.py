"""The generic ``proxy`` action as a route step: one request to any provider, for what no
named action models, with the same credential, limiter, retries and idempotency record.

(Direct ``proxy`` jobs keep the lighter built-in in :mod:`workers.handlers.action`, which
records nothing: a GET needs no idempotency record.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from providers.client import ProviderResponse
from workers.actions.spec import Action, ActionEnv, ActionInput, HttpCall

MAX_KEPT_BODY = 16 * 1024


class ProxyRequest(ActionInput):
    """A path under the provider's base URL, with query and JSON body."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/[^\s]*$", max_length=2_000)
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class Proxy(Action):
    """Any provider (``provider = "*"``); the output keeps small JSON bodies for later steps."""

    provider = "*"
    name = "proxy"
    input = ProxyRequest
    description = "One authenticated request to the provider (method, path, query, body)."

    def calls(self, params: ProxyRequest, env: ActionEnv) -> Sequence[HttpCall]:
        query = params.query or None
        return [HttpCall(params.method, params.path, json=params.body, params=query)]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        response = responses[-1]
        small = 0 < len(response.response.content) <= MAX_KEPT_BODY
        return {"status": response.status_code, "body": response.json() if small else None}


GENERIC: list[Action] = [Proxy()]
