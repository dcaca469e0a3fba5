"""Rate-limit feedback: what a provider's response says about our remaining budget.

Every response (successes included) is read by the parsers its catalog entry names, and the
results are folded into one normalized :class:`RateLimitFeedback`, so the shared limiter can
slow every worker down *before* the provider starts refusing. Parsers never raise: a garbled
header yields no information, not a failed call.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import httpx

from providers.spec import FeedbackParserName

#: Bodies larger than this are not decoded for feedback (Telegram/Discord 429s are tiny).
MAX_FEEDBACK_BODY = 16 * 1024


@dataclass(frozen=True)
class RateLimitFeedback:
    """Normalized budget information; ``None`` means the response did not say.

    ``reset_after`` and ``retry_after`` are seconds from the time the response was read;
    ``interval`` is the window ``limit`` counts over, in seconds, when the provider says it.
    ``daily_*`` describe a separate daily allocation (HubSpot, Salesforce, GoHighLevel).
    """

    limit: int | None = None
    remaining: int | None = None
    reset_after: float | None = None
    retry_after: float | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    interval: float | None = None

    def merged(self, other: RateLimitFeedback) -> RateLimitFeedback:
        """This feedback with gaps filled from ``other`` (earlier parsers win)."""
        updates = {
            f.name: getattr(other, f.name)
            for f in fields(self)
            if getattr(self, f.name) is None and getattr(other, f.name) is not None
        }
        return replace(self, **updates) if updates else self

    @property
    def empty(self) -> bool:
        """True when no parser found anything."""
        return all(getattr(self, f.name) is None for f in fields(self))


Parser = Callable[[httpx.Headers, Callable[[], Any], float], RateLimitFeedback]
NOTHING = RateLimitFeedback()


def parse_feedback(
    response: httpx.Response, parsers: Sequence[FeedbackParserName], now: float
) -> RateLimitFeedback:
    """Run the named parsers over ``response``; ``now`` is the epoch time it was read."""
    cache: list[Any] = []

    def body() -> Any:
        if not cache:
            cache.append(_decode_body(response))
        return cache[0]

    result = NOTHING
    for name in parsers:
        try:
            result = result.merged(PARSERS[name](response.headers, body, now))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            continue
    return result


def _decode_body(response: httpx.Response) -> Any:
    if len(response.content) > MAX_FEEDBACK_BODY:
        return None
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


# -- value helpers -------------------------------------------------------------------------

_LEADING_NUMBER = re.compile(r"\s*(-?[0-9]+(?:\.[0-9]+)?)")


def _number(value: str | None) -> float | None:
    """The leading number of a header value (``"100, 100;w=60"`` -> 100)."""
    if value is None:
        return None
    match = _LEADING_NUMBER.match(value)
    return float(match.group(1)) if match else None


def _int(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else max(int(number), 0)


def _seconds_until(value: float, now: float) -> float:
    """A reset given as delta seconds, epoch seconds or epoch milliseconds, as a delta."""
    if value > 1e12:
        value = value / 1000 - now
    elif value > 1e9:
        value = value - now
    return max(value, 0.0)


def _first(headers: httpx.Headers, *names: str) -> str | None:
    for name in names:
        if name in headers:
            return headers[name]
    return None


_DURATION = re.compile(r"([0-9.]+)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(value: str | None) -> float | None:
    """Go-style durations as OpenAI sends them: ``"1s"``, ``"6m0s"``, ``"20ms"``."""
    if not value:
        return None
    parts = _DURATION.findall(value)
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts) if parts else None


# -- parsers -------------------------------------------------------------------------------


def retry_after(headers: httpx.Headers, body: Callable[[], Any], now: float) -> RateLimitFeedback:
    """``Retry-After``: delta seconds or an HTTP date."""
    value = headers.get("retry-after")
    if value is None:
        return NOTHING
    number = _number(value)
    if number is not None and value.strip().replace(".", "", 1).isdigit():
        return RateLimitFeedback(retry_after=max(number, 0.0))
    when = email.utils.parsedate_to_datetime(value)
    return RateLimitFeedback(retry_after=max(when.timestamp() - now, 0.0))


def x_ratelimit(headers: httpx.Headers, body: Callable[[], Any], now: float) -> RateLimitFeedback:
    """``X-RateLimit-*`` and X's ``x-rate-limit-*``; reset as delta, epoch s or epoch ms."""
    reset_after = _number(headers.get("x-ratelimit-reset-after"))
    reset = _number(_first(headers, "x-ratelimit-reset", "x-rate-limit-reset"))
    if reset_after is None and reset is not None:
        reset_after = _seconds_until(reset, now)
    return RateLimitFeedback(
        limit=_int(_first(headers, "x-ratelimit-limit", "x-rate-limit-limit")),
        remaining=_int(_first(headers, "x-ratelimit-remaining", "x-rate-limit-remaining")),
        reset_after=reset_after,
        daily_remaining=_int(headers.get("x-daily-requests-left")),
    )


