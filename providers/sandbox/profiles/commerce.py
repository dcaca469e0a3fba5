"""Shopify, Stripe and QuickBooks as their APIs really behave (headers, bodies, paging)."""

from __future__ import annotations

import random
import re
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


class Shopify(Profile):
    """Admin REST: Link-header ``page_info`` paging and the call-limit bucket header."""

    name = catalog_name = "shopify"
    token = None
    static_secret = "shpat_sandbox"  # noqa: S105 - a fake token the sandbox accepts
    account_segments = 1
    rate_limit = 40
    rate_window = 20.0

    def presented_secret(self, request: httpx.Request) -> str | None:
        value: str | None = request.headers.get("X-Shopify-Access-Token")
        return value

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/{shop}/admin/api/{api_version}"}

    def secrets(self) -> dict[str, str]:
        return {"access_token": self.static_secret or ""}

    def unauthorized(self, reason: str) -> httpx.Response:
        message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
        return json_response(401, {"errors": message})

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {
            "X-Shopify-Shop-Api-Call-Limit": f"{min(call.window.used, call.limit)}/{call.limit}"
        }

    def rate_limited(self, call: Call) -> httpx.Response:
        message = "Exceeded 2 calls per second for api client. Reduce request rates to resume."
        headers = {**self.rate_headers(call), "Retry-After": "2.0"}
        return json_response(429, {"errors": message}, headers)

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        return {"id": 7000 + index, "email": base["email"], "first_name": base["name"]}

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        match = re.fullmatch(r"/admin/api/([0-9-]+|unstable)/(\w+)\.json", call.path)
        if match is None:
            return json_response(404, {"errors": "Not Found"})
        _version, resource = match.groups()
        if resource == "shop":
            return json_response(200, {"shop": {"id": 1, "myshopify_domain": call.account}})
        if resource != "customers":
            return json_response(404, {"errors": "Not Found"})
        size = min(call.int_param("limit", 50), 250)
        start = decode_cursor(call.params.get("page_info"))
        chunk, nxt = page_slice(records, start, size)
        headers = {}
        if nxt is not None:
            query = urlencode({"limit": size, "page_info": encode_cursor(nxt)})
            headers["Link"] = f'<{call.origin()}{call.prefix}{call.path}?{query}>; rel="next"'
        return json_response(200, {"customers": chunk}, headers)


class Stripe(Profile):
    """List objects with ``has_more`` and ``starting_after``; 429 code ``rate_limit``."""

    name = catalog_name = "stripe"
    token = None
    static_secret = "sk_test_sandbox"  # noqa: S105 - a fake key the sandbox accepts
    rate_limit = 25
    rate_window = 1.0

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/v1"}

    def unauthorized(self, reason: str) -> httpx.Response:
        error = {"message": "Invalid API Key provided: sk_****", "type": "invalid_request_error"}
        return json_response(401, {"error": error})

    def rate_limited(self, call: Call) -> httpx.Response:
        error = {
            "message": "Request rate limit exceeded.",
            "type": "invalid_request_error",
            "code": "rate_limit",
        }
        return json_response(429, {"error": error}, {"Stripe-Should-Retry": "true"})

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        return {"id": f"cus_{index:014d}", "object": "customer", "email": base["email"]}

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == "/v1/balance":
            return json_response(200, {"object": "balance", "available": [], "pending": []})
        if call.path == "/v1/account":  # the connected account named, else the platform's own
            platform = "acct_1Sandbox" + self.account_tag
            account = call.request.headers.get("Stripe-Account", platform)
            return json_response(200, {"id": account, "object": "account"})
        if call.path != "/v1/customers":
            error = {"message": "Unrecognized request URL.", "type": "invalid_request_error"}
            return json_response(404, {"error": error})
        size = min(call.int_param("limit", 10), 100)
        after = call.params.get("starting_after")
        ids = [r["id"] for r in records]
        start = ids.index(after) + 1 if after in ids else 0
        chunk, nxt = page_slice(records, start, size)
        body = {
            "object": "list",
            "url": "/v1/customers",
            "data": chunk,
            "has_more": nxt is not None,
        }
        return json_response(200, body)


class QuickBooks(Profile):
    """Accounting API: SQL-like ``query`` with STARTPOSITION/MAXRESULTS, rotating refresh."""

    name = catalog_name = "quickbooks"
    token = TokenPolicy(lifetime=3600, rotates=True, extra={"x_refresh_token_expires_in": 8726400})
    grant_path = "/oauth2/v1/tokens/bearer"
    rate_limit = 500
    rate_window = 60.0

    def split(self, path: str) -> tuple[str, str]:
        match = re.match(r"/v3/company/([0-9]+)(/.*)?$", path)
        return (match.group(1), match.group(2) or "/") if match else ("default", path)

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {
            "base_url": root + "/v3/company/{realm_id}",
            "token_url": root + self.grant_path,
            "authorize_url": root + "/oauth/authorize",
        }

    def unauthorized(self, reason: str) -> httpx.Response:
        error = {"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401"}
        return json_response(
            401, {"fault": {"error": [{**error, "code": "3200"}], "type": "AUTHENTICATION"}}
        )

    def rate_limited(self, call: Call) -> httpx.Response:
        error = {"message": "message=ThrottleExceeded; errorCode=003001; statusCode=429"}
        return json_response(
            429, {"fault": {"error": [{**error, "code": "003001"}], "type": "SERVICE"}}
        )

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        return {
            "Id": str(index),
            "DisplayName": base["name"],
            "PrimaryEmailAddr": {"Address": base["email"]},
        }

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path.startswith("/companyinfo/"):
            return json_response(
                200, {"CompanyInfo": {"CompanyName": "Sandbox Co", "Id": call.account}}
            )
        if call.path != "/query":
            return self.not_found(call)
        query = call.params.get("query", "")
        start = re.search(r"STARTPOSITION\s+(\d+)", query, re.IGNORECASE)
        size = re.search(r"MAXRESULTS\s+(\d+)", query, re.IGNORECASE)
        first = int(start.group(1)) if start else 1
        count = min(int(size.group(1)) if size else 100, 1000)
        chunk, _ = page_slice(records, first - 1, count)
        response: dict[str, Any] = {}
        if chunk:
            response = {"Customer": chunk, "startPosition": first, "maxResults": len(chunk)}
        return json_response(200, {"QueryResponse": response, "time": "2026-01-01T00:00:00Z"})
