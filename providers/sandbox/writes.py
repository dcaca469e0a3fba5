"""Write endpoints of the sandboxed providers: what actions create, recorded for tests.

Each provider's write routes live here as one table (method, path pattern, handler), served
before the profile's read routes, so the profiles that another capability extends with
list datasets stay untouched. Every created object is recorded per (provider, kind) —
``writes.created("slack", "message")`` — so a test can assert "exactly one message".

Where the real provider deduplicates, the fake does too: HubSpot batch upserts and Klaviyo
profile imports match by email, Mailchimp members by subscriber hash, and Stripe replays
the first response for a repeated ``Idempotency-Key`` (with ``Idempotent-Replayed: true``).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx

from providers.sandbox.profile import Call, json_response

Handler = Callable[["WriteStore", Call, "re.Match[str]"], httpx.Response]


@dataclass(frozen=True)
class WriteRoute:
    """One write endpoint of one provider."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def body_of(call: Call) -> dict[str, Any]:
    """The request body as a dict: JSON, or form fields (``a[b]=c`` kept flat, a repeated key
    as a list)."""
    raw = call.request.content
    if not raw:
        return {}
    if "json" in call.request.headers.get("content-type", ""):
        decoded = json.loads(raw)
        return decoded if isinstance(decoded, dict) else {"_": decoded}
    fields: dict[str, Any] = {}
    for name, value in parse_qsl(raw.decode()):
        if name in fields:  # a repeated key (Twilio's MediaUrl) becomes a list
            earlier = fields[name]
            fields[name] = [*earlier, value] if isinstance(earlier, list) else [earlier, value]
        else:
            fields[name] = value
    return fields


