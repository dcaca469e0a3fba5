"""Rate-limit feedback parsers: each header style, normalized, never raising."""

from __future__ import annotations

import httpx
import pytest

from providers.ratelimit_feedback import RateLimitFeedback, parse_feedback

NOW = 1_700_000_000.0


def parse(headers: dict[str, str], *parsers: str, body: bytes = b"") -> RateLimitFeedback:
    response = httpx.Response(200, headers=headers, content=body)
    return parse_feedback(response, parsers, NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("30", 30.0), ("1.5", 1.5), ("Tue, 14 Nov 2023 22:14:20 GMT", 60.0), ("soon", None)],
)
def test_retry_after_seconds_and_http_date(value: str, expected: float | None) -> None:
    """Retry-After is read as delta seconds or an HTTP date; garbage yields nothing."""
    assert parse({"Retry-After": value}, "retry_after").retry_after == expected


@pytest.mark.parametrize(
    ("reset", "expected"),
    [("12", 12.0), (str(int(NOW) + 30), 30.0), (str(int(NOW * 1000) + 5000), 5.0)],
)
def test_x_ratelimit_reset_as_delta_epoch_or_millis(reset: str, expected: float) -> None:
    """X-RateLimit-Reset may be a delta, epoch seconds or epoch milliseconds."""
    feedback = parse(
        {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7", "X-RateLimit-Reset": reset},
        "x_ratelimit",
    )
    assert (feedback.limit, feedback.remaining, feedback.reset_after) == (100, 7, expected)


def test_x_rate_limit_hyphenated_and_discord_reset_after() -> None:
    """X's x-rate-limit-* spelling and Discord's Reset-After are understood."""
    x = parse({"x-rate-limit-limit": "900", "x-rate-limit-remaining": "899"}, "x_ratelimit")
    assert (x.limit, x.remaining) == (900, 899)
    discord = parse({"X-RateLimit-Reset-After": "1.25", "X-RateLimit-Reset": "1"}, "x_ratelimit")
    assert discord.reset_after == 1.25


def test_ietf_separate_and_combined_fields() -> None:
    """RateLimit-Limit/-Remaining/-Reset and the combined RateLimit field both parse."""
    separate = parse(
        {"RateLimit-Limit": "150", "RateLimit-Remaining": "3", "RateLimit-Reset": "20"},
        "ietf_ratelimit",
    )
    assert (separate.limit, separate.remaining, separate.reset_after) == (150, 3, 20.0)
    combined = parse({"RateLimit": '"default";r=50;t=30'}, "ietf_ratelimit")
    assert (combined.remaining, combined.reset_after) == (50, 30.0)


def test_shopify_call_limit_and_salesforce_usage() -> None:
    """Shopify's used/size bucket and Salesforce's daily api-usage normalize to remaining."""
    shopify = parse({"X-Shopify-Shop-Api-Call-Limit": "32/40"}, "shopify_call_limit")
    assert (shopify.limit, shopify.remaining) == (40, 8)
    salesforce = parse({"Sforce-Limit-Info": "api-usage=25/15000"}, "sforce_limit_info")
    assert (salesforce.daily_limit, salesforce.daily_remaining) == (15000, 14975)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"ok":false,"error_code":429,"parameters":{"retry_after":35}}', 35.0),
        (b'{"message":"You are being rate limited.","retry_after":0.64,"global":false}', 0.64),
        (b"not json", None),
        (b'{"retry_after": true}', None),
    ],
)
def test_body_retry_after_telegram_and_discord(body: bytes, expected: float | None) -> None:
    """Telegram's parameters.retry_after and Discord's retry_after are read from the body."""
    assert parse({}, "body_retry_after", body=body).retry_after == expected


