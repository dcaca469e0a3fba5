"""Messaging actions: Slack, Discord, Twilio (SMS and WhatsApp), Messenger, Telegram, SendGrid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from providers.client import ProviderResponse
from providers.hooks.discord import WEBHOOK_TOKEN_MARKER
from workers.actions.spec import (
    E164,
    EMAIL,
    Action,
    ActionEnv,
    ActionInput,
    Declared,
    HttpCall,
    pick_outputs,
)


class SlackMessage(ActionInput):
    """``chat.postMessage``: a channel id or name and the text (blocks optional)."""

    channel: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=40_000)
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = Field(default=None, pattern=r"^[0-9]+\.[0-9]+$")


class DiscordMessage(ActionInput):
    """A bot message to a channel (the bot token is the connection's credential)."""

    channel_id: str = Field(pattern=r"^[0-9]{15,21}$")
    content: str = Field(min_length=1, max_length=2_000)
    embeds: list[dict[str, Any]] | None = None


class DiscordWebhookMessage(ActionInput):
    """A message through an incoming webhook (the connection holds the webhook's token)."""

    webhook_id: str = Field(pattern=r"^[0-9]{15,21}$")
    content: str = Field(min_length=1, max_length=2_000)
    username: str | None = Field(default=None, max_length=80)
    avatar_url: str | None = Field(default=None, pattern=r"^https://")
    embeds: list[dict[str, Any]] | None = Field(default=None, max_length=10)


HttpsUrl = Annotated[str, Field(pattern=r"^https://[^\s]+$", max_length=2_048)]


class TwilioMessage(ActionInput):
    """One SMS/MMS from a Twilio number to an E.164 number, with up to 10 media URLs.

    ``media_url`` takes one URL or a list; each is sent as its own ``MediaUrl`` field, as
    Twilio's Messages resource documents (https://www.twilio.com/docs/messaging/api/message-resource).
    """

    to: str = Field(pattern=E164)
    from_: str = Field(alias="from", pattern=E164)
    body: str = Field(min_length=1, max_length=1_600)
    media_url: list[HttpsUrl] = Field(default_factory=list, max_length=10)

    @field_validator("media_url", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class TwilioWhatsAppMessage(TwilioMessage):
    """A WhatsApp message through Twilio: WhatsApp takes one media item per message."""

    media_url: list[HttpsUrl] = Field(default_factory=list, max_length=1)


@dataclass(frozen=True)
class TwilioSend(Action):
    """``POST /Messages.json`` as form fields; every media URL repeats the ``MediaUrl`` key."""

    provider: str = "twilio"
    name: str = "send_sms"
    input: type[ActionInput] = TwilioMessage
    channel: str = ""
    description: str = ""

    def calls(self, params: TwilioMessage, env: ActionEnv) -> Sequence[HttpCall]:
        form: dict[str, str | list[str]] = {
            "To": self.channel + params.to,
            "From": self.channel + params.from_,
            "Body": params.body,
        }
        if params.media_url:
            form["MediaUrl"] = list(params.media_url)
        return [HttpCall("POST", "/Messages.json", data=form)]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        return pick_outputs(responses[-1], {"sid": "sid", "status": "status"})


class MessengerMessage(ActionInput):
    """A Send API text message from the connected Page to a person (page-scoped id).

    Follows https://developers.facebook.com/docs/messenger-platform/reference/send-api/:
    outside the 24-hour window a ``MESSAGE_TAG`` type with its ``tag`` is required.
    """

    recipient_id: str = Field(pattern=r"^[0-9]{5,25}$")
    text: str = Field(min_length=1, max_length=2_000)
    messaging_type: Literal["RESPONSE", "UPDATE", "MESSAGE_TAG"] = "RESPONSE"
    tag: str | None = Field(default=None, pattern=r"^[A-Z_]{3,40}$")

    @model_validator(mode="after")
    def _tag_with_message_tag(self) -> MessengerMessage:
        if (self.messaging_type == "MESSAGE_TAG") != (self.tag is not None):
            raise ValueError("tag is required with messaging_type MESSAGE_TAG, and only then")
        return self


def _messenger_body(params: MessengerMessage, env: ActionEnv) -> dict[str, Any]:
    body: dict[str, Any] = {
        "recipient": {"id": params.recipient_id},
        "messaging_type": params.messaging_type,
        "message": {"text": params.text},
    }
    return {**body, "tag": params.tag} if params.tag else body


class MailgunMessage(ActionInput):
    """A plain-text (optionally HTML) email sent from one of the account's Mailgun domains.

    Follows https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages
    (form fields ``from``, ``to``, ``subject``, ``text``, ``html``, ``o:tag``).
    """

    domain: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)+$", max_length=253)
    from_: str = Field(alias="from", min_length=3, max_length=500)
    to: list[Annotated[str, Field(pattern=EMAIL)]] = Field(min_length=1, max_length=1_000)
    subject: str = Field(min_length=1, max_length=998)
    text: str = Field(min_length=1, max_length=1_000_000)
    html: str | None = Field(default=None, max_length=1_000_000)
    tags: list[str] = Field(default_factory=list, max_length=3)


def _mailgun_form(params: MailgunMessage, env: ActionEnv) -> dict[str, Any]:
    form: dict[str, Any] = {
        "from": params.from_,
        "to": list(params.to),
        "subject": params.subject,
        "text": params.text,
    }
    if params.html:
        form["html"] = params.html
    if params.tags:
        form["o:tag"] = list(params.tags)
    return form


@dataclass(frozen=True)
class MailgunSend(Action):
    """``POST /{domain}/messages`` as form fields; recipients and tags repeat their key."""

    provider: str = "mailgun"
    name: str = "send_email"
    input: type[ActionInput] = MailgunMessage
    description: str = "Send an email through Mailgun (bulk sends from QR data, seed 000)."

    def calls(self, params: MailgunMessage, env: ActionEnv) -> Sequence[HttpCall]:
        path = f"/{params.domain}/messages"
        return [HttpCall("POST", path, data=_mailgun_form(params, env))]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        return pick_outputs(responses[-1], {"id": "id", "message": "message"})


class TelegramMessage(ActionInput):
    """``sendMessage`` to a chat id (or ``@channelusername``)."""

    chat_id: str = Field(pattern=r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$")
    text: str = Field(min_length=1, max_length=4_096)
    parse_mode: str | None = Field(default=None, pattern=r"^(MarkdownV2|HTML|Markdown)$")


class SendGridTemplateEmail(ActionInput):
    """A dynamic-template email to one recipient, with the template's data."""

    to: str = Field(pattern=EMAIL)
    from_email: str = Field(pattern=EMAIL)
    template_id: str = Field(pattern=r"^d-[0-9a-f]{32}$")
    dynamic_data: dict[str, Any] = Field(default_factory=dict)
    to_name: str | None = Field(default=None, max_length=200)


def _sendgrid_body(params: SendGridTemplateEmail, env: ActionEnv) -> dict[str, Any]:
    to: dict[str, str] = {"email": params.to}
    if params.to_name:
        to["name"] = params.to_name
    personalization = {"to": [to], "dynamic_template_data": params.dynamic_data}
    return {
        "personalizations": [personalization],
        "from": {"email": params.from_email},
        "template_id": params.template_id,
    }


ACTIONS: list[Action] = [
    Declared(
        provider="slack",
        name="post_message",
        input=SlackMessage,
        path="/chat.postMessage",
        outputs={"channel": "channel", "ts": "ts"},
        description="Post a message to a Slack channel.",
    ),
    Declared(
        provider="discord",
        name="send_message",
        input=DiscordMessage,
        path="/channels/{channel_id}/messages",
        outputs={"id": "id", "channel_id": "channel_id"},
        description="Post a message to a Discord channel as the connected bot.",
    ),
    Declared(
        provider="discord",
        name="webhook_message",
        input=DiscordWebhookMessage,
        path="/webhooks/{webhook_id}/" + WEBHOOK_TOKEN_MARKER,
        params={"wait": "true"},
        outputs={"id": "id", "channel_id": "channel_id"},
        description="Post through a Discord incoming webhook (the seed's Discord integration).",
    ),
    TwilioSend(
        name="send_sms",
        input=TwilioMessage,
        description="Send an SMS (or MMS, up to 10 media URLs) through Twilio.",
    ),
    TwilioSend(
        name="send_whatsapp",
        input=TwilioWhatsAppMessage,
        channel="whatsapp:",
        description="Send a WhatsApp message through Twilio (numbers get the whatsapp: prefix).",
    ),
    Declared(
        provider="facebook_messenger",
        name="send_message",
        input=MessengerMessage,
        path="/{page_id}/messages",
        body=_messenger_body,
        outputs={"message_id": "message_id", "recipient_id": "recipient_id"},
        description="Send a Messenger message from the connected Page.",
    ),
    MailgunSend(),
    Declared(
        provider="telegram",
        name="send_message",
        input=TelegramMessage,
        path="/sendMessage",
        outputs={"message_id": "result.message_id"},
        description="Send a Telegram message as the connected bot.",
    ),
    Declared(
        provider="sendgrid",
        name="send_email",
        input=SendGridTemplateEmail,
        path="/mail/send",
        body=_sendgrid_body,
        outputs={"message_id": "header:X-Message-Id"},
        description="Send a SendGrid dynamic-template email.",
    ),
]
