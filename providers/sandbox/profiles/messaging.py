"""Slack, Twilio and Messenger as their APIs really behave (headers, bodies, paging)."""

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
    basic_credentials,
    decode_cursor,
    encode_cursor,
    json_response,
    page_slice,
)


class Slack(Profile):
    """Web API: ``ok: false`` on HTTP 200, cursor in ``response_metadata``, 429 Retry-After."""

    name = catalog_name = "slack"
    token = TokenPolicy(lifetime=None, rotates=False)
    grant_path = "/api/oauth.v2.access"
    rate_limit = 50
    rate_window = 60.0

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {
            "base_url": root + "/api",
            "token_url": root + self.grant_path,
            "authorize_url": root + "/oauth/authorize",
        }

    @property
    def team_id(self) -> str:
        """The workspace this sandbox's tokens belong to."""
        return "T" + self.account_tag

    def token_body(self, token: Any, include_refresh: bool) -> dict[str, Any]:
        return {
            "ok": True,
            "access_token": token.access_token,
            "token_type": "bot",
            "scope": "chat:write,channels:read,users:read",
            "team": {"id": self.team_id, "name": "Sandbox"},
        }

    def unauthorized(self, reason: str) -> httpx.Response:
        error = "token_revoked" if reason == "revoked" else "invalid_auth"
        return json_response(200, {"ok": False, "error": error})

    def rate_limited(self, call: Call) -> httpx.Response:
        retry = str(max(int(call.reset_in), 1))
        return json_response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry})

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        base = super().make_record(index, rng)
        return {"id": f"U{index:08d}", "name": base["name"], "profile": {"email": base["email"]}}

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == "/api/auth.test":
            return json_response(200, {"ok": True, "team_id": self.team_id, "user_id": "U00000001"})
        if call.path == "/api/chat.postMessage" and call.request.method == "POST":
            return json_response(200, {"ok": True, "channel": "C1", "ts": "1700000000.000100"})
        if call.path != "/api/users.list":
            return json_response(200, {"ok": False, "error": "unknown_method"})
        size = min(call.int_param("limit", 10), 1000)
        start = decode_cursor(call.params.get("cursor"))
        chunk, nxt = page_slice(records, start, size)
        metadata = {"next_cursor": encode_cursor(nxt) if nxt is not None else ""}
        return json_response(200, {"ok": True, "members": chunk, "response_metadata": metadata})


TWILIO_SID = "AC" + "a" * 32
TWILIO_TOKEN = "sandbox-auth-token"  # noqa: S105 - a fake auth token the sandbox accepts


class Twilio(Profile):
    """REST 2010-04-01: basic auth, ``next_page_uri`` (root-relative), error 20429."""

    name = catalog_name = "twilio"
    token = None
    static_secret = f"{TWILIO_SID}:{TWILIO_TOKEN}"
    rate_limit = 100
    rate_window = 1.0

    def presented_secret(self, request: httpx.Request) -> str | None:
        pair = basic_credentials(request)
        return f"{pair[0]}:{pair[1]}" if pair else None

    def split(self, path: str) -> tuple[str, str]:
        match = re.match(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})(.*)$", path)
        return (match.group(1), match.group(2)) if match else ("default", path)

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/2010-04-01/Accounts/{account_sid}"}

    def unauthorized(self, reason: str) -> httpx.Response:
        return json_response(401, self._error(20003, "Authenticate", 401))

    def rate_limited(self, call: Call) -> httpx.Response:
        return json_response(429, self._error(20429, "Too Many Requests", 429))

    @staticmethod
    def _error(code: int, message: str, status: int) -> dict[str, Any]:
        info = f"https://www.twilio.com/docs/errors/{code}"
        return {"code": code, "message": message, "more_info": info, "status": status}

    def make_record(self, index: int, rng: random.Random) -> dict[str, Any]:
        return {
            "sid": f"SM{index:032x}",
            "body": f"sandbox message {index}",
            "status": rng.choice(["delivered", "sent", "failed"]),
        }

    def route(self, call: Call, records: list[dict[str, Any]]) -> httpx.Response:
        if call.path == ".json":  # only the account the credential belongs to
            pair = basic_credentials(call.request)
            if pair is None or pair[0] != call.account:
                return json_response(404, self._error(20404, "Not found", 404))
            return json_response(200, {"sid": call.account, "status": "active"})
        if call.path != "/Messages.json":
            return json_response(
                404, self._error(20404, "The requested resource was not found", 404)
            )
        size = min(call.int_param("PageSize", 50), 1000)
        page = call.int_param("Page", 0)
        chunk, nxt = page_slice(records, page * size, size)
        uri = f"{call.prefix}{call.path}"
        body: dict[str, Any] = {
            "messages": chunk,
            "page": page,
            "page_size": size,
            "uri": f"{uri}?{urlencode({'PageSize': size, 'Page': page})}",
            "next_page_uri": None,
        }
        if nxt is not None:
            query = {
                "PageSize": size,
                "Page": page + 1,
                "PageToken": f"PA{records[nxt - 1]['sid']}",
            }
            body["next_page_uri"] = f"{uri}?{urlencode(query)}"
        return json_response(200, body)


class FacebookMessenger(Profile):
    """Graph API Send API under a Page: the operator's page token as a bearer token."""

    name = catalog_name = "facebook_messenger"
    token = None
    static_secret = "EAAsandboxPageToken"  # noqa: S105 - a fake token the sandbox accepts
    rate_limit = 200
    rate_window = 3600.0

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/{api_version}"}

    def secrets(self) -> dict[str, str]:
        return {"page_access_token": self.static_secret or ""}

    def unauthorized(self, reason: str) -> httpx.Response:
        error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
        return json_response(401, {"error": error})
