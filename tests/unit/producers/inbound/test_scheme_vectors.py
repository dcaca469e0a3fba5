"""Signature schemes against the vectors the providers (and their SDKs) publish."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from producers.inbound.schemes import SCHEMES, Incoming, SignatureError

FAR_FUTURE_TOLERANCE = 10**10


def incoming(
    headers: dict[str, str], body: bytes, url: str = "https://x.test/", now: float = 0
) -> Incoming:
    return Incoming("POST", url, {k.lower(): v for k, v in headers.items()}, body, now)


def test_twilio_form_vector() -> None:
    """Twilio's documented example: URL + sorted params, HMAC-SHA1, token 12345."""
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    request = incoming(
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
        },
        urlencode(params).encode(),
        url="https://mycompany.com/myapp.php?foo=1&bar=2",
    )
    SCHEMES["twilio"]().verify(request, "12345")
    with pytest.raises(SignatureError):
        SCHEMES["twilio"]().verify(request, "54321")


def test_twilio_json_body_vector() -> None:
    """Twilio SDKs' bodySHA256 vector: the URL carries the body hash, the URL is signed."""
    body = b'{"property": "value", "boolean": true}'
    digest = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    url = f"https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256={digest}"
    headers = {
        "Content-Type": "application/json",
        "X-Twilio-Signature": "a9nBmqA0ju/hNViExpshrM61xv4=",
    }
    SCHEMES["twilio"]().verify(incoming(headers, body, url), "12345")
    with pytest.raises(SignatureError, match="bodySHA256"):
        SCHEMES["twilio"]().verify(incoming(headers, body + b" ", url), "12345")


def test_slack_vector() -> None:
    """Slack's documented example signature (v0, timestamp 1531420618)."""
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }
    scheme = SCHEMES["slack"](FAR_FUTURE_TOLERANCE)
    request = incoming(headers, body, now=1531420618)
    scheme.verify(request, "8f742231b10e8888abcd99yyyzzz85a5")
    assert scheme.describe(request).account == "T1DC2JH3J"
    with pytest.raises(SignatureError) as stale:
        SCHEMES["slack"](300).verify(
            incoming(headers, body, now=1531420618 + 301), "8f742231b10e8888abcd99yyyzzz85a5"
        )
    assert stale.value.reason == "stale"


def test_square_vector() -> None:
    """Square SDKs' published vector: base64 HMAC-SHA256 of notification URL + body."""
    body = (
        b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
        b'"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
        b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
    )
    url = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
    headers = {"x-square-hmacsha256-signature": "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="}
    scheme = SCHEMES["square"]()
    scheme.verify(incoming(headers, body, url), "Ibxx_5AKakO-3qeNVR61Dw")
    assert scheme.describe(incoming(headers, body, url)).account == "MLEFBHHSJGVHD"
    with pytest.raises(SignatureError):
        scheme.verify(incoming(headers, body, url + "/other"), "Ibxx_5AKakO-3qeNVR61Dw")


def test_github_vector() -> None:
    """GitHub's documented example: sha256= hex HMAC of 'Hello, World!'."""
    headers = {
        "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    }
    SCHEMES["github"]().verify(incoming(headers, b"Hello, World!"), "It's a Secret to Everybody")
    SCHEMES["meta"]().verify(incoming(headers, b"Hello, World!"), "It's a Secret to Everybody")
    with pytest.raises(SignatureError):
        SCHEMES["github"]().verify(
            incoming(headers, b"Hello, World?"), "It's a Secret to Everybody"
        )


def test_standard_webhooks_vector() -> None:
    """The Standard Webhooks spec example is accepted by our inbound scheme."""
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    scheme = SCHEMES["standard_webhooks"](FAR_FUTURE_TOLERANCE)
    request = incoming(headers, b'{"test": 2432232314}', now=1614265330)
    with pytest.raises(SignatureError) as stale:  # the package checks its own 5 minutes
        scheme.verify(request, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert stale.value.reason == "stale"


def test_stripe_accepts_any_listed_v1_and_ignores_v0() -> None:
    """Stripe may list several v1 signatures (secret rolling); one match suffices."""
    body, t = b'{"id":"evt_1"}', "1700000000"
    good = hmac.new(b"whsec_test", f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    header = f"t={t},v1={'0' * 64},v1={good},v0=ignored"
    scheme = SCHEMES["stripe"](300)
    scheme.verify(incoming({"Stripe-Signature": header}, body, now=1700000100), "whsec_test")
    with pytest.raises(SignatureError) as missing:
        scheme.verify(incoming({"Stripe-Signature": f"t={t}"}, body, now=1700000100), "whsec_test")
    assert missing.value.reason == "bad"


def test_hubspot_v3_decodes_the_documented_characters() -> None:
    """HubSpot signs the URI with %3A, %2F, %40... decoded; both spellings verify."""
    secret, t = "client-secret", "1700000000000"
    body = b'[{"eventId":1}]'
    signed_uri = "https://x.test/hook?email=a@b.c"
    source = b"POST" + signed_uri.encode() + body + t.encode()
    signature = base64.b64encode(
        hmac.new(secret.encode(), source, hashlib.sha256).digest()
    ).decode()
    headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": t}
    scheme = SCHEMES["hubspot_v3"](300)
    scheme.verify(
        incoming(headers, body, "https://x.test/hook?email=a%40b.c", now=1700000000), secret
    )
    with pytest.raises(SignatureError) as stale:
        scheme.verify(incoming(headers, body, signed_uri, now=1700000400), secret)
    assert stale.value.reason == "stale"


def test_slack_interactivity_payload_names_its_team() -> None:
    """Interactive actions wrap JSON in a ``payload`` form field; the team is read from it."""
    inner = (
        '{"type":"block_actions","team":{"id":"T0123ABCD"},"trigger_id":"13345224609.8534564800"}'
    )
    body = urlencode({"payload": inner}).encode()
    request = incoming({"Content-Type": "application/x-www-form-urlencoded"}, body)
    described = SCHEMES["slack"]().describe(request)
    assert (described.account, described.topic, described.event_id) == (
        "T0123ABCD",
        "block_actions",
        "13345224609.8534564800",
    )
