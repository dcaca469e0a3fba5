"""The Custom Webhook action: any method, headers and body template to the connection's host.

The body is whatever the route's mapping renders (a JSON template); the connection names
the host, so a job cannot steer the request elsewhere. Credential-like headers are refused:
secrets belong on the connection, never in a job.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator

from providers.client import ProviderResponse
from workers.actions.spec import Action, ActionEnv, ActionInput, HttpCall

REFUSED_HEADERS = frozenset(
    {"authorization", "cookie", "host", "content-length", "transfer-encoding", "connection"}
)


class WebhookRequest(ActionInput):
    """The request: method, path on the connection's host, headers, JSON body."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(default="/", pattern=r"^/[^\s]*$", max_length=2_000)
    headers: dict[str, str] = Field(default_factory=dict, max_length=30)
    body: Any = None

    @field_validator("headers")
    @classmethod
    def _safe_headers(cls, value: dict[str, str]) -> dict[str, str]:
        refused = sorted(k for k in value if k.lower() in REFUSED_HEADERS)
        if refused:
            raise ValueError(f"header(s) {', '.join(refused)} cannot be set here")
        return value


class CustomWebhook(Action):
    """Send the rendered request; the output is the receiver's status."""

    provider = "custom_webhook"
    name = "send"
    input = WebhookRequest
    description = "Send an HTTP request with a templated body to the connection's host."

    def calls(self, params: WebhookRequest, env: ActionEnv) -> Sequence[HttpCall]:
        headers = {**params.headers, "Idempotency-Key": env.idempotency_key}
        return [HttpCall(params.method, params.path, json=params.body, headers=headers)]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        return {"status": responses[-1].status_code}


ACTIONS: list[Action] = [CustomWebhook()]
