"""HubSpot, Salesforce and Klaviyo as their APIs really behave (headers, bodies, paging)."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlencode

import httpx

from providers.sandbox.profile import (
    Call,
    Profile,
    TokenPolicy,
    decode_cursor,
    encode_cursor,
    json_response,
    page_slice,
)


class HubSpot(Profile):
    """CRM v3: ``after`` cursors in ``paging.next``, X-HubSpot-RateLimit-* headers."""

    name = catalog_name = "hubspot"
    token = TokenPolicy(lifetime=1800, rotates=False)
    grant_path = "/oauth/v1/token"
    rate_limit = 110
    rate_window = 10.0

    @property
    def portal_id(self) -> int:
        """The portal this sandbox's tokens belong to (the account-info API answers it)."""
        return int(self.account_tag, 16) % 1_000_000_000

    def unauthorized(self, reason: str) -> httpx.Response:
        category = "EXPIRED_AUTHENTICATION" if reason == "expired" else "INVALID_AUTHENTICATION"
        return json_response(
            401,
            {
                "status": "error",
                "message": "Authentication credentials not found or expired.",
                "category": category,
            },
        )

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(call.limit),
            "X-HubSpot-RateLimit-Remaining": str(max(call.limit - call.window.used, 0)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_window * 1000)),
        }

    def rate_limited(self, call: Call) -> httpx.Response:
        body = {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "policyName": "TEN_SECONDLY_ROLLING",
        }
        return json_response(429, body, self.rate_headers(call))

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        first, _, last = base["name"].partition(" ")
        props = {"email": base["email"], "firstname": first, "lastname": last}
        return {"id": str(index), "properties": props, "archived": False}

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == "/account-info/v3/details":
            return json_response(200, {"portalId": self.portal_id, "accountType": "STANDARD"})
        if call.path != "/crm/v3/objects/contacts":
            return self.not_found(call)
        size = min(call.int_param("limit", 10), 100)
        start = int(call.params.get("after", "0") or 0)
        chunk, nxt = page_slice(records, start, size)
        body: dict[str, Any] = {"results": chunk}
        if nxt is not None:
            link = f"{call.origin()}{call.prefix}{call.path}?{urlencode({'after': nxt})}"
            body["paging"] = {"next": {"after": str(nxt), "link": link}}
        return json_response(200, body)


class Salesforce(Profile):
    """REST API: nextRecordsUrl, Sforce-Limit-Info, 403 REQUEST_LIMIT_EXCEEDED."""

    name = catalog_name = "salesforce"
    token = TokenPolicy(lifetime=7200, rotates=False, refresh_returns_refresh_token=False)
    grant_path = "/services/oauth2/token"
    account_segments = 1
    rate_limit = 15000
    rate_window = 86400.0
    batch_size = 10

    def catalog_overrides(self, root: str) -> dict[str, str]:
        host = root + "/{instance_host}"
        return {
            "base_url": host + "/services/data/v{api_version}",
            "token_url": host + self.grant_path,
            "authorize_url": host + "/services/oauth2/authorize",
        }

    def token_body(self, token: Any, include_refresh: bool) -> dict[str, Any]:
        body = {
            "access_token": token.access_token,
            "instance_url": "https://mycompany.my.salesforce.com",
            "id": "https://login.salesforce.com/id/00D000000000001/005000000000001",
            "token_type": "Bearer",
            "issued_at": "1700000000000",
            "signature": "c2FuZGJveA==",
        }
        if include_refresh and token.refresh_token:
            body["refresh_token"] = token.refresh_token
        return body

    def unauthorized(self, reason: str) -> httpx.Response:
        return json_response(
            401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        )

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={min(call.window.used, call.limit)}/{call.limit}"}

    def rate_limited(self, call: Call) -> httpx.Response:
        body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        return json_response(403, body, self.rate_headers(call))

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        return {
            "attributes": {"type": "Contact"},
            "Id": f"003{index:015d}",
            "Name": base["name"],
            "Email": base["email"],
        }

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        version, _, rest = call.path.removeprefix("/services/data/").partition("/")
        if rest == "limits":
            used = call.window.used
            daily = {"Max": call.limit, "Remaining": max(call.limit - used, 0)}
            return json_response(200, {"DailyApiRequests": daily})
        if rest == "query":
            start = 0
        elif rest.startswith("query/01gSANDBOX-"):
            start = int(rest.rsplit("-", 1)[1])
        else:
            return json_response(404, [{"errorCode": "NOT_FOUND", "message": "not found"}])
        chunk, nxt = page_slice(records, start, self.batch_size)
        body: dict[str, Any] = {"totalSize": len(records), "done": nxt is None, "records": chunk}
        if nxt is not None:
            body["nextRecordsUrl"] = f"{call.prefix}/services/data/{version}/query/01gSANDBOX-{nxt}"
        return json_response(200, body)


class Klaviyo(Profile):
    """JSON:API with ``links.next``, ``revision`` header required, IETF RateLimit-* headers."""

    name = catalog_name = "klaviyo"
    token = None
    static_secret = "pk_sandbox"  # noqa: S105 - a fake key the sandbox accepts
    rate_limit = 150
    rate_window = 60.0

    def presented_secret(self, request: httpx.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        return header.removeprefix("Klaviyo-API-Key ") if header.startswith("Klaviyo-") else None

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/api"}

    def secrets(self) -> dict[str, str]:
        return {"private_api_key": self.static_secret or ""}

    def unauthorized(self, reason: str) -> httpx.Response:
        error = {"status": 401, "code": "not_authenticated", "title": "Not authenticated."}
        return json_response(401, {"errors": [error]})

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(call.limit),
            "RateLimit-Remaining": str(max(call.limit - call.window.used, 0)),
            "RateLimit-Reset": str(max(int(call.reset_in), 0)),
        }

    def rate_limited(self, call: Call) -> httpx.Response:
        error = {"status": 429, "code": "throttled", "title": "Request was throttled."}
        headers = {**self.rate_headers(call), "Retry-After": str(max(int(call.reset_in), 1))}
        return json_response(429, {"errors": [error]}, headers)

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        attributes = {"email": base["email"], "first_name": base["name"].split()[0]}
        return {"type": "profile", "id": f"01J{index:023d}", "attributes": attributes}

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if "revision" not in call.request.headers:
            error = {"status": 400, "code": "invalid", "title": "revision header is required."}
            return json_response(400, {"errors": [error]})
        if call.path == "/api/accounts/":
            return json_response(200, {"data": [{"type": "account", "id": "ABC123"}]})
        if call.path != "/api/profiles/":
            return self.not_found(call)
        size = min(call.int_param("page[size]", 20), 100)
        start = decode_cursor(call.params.get("page[cursor]"))
        chunk, nxt = page_slice(records, start, size)
        base = f"{call.origin()}{call.prefix}{call.path}"
        links: dict[str, Any] = {"self": base, "next": None, "prev": None}
        if nxt is not None:
            query = urlencode({"page[size]": size, "page[cursor]": encode_cursor(nxt)})
            links["next"] = f"{base}?{query}"
        return json_response(200, {"data": chunk, "links": links})
