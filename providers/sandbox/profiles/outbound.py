"""Providers the sandbox fakes for their write endpoints (actions), in their auth conventions.

Their write routes live in :mod:`providers.sandbox.writes`; here is only what differs per
provider: where the credential travels, the base URL shape and the error bodies.
"""

from __future__ import annotations

import re

import httpx

from providers.sandbox.profile import Call, Profile, TokenPolicy, basic_credentials, json_response

TELEGRAM_TOKEN = "123456:sandbox-bot"  # noqa: S105 - a fake bot token the sandbox accepts


class _StaticKey(Profile):
    """A provider authenticated by one fixed API key in a header."""

    token = None
    header = "Authorization"
    prefix = "Bearer "

    def presented_secret(self, request: httpx.Request) -> str | None:
        value = request.headers.get(self.header, "")
        return value.removeprefix(self.prefix) if value.startswith(self.prefix) else None


class SendGrid(_StaticKey):
    """v3 Mail Send: 202 with ``X-Message-Id``, errors as ``{"errors": [...]}``."""

    name = catalog_name = "sendgrid"
    static_secret = "SG.sandbox"  # noqa: S105 - a fake key the sandbox accepts
    rate_limit = 600
    rate_window = 60.0

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/{api_version}"}

    def unauthorized(self, reason: str) -> httpx.Response:
        return json_response(401, {"errors": [{"message": "authorization required"}]})


class Discord(_StaticKey):
    """Bot API: ``Authorization: Bot <token>``, 429 with ``retry_after`` in the body."""

    name = catalog_name = "discord"
    static_secret = "discord-sandbox-bot"  # noqa: S105 - a fake token the sandbox accepts
    prefix = "Bot "
    rate_limit = 50
    rate_window = 1.0

    def presented_secret(self, request: httpx.Request) -> str | None:
        """Bot calls carry ``Bot <token>``; webhook executions the token in their path."""
        webhook = re.search(r"/webhooks/[0-9]+/([^/]+)$", request.url.path)
        return webhook.group(1) if webhook else super().presented_secret(request)

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/api/v{api_version}"}

    def rate_limited(self, call: Call) -> httpx.Response:
        body = {"message": "You are being rate limited.", "retry_after": 1.0, "global": False}
        return json_response(429, body, {"Retry-After": "1"})


class CalCom(_StaticKey):
    """API v2: bearer API key, ``cal-api-version`` header, ``{"status", "data"}`` bodies."""

    name = catalog_name = "cal_com"
    static_secret = "cal_sandbox"  # noqa: S105 - a fake key the sandbox accepts

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/v2"}


class Telegram(Profile):
    """Bot API: the token is the first path segment (``/bot<token>/sendMessage``).

    The sandbox routes by first segment, so this profile is *named* after the bot's segment
    and the catalog's base URL points at the sandbox root.
    """

    name = f"bot{TELEGRAM_TOKEN}"
    catalog_name = "telegram"
    token = None
    static_secret = TELEGRAM_TOKEN

    def presented_secret(self, request: httpx.Request) -> str | None:
        return TELEGRAM_TOKEN

    def catalog_overrides(self, root: str) -> dict[str, str]:
        # ``root`` ends with this profile's name: the token segment the auth adds itself.
        return {"base_url": root.removesuffix("/" + self.name)}

    def unauthorized(self, reason: str) -> httpx.Response:
        return json_response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


class CustomWebhook(Profile):
    """Any receiving endpoint: no credential, the host is the first path segment."""

    name = catalog_name = "custom_webhook"
    token = None
    static_secret = "none"  # noqa: S105 - no credential: every request presents this
    account_segments = 1

    def presented_secret(self, request: httpx.Request) -> str | None:
        return "none"

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/custom_webhook/{host}"}


class _OAuthProfile(Profile):
    """An OAuth provider whose base URL is the sandbox prefix plus a fixed path."""

    base_path = ""

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {**super().catalog_overrides(root), "base_url": root + self.base_path}


class GoogleSheets(_OAuthProfile):
    """Sheets v4: ``values:append``; Google's error body on 401 and 429."""

    name = catalog_name = "google_sheets"
    token = TokenPolicy(lifetime=3599, rotates=False, refresh_returns_refresh_token=False)
    base_path = "/v4"
    rate_limit = 60
    rate_window = 60.0

    def unauthorized(self, reason: str) -> httpx.Response:
        error = {"code": 401, "message": "invalid credentials", "status": "UNAUTHENTICATED"}
        return json_response(401, {"error": error})


class OpenAI(_StaticKey):
    """Chat Completions with the operator's project key (admin credential)."""

    name = catalog_name = "openai"
    static_secret = "sk-proj-sandbox"  # noqa: S105 - a fake key the sandbox accepts

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/v1"}

    def secrets(self) -> dict[str, str]:
        return {"api_key": self.static_secret or ""}


class Mailgun(Profile):
    """Messages API: HTTP basic ``api:<key>``, form bodies, ``{"id", "message"}`` answers."""

    name = catalog_name = "mailgun"
    token = None
    static_secret = "api:key-sandbox"  # noqa: S105 - a fake key the sandbox accepts

    def presented_secret(self, request: httpx.Request) -> str | None:
        pair = basic_credentials(request)
        return f"{pair[0]}:{pair[1]}" if pair else None

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/{api_version}"}


class ActiveCampaign(_StaticKey):
    """API v3 under the account's host (first path segment here), ``Api-Token`` header."""

    name = catalog_name = "activecampaign"
    static_secret = "ac-sandbox-token"  # noqa: S105 - a fake key the sandbox accepts
    header = "Api-Token"
    prefix = ""
    account_segments = 1

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + "/{account}/api/{api_version}"}


class _CatchHook(Profile):
    """An automation platform's catch hook: no credential, the hook named in the path."""

    token = None
    static_secret = "none"  # noqa: S105 - no credential: every request presents this
    template = ""

    def presented_secret(self, request: httpx.Request) -> str | None:
        return "none"

    def catalog_overrides(self, root: str) -> dict[str, str]:
        return {"base_url": root + self.template}


class Zapier(_CatchHook):
    name = catalog_name = "zapier"
    account_segments = 2
    template = "/{user_id}/{hook_id}"


class Make(_CatchHook):
    name = catalog_name = "make"
    account_segments = 2
    template = "/{region}/{hook_id}"


class N8n(_CatchHook):
    name = catalog_name = "n8n"
    account_segments = 1
    template = "/{host}/webhook/{webhook_path}"
