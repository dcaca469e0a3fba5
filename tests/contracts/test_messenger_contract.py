"""Messenger's Send API request, checked against the documented example (no package ships
Meta's spec): https://developers.facebook.com/docs/messenger-platform/reference/send-api/"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.contracts.action_options import OPTIONS
from workers.actions import ActionEnv, action_for


def test_send_message_matches_the_documented_body() -> None:
    """POST /{page_id}/messages with recipient.id, messaging_type and message.text."""
    action = action_for("facebook_messenger", "send_message")
    assert action is not None
    params = action.input.model_validate({"recipient_id": "24092018123456789", "text": "hello"})
    (call,) = action.calls(params, ActionEnv("k1", OPTIONS))
    assert (call.method, call.path) == ("POST", "/{page_id}/messages")
    assert call.json == {
        "recipient": {"id": "24092018123456789"},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello"},
    }


def test_a_message_tag_needs_its_tag() -> None:
    """messaging_type MESSAGE_TAG without a tag (or a tag without it) is refused."""
    action = action_for("facebook_messenger", "send_message")
    assert action is not None
    base = {"recipient_id": "24092018123456789", "text": "hi"}
    with pytest.raises(ValidationError, match="tag is required"):
        action.input.model_validate({**base, "messaging_type": "MESSAGE_TAG"})
    with pytest.raises(ValidationError, match="tag is required"):
        action.input.model_validate({**base, "tag": "ACCOUNT_UPDATE"})
