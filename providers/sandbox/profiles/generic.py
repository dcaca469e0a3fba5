"""A generic REST provider: page numbers, X-RateLimit-* headers, rotating refresh tokens.

It stands for the long tail of providers that follow common conventions, and gives tests a
provider whose catalog entry (:data:`GENERIC_ENTRY`) lives with the sandbox, not in the
shipped catalog.
"""

from __future__ import annotations

from typing import Any

import httpx

from providers.sandbox.profile import Call, Profile, TokenPolicy, json_response, page_slice

GENERIC_ENTRY: dict[str, Any] = {
    "name": "generic",
    "display_name": "Generic sandbox provider",
    "categories": ["crm"],
    "docs_url": "https://example.com/docs",
    "auth": {
        "mode": "oauth2_code",
        "authorize_url": "http://sandbox.invalid/generic/oauth/authorize",
        "token_url": "http://sandbox.invalid/generic/oauth/token",
        "scopes": ["read"],
        "token_lifetime_seconds": 3600,
        "refresh_token_rotates": True,
    },
    "base_url": "http://sandbox.invalid/generic",
    "rate_limit": {
        "limit": 20,
        "period_seconds": 10,
        "key": "generic:{connection}",
        "feedback": ["x_ratelimit", "retry_after"],
    },
    "pagination": {
        "style": "page",
        "page_param": "page",
        "limit_param": "per_page",
        "page_size": 10,
        "items_path": "data",
        "total_pages_path": "meta.total_pages",
    },
    "check": {"path": "/me"},
}


class Generic(Profile):
    """Common conventions: ``page``/``per_page``, ``meta.total_pages``, 429 + Retry-After."""

    name = "generic"
    catalog_name = None
    token = TokenPolicy(lifetime=3600, rotates=True)
    rate_limit = 20
    rate_window = 10.0

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(call.limit),
            "X-RateLimit-Remaining": str(max(call.limit - call.window.used, 0)),
            "X-RateLimit-Reset": str(max(int(call.reset_in), 0)),
        }

    def rate_limited(self, call: Call) -> httpx.Response:
        headers = {**self.rate_headers(call), "Retry-After": str(max(int(call.reset_in), 1))}
        return json_response(429, {"error": "rate_limited"}, headers)

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == "/me":
            return json_response(200, {"id": "me"})
        if call.path != "/items":
            return self.not_found(call)
        size = min(call.int_param("per_page", 10), 100)
        page = max(call.int_param("page", 1), 1)
        chunk, _ = page_slice(records, (page - 1) * size, size)
        total_pages = -(-len(records) // size)
        return json_response(
            200, {"data": chunk, "meta": {"page": page, "total_pages": total_pages}}
        )
