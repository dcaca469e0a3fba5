"""Webhook-shaped actions: Custom Webhook (any request to the connection's host) and the
automation platforms' catch hooks (Zapier, Make, n8n), whose URL the connection names.

The body is whatever the route's mapping renders (a JSON template); the connection names
the host, so a job cannot steer the request elsewhere. Credential-like headers are refused:
secrets belong on the connection, never in a job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


class HookPayload(ActionInput):
    """The JSON object an automation platform's catch hook receives as the trigger's data."""

    data: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class HookTrigger(Action):
    """POST the data to the connection's hook URL (the catalog's base URL, built from the
    hook's identifiers); the output is the status and the run id where the platform gives
    one (Zapier answers ``{"id", "status"}``, Make plain ``Accepted``)."""

    provider: str = ""
    name: str = "trigger"
    input: type[ActionInput] = HookPayload
    description: str = ""

    def calls(self, params: HookPayload, env: ActionEnv) -> Sequence[HttpCall]:
        return [HttpCall("POST", "", json=params.data)]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        response = responses[-1].response
        body: Any = None
        if "json" in response.headers.get("content-type", ""):
            body = response.json()
        run_id = body.get("id") if isinstance(body, dict) else None
        return {"status": response.status_code, "id": run_id}


ACTIONS: list[Action] = [
    CustomWebhook(),
    HookTrigger(
        provider="zapier",
        description="Start a Zap through its catch hook "
        "(https://help.zapier.com/hc/en-us/articles/8496288690317).",
    ),
    HookTrigger(
        provider="make",
        description="Start a Make scenario through its custom webhook "
        "(https://www.make.com/en/help/tools/webhooks).",
    ),
    HookTrigger(
        provider="n8n",
        description="Start an n8n workflow through its Webhook node "
        "(https://docs.n8n.io/integrations/builtin/core-nodes/n8n-nodes-base.webhook/).",
    ),
]
