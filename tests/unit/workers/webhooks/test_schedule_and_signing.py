"""The delivery retry schedule as a RetryPolicy, and Standard Webhooks signing."""

from __future__ import annotations

import random
import time

import pytest
from standardwebhooks import Webhook

from contract.envelope import Kind
from storage.crypto import Secret
from storage.repositories.webhook_endpoints import generate_secret
from switchyard.runtime import kind_overrides
from switchyard.settings import load_settings
from workers.errors import DeferredJobError, Verdict, retry_after_of, verdict_for
from workers.retry_policy import RetryPolicy, policy_for
from workers.webhooks.delivery import DeliveryFailed
from workers.webhooks.sender import parse_retry_after
from workers.webhooks.signing import signature_header, signed_headers


def test_delivery_policy_follows_the_documented_schedule() -> None:
    """Eight attempts: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±10 %)."""
    overrides = kind_overrides(load_settings(_env_file=None))
    policy = policy_for(Kind.DELIVER, RetryPolicy(), kind_overrides=overrides)
    assert policy.max_attempts == 8
    rng = random.Random(7)
    schedule_ms = (5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000)
    for attempt, expected in enumerate(schedule_ms, start=1):
        delay = policy.backoff_ms(attempt, rng)
        assert expected * 0.9 <= delay <= expected * 1.1


def test_schedule_without_jitter_is_exact_and_retry_after_wins_when_longer() -> None:
    """Jitter 0 gives the schedule itself; a longer Retry-After replaces the delay."""
    policy = RetryPolicy(schedule_ms=(0, 100, 200), max_attempts=3, jitter=0)
    assert [policy.backoff_ms(n) for n in (1, 2)] == [100, 200]
    assert policy.delay_ms(1, retry_after_s=5) == 5_000
    assert policy.delay_ms(1, retry_after_s=0.01) == 100


def test_other_kinds_keep_exponential_backoff() -> None:
    """The schedule applies to deliveries only."""
    overrides = kind_overrides(load_settings(_env_file=None))
    assert policy_for(Kind.ACTION, RetryPolicy(), kind_overrides=overrides).schedule_ms == ()


def test_bad_schedules_are_refused() -> None:
    """Negative delays and jitter outside [0, 1] are configuration errors."""
    with pytest.raises(ValueError, match="schedule"):
        RetryPolicy(schedule_ms=(0, -1))
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(schedule_ms=(0,), jitter=2)


def test_schedule_setting_is_validated() -> None:
    """SWITCHYARD_WEBHOOKS__RETRY_SCHEDULE_SECONDS takes a comma list of non-negative delays."""
    settings = load_settings(_env_file=None, webhooks={"retry_schedule_seconds": "0,1,2"})
    assert settings.webhooks.retry_schedule_seconds == [0, 1, 2]
    with pytest.raises(Exception, match="RETRY_SCHEDULE_SECONDS"):
        load_settings(_env_file=None, webhooks={"retry_schedule_seconds": "0,-1"})
    with pytest.raises(Exception, match="ALLOWED_PRIVATE_NETWORKS"):
        load_settings(_env_file=None, webhooks={"allowed_private_networks": "not-a-net"})


def test_deferral_and_receiver_retry_after_are_classified() -> None:
    """A closed gate defers without an attempt; a receiver's Retry-After reaches the backoff."""
    assert verdict_for(DeferredJobError("busy", retry_after=0.5)) is Verdict.DEFER
    assert retry_after_of(DeferredJobError("busy", retry_after=0.5)) == 0.5
    failed = DeliveryFailed("HTTP 429", retry_after=30)
    assert verdict_for(failed) is Verdict.RETRY and retry_after_of(failed) == 30


def test_retry_after_parses_seconds_and_dates() -> None:
    """Delta-seconds and HTTP dates are understood; garbage is ignored."""
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_standardwebhooks_verifies_our_signature() -> None:
    """The official package accepts what we sign, and rejects a changed body."""
    secret = generate_secret()
    body = b'{"type":"QR_SCANNED","data":{"qr":"\xc3\xa9"}}'
    headers = signed_headers("msg_1", int(time.time()), body, [secret])
    assert Webhook(secret.reveal()).verify(body, headers)["type"] == "QR_SCANNED"
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(secret.reveal()).verify(body + b" ", headers)


def test_signature_matches_the_spec_example() -> None:
    """The Standard Webhooks spec's published example signature is reproduced exactly."""
    secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    header = signature_header("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, [secret])
    assert header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_several_secrets_give_space_separated_signatures() -> None:
    """One v1 signature per active secret, in order."""
    first, second = generate_secret(), generate_secret()
    header = signature_header("msg_1", 1_700_000_000, b"{}", [first, second])
    assert [part.split(",")[0] for part in header.split(" ")] == ["v1", "v1"]
    assert header.split(" ")[0] == signature_header("msg_1", 1_700_000_000, b"{}", [first])
