"""Google Calendar and Calendly as their APIs really behave (headers, bodies, paging)."""

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


class GoogleCalendar(Profile):
    """Calendar v3: ``pageToken``/``nextPageToken``, ``nextSyncToken`` on the last page."""

    name = "google_calendar"
    catalog_name = "google_calendar"
    token = TokenPolicy(
        lifetime=3599,
        rotates=False,
        refresh_returns_refresh_token=False,
        extra={"scope": "https://www.googleapis.com/auth/calendar.events", "token_type": "Bearer"},
    )
    grant_path = "/token"
    rate_limit = 600
    rate_window = 60.0

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {
            "base_url": root + "/calendar/v3",
            "token_url": root + self.grant_path,
            "authorize_url": root + "/oauth/authorize",
        }

    def unauthorized(self, reason: str) -> httpx.Response:
        message = "Request had invalid authentication credentials."
        error = {"code": 401, "message": message, "status": "UNAUTHENTICATED"}
        return json_response(401, {"error": error})

    def rate_limited(self, call: Call) -> httpx.Response:
        error = {
            "code": 429,
            "message": "Rate Limit Exceeded",
            "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded"}],
            "status": "RESOURCE_EXHAUSTED",
        }
        return json_response(429, {"error": error})

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        day = rng.randint(1, 28)
        return {
            "kind": "calendar#event",
            "id": f"evt{index:05d}",
            "status": "confirmed",
            "summary": f"Sandbox event {index}",
            "start": {"dateTime": f"2026-01-{day:02d}T10:00:00Z"},
        }

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == "/calendar/v3/users/me/calendarList":
            return json_response(
                200, {"kind": "calendar#calendarList", "items": [{"id": "primary"}]}
            )
        if not (call.path.startswith("/calendar/v3/calendars/") and call.path.endswith("/events")):
            return self.not_found(call)
        size = min(call.int_param("maxResults", 250), 2500)
        start = decode_cursor(call.params.get("pageToken"))
        chunk, nxt = page_slice(records, start, size)
        body: dict[str, Any] = {"kind": "calendar#events", "items": chunk}
        if nxt is not None:
            body["nextPageToken"] = encode_cursor(nxt)
        else:
            body["nextSyncToken"] = "sync-" + encode_cursor(len(records))
        return json_response(200, body)


class Calendly(Profile):
    """API v2: ``collection`` + ``pagination.next_page_token``, X-RateLimit-* headers."""

    name = catalog_name = "calendly"
    token = TokenPolicy(
        lifetime=7200,
        rotates=True,
        extra={
            "token_type": "Bearer",
            "owner": "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
        },
    )

    def token_body(self, token: Any, include_refresh: bool) -> dict[str, Any]:
        organization = f"https://api.calendly.com/organizations/ORG{self.account_tag}"
        return {**super().token_body(token, include_refresh), "organization": organization}

    grant_path = "/oauth/token"
    rate_limit = 240
    rate_window = 60.0

    def unauthorized(self, reason: str) -> httpx.Response:
        message = (
            "The access token expired" if reason == "expired" else "The access token is invalid"
        )
        return json_response(401, {"title": "Unauthenticated", "message": message})

    def rate_headers(self, call: Call) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(call.limit),
            "X-RateLimit-Remaining": str(max(call.limit - call.window.used, 0)),
            "X-RateLimit-Reset": str(max(int(call.reset_in), 0)),
        }

    def rate_limited(self, call: Call) -> httpx.Response:
        body = {"title": "Too Many Requests", "message": "You have exceeded the rate limit."}
        return json_response(429, body, self.rate_headers(call))

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        return {
            "uri": f"https://api.calendly.com/scheduled_events/EV{index:06d}",
            "name": f"Sandbox meeting {index}",
            "status": rng.choice(["active", "canceled"]),
        }

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == "/users/me":
            return json_response(200, {"resource": {"uri": "https://api.calendly.com/users/AAAA"}})
        if call.path != "/scheduled_events":
            return json_response(404, {"title": "Resource Not Found", "message": call.path})
        size = min(call.int_param("count", 20), 100)
        start = decode_cursor(call.params.get("page_token"))
        chunk, nxt = page_slice(records, start, size)
        token = encode_cursor(nxt) if nxt is not None else None
        next_page = None
        if token is not None:
            query = urlencode({"count": size, "page_token": token})
            next_page = f"{call.origin()}{call.prefix}{call.path}?{query}"
        pagination = {
            "count": len(chunk),
            "next_page": next_page,
            "next_page_token": token,
            "previous_page": None,
            "previous_page_token": None,
        }
        return json_response(200, {"collection": chunk, "pagination": pagination})