class WriteStore:
    """Objects created through the sandbox, per provider and kind. Thread-safe."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._idempotent: dict[tuple[str, str], httpx.Response] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def created(self, provider: str, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` created at ``provider``, oldest first."""
        with self._lock:
            return [dict(o) for o in self._objects.get((provider, kind), [])]

    def counts(self) -> dict[str, int]:
        """``{"provider.kind": n}`` for everything created (the ``/_sandbox/writes`` view)."""
        with self._lock:
            return {f"{p}.{k}": len(v) for (p, k), v in sorted(self._objects.items())}

    def next_id(self) -> int:
        return next(self._ids)

    def add(self, provider: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._objects.setdefault((provider, kind), []).append(obj)
        return obj

    def upsert(
        self, provider: str, kind: str, key: str, value: Any, fields: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Update the object whose ``key`` equals ``value``, or create it; (obj, created)."""
        with self._lock:
            objects = self._objects.setdefault((provider, kind), [])
            for obj in objects:
                if obj.get(key) == value:
                    obj.update(fields)
                    return obj, False
            obj = {"id": str(next(self._ids)), key: value, **fields}
            objects.append(obj)
            return obj, True

    def serve(self, provider: str, call: Call) -> httpx.Response | None:
        """The response of a write route matching the call, or None to fall through."""
        for route in _routes_of(provider):
            match = route.pattern.fullmatch(call.path)
            if match and call.request.method == route.method:
                return self._idempotently(provider, call, route.handler, match)
        return None

    def _idempotently(
        self, provider: str, call: Call, handler: Handler, match: re.Match[str]
    ) -> httpx.Response:
        key = call.request.headers.get("Idempotency-Key")
        if key is None or provider != "stripe":
            return handler(self, call, match)
        with self._lock:
            seen = self._idempotent.get((provider, key))
        if seen is not None:
            return httpx.Response(
                seen.status_code,
                content=seen.content,
                headers={**seen.headers, "Idempotent-Replayed": "true"},
            )
        response = handler(self, call, match)
        with self._lock:
            self._idempotent[(provider, key)] = response
        return response


def recorded(
    provider: str, kind: str, status: int = 200, shape: Callable[[dict[str, Any]], Any] = dict
) -> Handler:
    """A handler that records the body with a new id and answers ``shape(obj)``."""

    def handler(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
        obj = {"id": str(store.next_id()), **match.groupdict(), **body_of(call)}
        store.add(provider, kind, obj)
        return json_response(status, shape(obj))

    return handler


def _hubspot_upsert(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    results = []
    for item in body_of(call).get("inputs", []):
        email = str(item.get("id", "")).lower()
        obj, created = store.upsert("hubspot", "contact", "email", email, item["properties"])
        results.append({"id": obj["id"], "properties": obj, "new": created})
    return json_response(200, {"status": "COMPLETE", "results": results})


def _klaviyo_import(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    attributes = dict(body_of(call).get("data", {}).get("attributes", {}))
    email = str(attributes.pop("email", "")).lower()
    obj, created = store.upsert("klaviyo", "profile", "email", email, attributes)
    data = {"type": "profile", "id": obj["id"], "attributes": obj}
    return json_response(201 if created else 200, {"data": data})


def _mailchimp_member(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    fields = body_of(call)
    obj, _ = store.upsert("mailchimp", "member", "id", match["hash"], fields)
    return json_response(200, {**obj, "list_id": match["list"], "status": "subscribed"})


def _mailchimp_tags(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    tags = body_of(call).get("tags", [])
    store.upsert("mailchimp", "member", "id", match["hash"], {"tags": tags})
    return httpx.Response(204)


def _sendgrid_send(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    obj = store.add("sendgrid", "email", {"id": f"sg{store.next_id()}", **body_of(call)})
    return httpx.Response(202, headers={"X-Message-Id": obj["id"]})


def _telegram_send(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    obj = store.add("telegram", "message", {"id": store.next_id(), **body_of(call)})
    result = {"message_id": obj["id"], "chat": {"id": obj.get("chat_id")}, "text": obj.get("text")}
    return json_response(200, {"ok": True, "result": result})


def _slack_post(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    obj = store.add("slack", "message", {"id": store.next_id(), **body_of(call)})
    ts = f"1700000000.{obj['id']:06d}"
    return json_response(200, {"ok": True, "channel": obj.get("channel"), "ts": ts})


def _discord_webhook(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    fields = {"id": str(store.next_id()), "webhook_id": match["webhook_id"], **body_of(call)}
    obj = store.add("discord", "webhook_message", fields)
    if call.params.get("wait") != "true":
        return httpx.Response(204)
    return json_response(200, {**obj, "channel_id": "197038439483310001"})


def _sheets_append(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    rows = body_of(call).get("values", [])
    for row in rows:
        store.add("google_sheets", "row", {"spreadsheet": match["sheet"], "values": row})
    count = len(store.created("google_sheets", "row"))
    updated = f"{match['range']}!A{count}"
    updates = {"spreadsheetId": match["sheet"], "updatedRange": updated, "updatedRows": len(rows)}
    return json_response(200, {"spreadsheetId": match["sheet"], "updates": updates})


def _custom_webhook(store: WriteStore, call: Call, match: re.Match[str]) -> httpx.Response:
    raw = call.request.content.decode(errors="replace")
    store.add("custom_webhook", "request", {"method": call.request.method, "body": raw})
    return json_response(200, {"received": True})


def _stripe_object(kind: str, prefix: str) -> Handler:
    def shape(obj: dict[str, Any]) -> dict[str, Any]:
        return {**obj, "id": f"{prefix}_{obj['id']}", "object": kind}

    return recorded("stripe", kind, 200, shape)


_P = re.compile
WRITE_ROUTES: dict[str, list[WriteRoute]] = {
    "hubspot": [
        WriteRoute("POST", _P(r"/crm/v3/objects/contacts/batch/upsert"), _hubspot_upsert),
        WriteRoute("POST", _P(r"/crm/v3/objects/deals"), recorded("hubspot", "deal", 201)),
        WriteRoute("POST", _P(r"/crm/v3/objects/notes"), recorded("hubspot", "note", 201)),
    ],
    "salesforce": [
        WriteRoute(
            "POST",
            _P(r"/services/data/v[0-9.]+/sobjects/(?P<sobject>Lead|Contact)"),
            recorded("salesforce", "record", 201, lambda o: {"id": o["id"], "success": True}),
        ),
    ],
    "klaviyo": [WriteRoute("POST", _P(r"/api/profile-import/"), _klaviyo_import)],
    "slack": [WriteRoute("POST", _P(r"/api/chat.postMessage"), _slack_post)],
    "twilio": [
        WriteRoute(
            "POST",
            _P(r"/Messages.json"),
            recorded("twilio", "message", 201, lambda o: {**o, "sid": f"SM{o['id']}"}),
        ),
    ],
    "discord": [
        WriteRoute(
            "POST",
            _P(r"/api/v10/channels/(?P<channel_id>[0-9]+)/messages"),
            recorded("discord", "message"),
        ),
        WriteRoute("POST", _P(r"/api/v10/webhooks/(?P<webhook_id>[0-9]+)/[^/]+"), _discord_webhook),
    ],
    "telegram": [WriteRoute("POST", _P(r"/sendMessage"), _telegram_send)],
    "quickbooks": [
        WriteRoute(
            "POST",
            _P(r"/salesreceipt"),
            recorded(
                "quickbooks",
                "sales_receipt",
                200,
                lambda o: {"SalesReceipt": {**o, "Id": o["id"], "DocNumber": f"10{o['id']}"}},
            ),
        )
    ],
    "sendgrid": [WriteRoute("POST", _P(r"/v3/mail/send"), _sendgrid_send)],
    "mailchimp": [
        WriteRoute(
            "PUT", _P(r"/3.0/lists/(?P<list>\w+)/members/(?P<hash>[0-9a-f]{32})"), _mailchimp_member
        ),
        WriteRoute(
            "POST",
            _P(r"/3.0/lists/(?P<list>\w+)/members/(?P<hash>[0-9a-f]{32})/tags"),
            _mailchimp_tags,
        ),
    ],
    "pipedrive": [
        WriteRoute(
            "POST",
            _P(r"/api/v1/persons"),
            recorded("pipedrive", "person", 201, lambda o: {"success": True, "data": o}),
        ),
    ],
    "google_sheets": [
        WriteRoute(
            "POST",
            _P(r"/v4/spreadsheets/(?P<sheet>[\w-]+)/values/(?P<range>[^/:]+):append"),
            _sheets_append,
        ),
    ],
    "airtable": [
        WriteRoute(
            "POST",
            _P(r"/v0/(?P<base>app\w+)/(?P<table>[^/]+)"),
            recorded("airtable", "record", 200, lambda o: {"id": f"rec{o['id']}", **o}),
        ),
    ],
    "google_calendar": [
        WriteRoute(
            "POST",
            _P(r"/calendar/v3/calendars/(?P<calendar>[^/]+)/events"),
            recorded(
                "google_calendar",
                "event",
                200,
                lambda o: {**o, "htmlLink": "https://calendar.google.com/event?eid=" + o["id"]},
            ),
        ),
    ],
    "calendly": [
        WriteRoute(
            "POST",
            _P(r"/scheduling_links"),
            recorded(
                "calendly",
                "scheduling_link",
                201,
                lambda o: {"resource": {**o, "booking_url": f"https://calendly.com/d/{o['id']}"}},
            ),
        ),
    ],
    "cal_com": [
        WriteRoute(
            "POST",
            _P(r"/v2/bookings"),
            recorded(
                "cal_com",
                "booking",
                201,
                lambda o: {"status": "success", "data": {**o, "uid": f"bk{o['id']}"}},
            ),
        ),
    ],
    "stripe": [
        WriteRoute("POST", _P(r"/v1/customers"), _stripe_object("customer", "cus")),
        WriteRoute("POST", _P(r"/v1/payment_intents"), _stripe_object("payment_intent", "pi")),
        WriteRoute("POST", _P(r"/v1/invoiceitems"), _stripe_object("invoiceitem", "ii")),
        WriteRoute("POST", _P(r"/v1/invoices"), _stripe_object("invoice", "in")),
    ],
    "shopify": [
        WriteRoute(
            "POST",
            _P(r"/admin/api/[0-9-]+/inventory_levels/set.json"),
            recorded("shopify", "inventory_level", 200, lambda o: {"inventory_level": o}),
        ),
    ],
    "custom_webhook": [
        WriteRoute(method, _P(r"/.*"), _custom_webhook)
        for method in ("POST", "PUT", "PATCH", "GET", "DELETE")
    ],
}


def _routes_of(provider: str) -> list[WriteRoute]:
    """The provider's write routes, here or in :mod:`.writes_outreach` (imported late: it
    builds on this module's store and handlers)."""
    from providers.sandbox.writes_outreach import OUTREACH_ROUTES

    return WRITE_ROUTES.get(provider) or OUTREACH_ROUTES.get(provider, [])
