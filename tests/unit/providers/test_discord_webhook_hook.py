"""The Discord hook moves a webhook connection's token from the header into the path."""

from __future__ import annotations

import httpx

from providers.hooks.discord import WEBHOOK_TOKEN_MARKER, prepare_request

BASE = "https://discord.com/api/v10"


def test_webhook_marker_becomes_the_token_and_the_header_goes() -> None:
    """``/webhooks/<id>/<marker>`` gets the credential; no Authorization header is sent."""
    request = httpx.Request(
        "POST",
        f"{BASE}/webhooks/197038439483310086/{WEBHOOK_TOKEN_MARKER}?wait=true",
        headers={"Authorization": "Bot s3cr3t/tok"},
    )
    prepare_request(request)
    raw = request.url.raw_path.decode()
    assert raw == "/api/v10/webhooks/197038439483310086/s3cr3t%2Ftok?wait=true"
    assert request.url.params["wait"] == "true" and "Authorization" not in request.headers


def test_other_discord_calls_are_left_alone() -> None:
    """Bot API calls keep their header; a marker elsewhere in a path is not rewritten."""
    for path in ("/channels/1/messages", f"/channels/1/{WEBHOOK_TOKEN_MARKER}"):
        request = httpx.Request("POST", BASE + path, headers={"Authorization": "Bot t"})
        prepare_request(request)
        assert request.url.path == "/api/v10" + path and request.headers["Authorization"] == "Bot t"
