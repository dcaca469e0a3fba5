"""Webhook endpoint and delivery repositories: validation, scoping, secrets, rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from storage.crypto import KeyRing, generate_key_item
from storage.errors import InvalidFieldError, NotFoundError
from storage.repositories import EventRepository
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import (
    WebhookEndpointRepository,
    reencrypt_webhook_secrets,
)
from storage.types import utcnow
from tests.unit.storage.builders import keyring, org


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"url": "https://a:b@e.com/"}, "url"),
        ({"url": "https://e.com/" + "x" * 2000}, "url"),
        ({"url": "https://e.com/", "event_types": "QR_SCANNED"}, "event_types"),
        ({"url": "https://e.com/", "event_types": ["has space"]}, "event_types"),
        ({"url": "https://e.com/", "max_concurrency": 0}, "max_concurrency"),
        ({"url": "https://e.com/", "rate_limit_per_second": 10**6}, "rate_limit_per_second"),
        ({"url": "https://e.com/", "secret": "plain"}, "secret"),
        ({"url": "https://e.com/", "description": "d" * 501}, "description"),
    ],
)
def test_bad_endpoint_fields_name_the_field(
    sqlite_session: Session, fields: dict[str, object], field: str
) -> None:
    """Each malformed value is refused with the field's name."""
    repo = WebhookEndpointRepository(sqlite_session, org(sqlite_session).id, keyring())
    url = fields.pop("url")
    with pytest.raises(InvalidFieldError) as error:
        repo.create(url, **fields)  # type: ignore[arg-type]
    assert error.value.field == field


def test_secret_is_stored_encrypted_and_never_printed(sqlite_session: Session) -> None:
    """The whsec_ secret is returned once; the row holds only ciphertext; reprs hide both."""
    repo = WebhookEndpointRepository(sqlite_session, org(sqlite_session).id, keyring())
    issued = repo.create("https://e.com/in", event_types=["B", "A", "A"])
    plain = issued.secret.reveal()
    assert plain.startswith("whsec_") and Webhook(plain)  # a valid Standard Webhooks secret
    assert (
        issued.endpoint.encrypted_secret.startswith("v1:")
        and plain not in issued.endpoint.encrypted_secret
    )
    assert plain not in repr(issued.endpoint) + repr(issued) + str(issued.secret)
    assert issued.endpoint.event_types == ["A", "B"]


def test_endpoint_repr_shows_only_the_origin(sqlite_session: Session) -> None:
    """A token in a receiver URL's path or query string never reaches a repr."""
    repo = WebhookEndpointRepository(sqlite_session, org(sqlite_session).id, keyring())
    url = "https://hooks.e.com:8443/services/T0/B0/XsecretX?token=qsecret"
    shown = repr(repo.create(url).endpoint)
    assert "origin='https://hooks.e.com:8443'" in shown
    assert "XsecretX" not in shown and "qsecret" not in shown


def test_endpoints_are_scoped_to_their_org(sqlite_session: Session) -> None:
    """Another org's repository neither lists nor finds the endpoint."""
    ring = keyring()
    mine = WebhookEndpointRepository(sqlite_session, org(sqlite_session, "alpha").id, ring)
    theirs = WebhookEndpointRepository(sqlite_session, org(sqlite_session, "beta").id, ring)
    endpoint = mine.create("https://e.com/").endpoint
    assert theirs.list() == []
    with pytest.raises(NotFoundError):
        theirs.get(endpoint.id)
    with pytest.raises(NotFoundError):
        theirs.disable(endpoint.id)


def test_rotation_keeps_the_old_secret_for_the_grace_period(sqlite_session: Session) -> None:
    """Both secrets sign until the grace ends; afterwards only the new one."""
    repo = WebhookEndpointRepository(sqlite_session, org(sqlite_session).id, keyring())
    first = repo.create("https://e.com/")
    second = repo.rotate_secret(first.endpoint.id, grace=timedelta(hours=1))
    now = utcnow()
    assert [s.reveal() for s in repo.signing_secrets(second.endpoint, now)] == [
        second.secret.reveal(),
        first.secret.reveal(),
    ]
    later = now + timedelta(hours=2)
    assert [s.reveal() for s in repo.signing_secrets(second.endpoint, later)] == [
        second.secret.reveal()
    ]