_STRUCTURED = re.compile(r"\b(limit|remaining|reset|r|t)\s*=\s*([0-9.]+)")


def ietf_ratelimit(
    headers: httpx.Headers, body: Callable[[], Any], now: float
) -> RateLimitFeedback:
    """IETF ``RateLimit-Limit/-Remaining/-Reset`` or the combined ``RateLimit`` field."""
    combined = headers.get("ratelimit")
    if combined is not None:
        found = dict(_STRUCTURED.findall(combined))
        remaining = found.get("remaining", found.get("r"))
        reset = found.get("reset", found.get("t"))
        return RateLimitFeedback(
            limit=_int(found.get("limit")),
            remaining=_int(remaining),
            reset_after=_number(reset),
        )
    return RateLimitFeedback(
        limit=_int(headers.get("ratelimit-limit")),
        remaining=_int(headers.get("ratelimit-remaining")),
        reset_after=_number(headers.get("ratelimit-reset")),
    )


def shopify_call_limit(
    headers: httpx.Headers, body: Callable[[], Any], now: float
) -> RateLimitFeedback:
    """``X-Shopify-Shop-Api-Call-Limit: 32/40`` (used/bucket size)."""
    value = headers.get("x-shopify-shop-api-call-limit")
    if value is None:
        return NOTHING
    used, _, size = value.partition("/")
    return RateLimitFeedback(limit=int(size), remaining=max(int(size) - int(used), 0))


def sforce_limit_info(
    headers: httpx.Headers, body: Callable[[], Any], now: float
) -> RateLimitFeedback:
    """``Sforce-Limit-Info: api-usage=25/15000``: the org's rolling 24 h allocation."""
    value = headers.get("sforce-limit-info")
    match = re.search(r"api-usage=([0-9]+)/([0-9]+)", value or "")
    if match is None:
        return NOTHING
    used, total = int(match.group(1)), int(match.group(2))
    return RateLimitFeedback(daily_limit=total, daily_remaining=max(total - used, 0))


def body_retry_after(
    headers: httpx.Headers, body: Callable[[], Any], now: float
) -> RateLimitFeedback:
    """``retry_after`` in a JSON body: Discord (top level) and Telegram (``parameters``)."""
    data = body()
    if not isinstance(data, dict):
        return NOTHING
    value = data.get("retry_after")
    params = data.get("parameters")
    if value is None and isinstance(params, dict):
        value = params.get("retry_after")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return RateLimitFeedback(retry_after=max(float(value), 0.0))
    return NOTHING


#: HubSpot's 429 bodies name the policy that bit; the rolling ones say their window.
HUBSPOT_POLICY_SECONDS = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0, "SECONDLY_ROLLING": 1.0}