def test_hubspot_and_gohighlevel_headers() -> None:
    """HubSpot's X-HubSpot-RateLimit-* and GoHighLevel's copy of it feed limit and daily."""
    hubspot = parse(
        {
            "X-HubSpot-RateLimit-Max": "110",
            "X-HubSpot-RateLimit-Remaining": "100",
            "X-HubSpot-RateLimit-Daily": "250000",
            "X-HubSpot-RateLimit-Daily-Remaining": "249000",
        },
        "hubspot",
    )
    assert (hubspot.limit, hubspot.remaining, hubspot.daily_remaining) == (110, 100, 249000)
    ghl = parse({"X-RateLimit-Max": "100", "X-RateLimit-Daily-Remaining": "5"}, "hubspot")
    assert (ghl.limit, ghl.daily_remaining) == (100, 5)


def test_hubspot_states_the_window_its_limit_counts_over() -> None:
    """Interval-Milliseconds gives the window; without it, a 429 body's policyName does."""
    stated = parse(
        {"X-HubSpot-RateLimit-Max": "50", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"},
        "hubspot",
    )
    assert (stated.limit, stated.interval) == (50, 10.0)
    body = b'{"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}'
    named = parse({"X-HubSpot-RateLimit-Max": "50"}, "hubspot", body=body)
    assert (named.limit, named.interval) == (50, 10.0)
    assert parse({"X-HubSpot-RateLimit-Max": "50"}, "hubspot").interval is None


def test_meta_usage_percentages_and_regain_time() -> None:
    """Meta's usage percentages become what remains of 100 (no request count is stated, so
    no limit); regain minutes become retry_after."""
    buc = '{"123":[{"type":"pages","call_count":95,"total_cputime":10,"total_time":20,"estimated_time_to_regain_access":3}]}'
    feedback = parse(
        {"X-App-Usage": '{"call_count":28,"total_time":25}', "X-Business-Use-Case-Usage": buc},
        "meta_usage",
    )
    assert (feedback.limit, feedback.remaining, feedback.retry_after) == (None, 5, 180.0)


def test_openai_bigcommerce_and_lightspeed() -> None:
    """Durations, millisecond resets and leaky-bucket levels are normalized to seconds."""
    openai = parse(
        {
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "499",
            "x-ratelimit-reset-requests": "1m0.5s",
        },
        "openai",
    )
    assert (openai.limit, openai.remaining, openai.reset_after) == (500, 499, 60.5)
    bigcommerce = parse(
        {
            "X-Rate-Limit-Requests-Quota": "150",
            "X-Rate-Limit-Requests-Left": "10",
            "X-Rate-Limit-Time-Reset-Ms": "2500",
        },
        "bigcommerce",
    )
    assert (bigcommerce.limit, bigcommerce.remaining, bigcommerce.reset_after) == (150, 10, 2.5)
    lightspeed = parse(
        {"X-LS-API-Bucket-Level": "30/60", "X-LS-API-Drip-Rate": "2"}, "lightspeed_bucket"
    )
    assert (lightspeed.limit, lightspeed.remaining, lightspeed.reset_after) == (60, 30, 15.0)


def test_garbage_headers_yield_nothing_instead_of_raising() -> None:
    """Malformed values are ignored: feedback is advisory and must not fail a call."""
    feedback = parse(
        {
            "X-Shopify-Shop-Api-Call-Limit": "lots",
            "X-App-Usage": "{not json",
            "Sforce-Limit-Info": "api-usage=x/y",
            "X-LS-API-Bucket-Level": "a/b",
        },
        "shopify_call_limit",
        "meta_usage",
        "sforce_limit_info",
        "lightspeed_bucket",
    )
    assert feedback.empty


def test_earlier_parsers_win_and_later_fill_gaps() -> None:
    """Parsers listed first take precedence; later ones only fill missing fields."""
    feedback = parse(
        {"X-Shopify-Shop-Api-Call-Limit": "39/40", "Retry-After": "2.0"},
        "shopify_call_limit",
        "retry_after",
    )
    assert (feedback.remaining, feedback.retry_after) == (1, 2.0)