def test_reencrypt_moves_secrets_to_the_primary_key(sqlite_session: Session) -> None:
    """After a key rotation every endpoint secret is re-encrypted under the new key, once."""
    old_item, new_item = generate_key_item("old"), generate_key_item("new")
    repo = WebhookEndpointRepository(sqlite_session, org(sqlite_session).id, KeyRing([old_item]))
    issued = repo.create("https://e.com/")
    repo.rotate_secret(issued.endpoint.id, grace=timedelta(hours=1))
    ring = KeyRing([new_item, old_item])
    assert reencrypt_webhook_secrets(sqlite_session, ring) == 1
    assert reencrypt_webhook_secrets(sqlite_session, ring) == 0
    only_new = WebhookEndpointRepository(
        sqlite_session, issued.endpoint.org_id, KeyRing([new_item])
    )
    endpoint = only_new.get(issued.endpoint.id)
    assert endpoint.encrypted_secret.startswith("v1:new:")
    assert len(only_new.signing_secrets(endpoint, utcnow())) == 2


def test_deliveries_are_unique_per_event_and_endpoint_and_ordered(sqlite_session: Session) -> None:
    """ensure() is idempotent; an older pending delivery holds back a newer one."""
    org_id = org(sqlite_session).id
    endpoint = (
        WebhookEndpointRepository(sqlite_session, org_id, keyring())
        .create("https://e.com/")
        .endpoint
    )
    events = EventRepository(sqlite_session, org_id)
    first, _ = events.record("A", {})
    second, _ = events.record("A", {})
    repo = WebhookDeliveryRepository(sqlite_session, org_id)
    one = repo.ensure(endpoint.id, first)
    assert repo.ensure(endpoint.id, first).id == one.id
    two = repo.ensure(endpoint.id, second)
    assert repo.earlier_pending(two) and not repo.earlier_pending(one)
    repo.mark(one, "failed", "gone")
    assert not repo.earlier_pending(two)
    assert repo.claim_replay(one.id, "job-2") and not repo.claim_replay(one.id, "job-3")


def test_pending_deliveries_follow_their_events_time(sqlite_session: Session) -> None:
    """The next pending delivery is the oldest event's, whichever delivery row came first."""
    org_id = org(sqlite_session).id
    endpoints = WebhookEndpointRepository(sqlite_session, org_id, keyring())
    endpoint = endpoints.create("https://e.com/").endpoint
    events = EventRepository(sqlite_session, org_id)
    older, _ = events.record("A", {})
    newer, _ = events.record("A", {})
    older.created_at = newer.created_at - timedelta(seconds=1)
    sqlite_session.flush()
    repo = WebhookDeliveryRepository(sqlite_session, org_id)
    late = repo.ensure(endpoint.id, newer)
    early = repo.ensure(endpoint.id, older)
    found = repo.next_pending(endpoint.id)
    assert found is not None and found.id == early.id
    assert repo.earlier_pending(late) and not repo.earlier_pending(early)


def test_delivery_reads_stay_in_the_org(sqlite_session: Session) -> None:
    """ensure_with and get_with_endpoint find the org's own rows and nobody else's."""
    mine, theirs = org(sqlite_session).id, org(sqlite_session, "other").id
    endpoint = WebhookEndpointRepository(sqlite_session, mine, keyring()).create("https://e.com/")
    event, _ = EventRepository(sqlite_session, mine).record("A", {})
    repo = WebhookDeliveryRepository(sqlite_session, mine)
    found, same_event, delivery = repo.ensure_with(endpoint.endpoint.id, event.id)
    assert (found.id, same_event.id, delivery.event_id) == (
        endpoint.endpoint.id,
        event.id,
        event.id,
    )
    assert repo.ensure_with(endpoint.endpoint.id, event.id)[2].id == delivery.id
    assert repo.get_with_endpoint(delivery.id) == (found, delivery)
    other = WebhookDeliveryRepository(sqlite_session, theirs)
    with pytest.raises(NotFoundError):
        other.ensure_with(endpoint.endpoint.id, event.id)
    with pytest.raises(NotFoundError):
        other.get_with_endpoint(delivery.id)