def hubspot(headers: httpx.Headers, body: Callable[[], Any], now: float) -> RateLimitFeedback:
    """HubSpot's ``X-HubSpot-RateLimit-*`` (GoHighLevel copies it without ``HubSpot-``):
    ``Max`` per ``Interval-Milliseconds`` (or per the window of the 429 body's
    ``policyName``), and the daily allocation."""
    for prefix in ("x-hubspot-ratelimit-", "x-ratelimit-"):
        if prefix + "max" in headers or prefix + "daily-remaining" in headers:
            interval_ms = _number(headers.get(prefix + "interval-milliseconds"))
            return RateLimitFeedback(
                limit=_int(headers.get(prefix + "max")),
                remaining=_int(headers.get(prefix + "remaining")),
                daily_limit=_int(_first(headers, prefix + "daily", prefix + "limit-daily")),
                daily_remaining=_int(headers.get(prefix + "daily-remaining")),
                interval=interval_ms / 1000 if interval_ms else _policy_seconds(body()),
            )
    return NOTHING


def _policy_seconds(data: Any) -> float | None:
    if not isinstance(data, dict):
        return None
    return HUBSPOT_POLICY_SECONDS.get(str(data.get("policyName", "")).upper())


def meta_usage(headers: httpx.Headers, body: Callable[[], Any], now: float) -> RateLimitFeedback:
    """Meta usage percentages (``X-App-Usage``, ``X-Business-Use-Case-Usage``), out of 100."""
    percents: list[float] = []
    regain = 0.0
    app = headers.get("x-app-usage")
    if app:
        percents += [float(v) for v in json.loads(app).values() if isinstance(v, int | float)]
    buc = headers.get("x-business-use-case-usage")
    if buc:
        for entries in json.loads(buc).values():
            for entry in entries:
                percents += [
                    float(entry.get(key, 0))
                    for key in ("call_count", "total_time", "total_cputime")
                ]
                regain = max(regain, float(entry.get("estimated_time_to_regain_access", 0)))
    if not percents:
        return NOTHING
    used = min(max(percents), 100.0)
    # Percentages, not a request count: ``limit`` stays unset so nobody adopts "100".
    return RateLimitFeedback(remaining=int(100 - used), retry_after=regain * 60 if regain else None)


def openai(headers: httpx.Headers, body: Callable[[], Any], now: float) -> RateLimitFeedback:
    """OpenAI's per-minute request budget with Go-style duration resets."""
    return RateLimitFeedback(
        limit=_int(headers.get("x-ratelimit-limit-requests")),
        remaining=_int(headers.get("x-ratelimit-remaining-requests")),
        reset_after=_duration(headers.get("x-ratelimit-reset-requests")),
    )


def bigcommerce(headers: httpx.Headers, body: Callable[[], Any], now: float) -> RateLimitFeedback:
    """BigCommerce's ``X-Rate-Limit-Requests-Quota/-Left`` and ``-Time-Reset-Ms``."""
    reset_ms = _number(headers.get("x-rate-limit-time-reset-ms"))
    return RateLimitFeedback(
        limit=_int(headers.get("x-rate-limit-requests-quota")),
        remaining=_int(headers.get("x-rate-limit-requests-left")),
        reset_after=None if reset_ms is None else reset_ms / 1000,
    )


def lightspeed_bucket(
    headers: httpx.Headers, body: Callable[[], Any], now: float
) -> RateLimitFeedback:
    """Lightspeed's leaky bucket: ``X-LS-API-Bucket-Level: 12.5/60`` and a drip rate."""
    value = headers.get("x-ls-api-bucket-level")
    if value is None:
        return NOTHING
    level_text, _, size_text = value.partition("/")
    level, size = float(level_text), float(size_text)
    drip = _number(headers.get("x-ls-api-drip-rate")) or 1.0
    return RateLimitFeedback(
        limit=int(size), remaining=max(int(size - level), 0), reset_after=level / drip
    )


PARSERS: Mapping[str, Parser] = {
    "retry_after": retry_after,
    "x_ratelimit": x_ratelimit,
    "ietf_ratelimit": ietf_ratelimit,
    "shopify_call_limit": shopify_call_limit,
    "sforce_limit_info": sforce_limit_info,
    "body_retry_after": body_retry_after,
    "hubspot": hubspot,
    "meta_usage": meta_usage,
    "openai": openai,
    "bigcommerce": bigcommerce,
    "lightspeed_bucket": lightspeed_bucket,
}
