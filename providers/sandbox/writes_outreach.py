"""Sandbox write routes of the outreach providers: email, social, AI and automation hooks
(Messenger, OpenAI, Mailgun, ActiveCampaign, X, Facebook Pages, Constant Contact, Zoho CRM,
Zapier, Make, n8n). The store and the shared handlers are in :mod:`.writes`."""

from __future__ import annotations

import re
from typing import Any

import httpx

from providers.sandbox.profile import Call
from providers.sandbox.writes import WriteRoute, WriteStore, body_of, recorded


def _chat_completion(obj: dict[str, Any]) -> dict[str, Any]:
    reply = {"role": "assistant", "content": f"sandbox reply {obj['id']}"}
    choice = {"index": 0, "message": reply, "finish_reason": "stop"}
    return {"id": f"chatcmpl-{obj['id']}", "object": "chat.completion", "choices": [choice]}


def _zoho_created(obj: dict[str, Any]) -> dict[str, Any]:
    details = {"id": obj["id"], "Created_Time": "2026-12-01T15:00:00+00:00"}
    result = {"code": "SUCCESS", "details": details, "message": "record added", "status": "success"}
    return {"data": [result]}


def _zap(obj: dict[str, Any]) -> dict[str, Any]:
    return {"attempt": obj["id"], "id": obj["id"], "request_id": obj["id"], "status": "success"}


def _make_hook(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    store.add("make", "trigger", {"id": str(store.next_id()), **body_of(call)})
    return httpx.Response(200, text="Accepted")


_P = re.compile
OUTREACH_ROUTES: dict[str, list[WriteRoute]] = {
    "facebook_messenger": [
        WriteRoute(
            "POST",
            _P(r"/v[0-9.]+/(?P<page>[0-9]+)/messages"),
            recorded(
                "facebook_messenger",
                "message",
                200,
                lambda o: {"recipient_id": o["recipient"]["id"], "message_id": f"m_{o['id']}"},
            ),
        ),
    ],
    "openai": [
        WriteRoute(
            "POST",
            _P(r"/v1/chat/completions"),
            recorded("openai", "completion", 200, _chat_completion),
        )
    ],
    "mailgun": [
        WriteRoute(
            "POST",
            _P(r"/v3/(?P<domain>[a-z0-9.-]+)/messages"),
            recorded(
                "mailgun",
                "message",
                200,
                lambda o: {"id": f"<{o['id']}@{o['domain']}>", "message": "Queued. Thank you."},
            ),
        )
    ],
    "zapier": [WriteRoute("POST", _P(r"/?"), recorded("zapier", "trigger", 200, _zap))],
    "make": [WriteRoute("POST", _P(r"/?"), _make_hook)],
    "n8n": [
        WriteRoute(
            "POST",
            _P(r"/webhook/[A-Za-z0-9_-]+"),
            recorded("n8n", "trigger", 200, lambda o: {"message": "Workflow was started"}),
        )
    ],
    "twitter": [
        WriteRoute(
            "POST",
            _P(r"/2/tweets"),
            recorded(
                "twitter", "post", 201, lambda o: {"data": {"id": o["id"], "text": o["text"]}}
            ),
        )
    ],
    "facebook": [
        WriteRoute(
            "POST",
            _P(r"/v[0-9.]+/(?P<page>[0-9]+)/feed"),
            recorded("facebook", "post", 200, lambda o: {"id": f"{o['page']}_{o['id']}"}),
        )
    ],
    "constant_contact": [
        WriteRoute(
            "POST",
            _P(r"/v3/contacts/sign_up_form"),
            recorded(
                "constant_contact",
                "contact",
                201,
                lambda o: {"contact_id": o["id"], "action": "created"},
            ),
        )
    ],
    "zoho_crm": [
        WriteRoute(
            "POST",
            _P(r"/crm/v[0-9]+/Leads"),
            recorded("zoho_crm", "lead", 201, _zoho_created),
        )
    ],
    "activecampaign": [
        WriteRoute(
            "POST",
            _P(r"/api/3/contact/sync"),
            recorded(
                "activecampaign",
                "contact",
                201,
                lambda o: {"contact": {**o["contact"], "id": o["id"]}},
            ),
        )
    ],
}
