"""Key ring encryption, rotation and secret masking."""

from __future__ import annotations

import base64

import pytest

from storage.crypto import DecryptionError, KeyRing, KeyRingError, Secret, generate_key_item

AD = "switchyard:credential:org:conn:access_token"


def test_round_trip_returns_secret_with_same_plaintext() -> None:
    """Decrypting what was encrypted yields the plaintext, wrapped in a Secret."""
    ring = KeyRing([generate_key_item("k1")])
    ciphertext = ring.encrypt("tok-123", associated_data=AD)
    assert ring.decrypt(ciphertext, associated_data=AD).reveal() == "tok-123"


def test_ciphertext_format_names_version_and_key() -> None:
    """Ciphertexts read v1:<kid>:<base64> and never contain the plaintext."""
    ring = KeyRing([generate_key_item("k2"), generate_key_item("k1")])
    ciphertext = ring.encrypt("tok-123", associated_data=AD)
    version, kid, payload = ciphertext.split(":")
    assert (version, kid) == ("v1", "k2")
    assert len(base64.b64decode(payload)) == 12 + len("tok-123") + 16
    assert "tok-123" not in ciphertext


def test_same_plaintext_encrypts_differently_each_time() -> None:
    """A fresh nonce per encryption: equal tokens do not give equal ciphertexts."""
    ring = KeyRing([generate_key_item("k1")])
    assert ring.encrypt("same", associated_data=AD) != ring.encrypt("same", associated_data=AD)


def test_other_associated_data_fails_without_leaking_plaintext() -> None:
    """A ciphertext moved to another row/column does not decrypt; the error hides the value."""
    ring = KeyRing([generate_key_item("k1")])
    ciphertext = ring.encrypt("tok-secret", associated_data=AD)
    with pytest.raises(DecryptionError) as caught:
        ring.decrypt(ciphertext, associated_data=AD.replace("conn", "other"))
    assert "tok-secret" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_tampered_ciphertext_is_rejected() -> None:
    """Flipping one byte of the sealed payload makes decryption fail."""
    ring = KeyRing([generate_key_item("k1")])
    version, kid, payload = ring.encrypt("tok", associated_data=AD).split(":")
    blob = bytearray(base64.b64decode(payload))
    blob[-1] ^= 1
    tampered = f"{version}:{kid}:{base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(DecryptionError, match="failed authentication"):
        ring.decrypt(tampered, associated_data=AD)


@pytest.mark.parametrize(
    "ciphertext",
    ["plain", "v2:k1:AAAA", "v1:k1", "v1:k1:not base64!", "v1:k1:AAAA", "v1:k1:a:b"],
)
def test_malformed_ciphertexts_raise_decryption_error(ciphertext: str) -> None:
    """Anything that is not a well-formed v1 ciphertext raises DecryptionError."""
    ring = KeyRing([generate_key_item("k1")])
    with pytest.raises(DecryptionError):
        ring.decrypt(ciphertext, associated_data=AD)


def test_unknown_key_id_is_named_in_the_error() -> None:
    """A ciphertext under a key that left the ring says which key is missing."""
    old = KeyRing([generate_key_item("gone")])
    ciphertext = old.encrypt("tok", associated_data=AD)
    with pytest.raises(DecryptionError, match="'gone'"):
        KeyRing([generate_key_item("k1")]).decrypt(ciphertext, associated_data=AD)


def test_older_keys_decrypt_and_rotation_moves_to_the_primary() -> None:
    """After adding a new primary, old ciphertexts still decrypt and are flagged for rotation."""
    old_item = generate_key_item("k1")
    ciphertext = KeyRing([old_item]).encrypt("tok", associated_data=AD)
    ring = KeyRing([generate_key_item("k2"), old_item])
    assert ring.needs_rotation(ciphertext)
    assert ring.decrypt(ciphertext, associated_data=AD).reveal() == "tok"
    rotated = ring.reencrypt(ciphertext, associated_data=AD)
    assert rotated.startswith("v1:k2:")
    assert not ring.needs_rotation(rotated)
    assert ring.decrypt(rotated, associated_data=AD).reveal() == "tok"


def test_parse_accepts_comma_and_space_separated_items() -> None:
    """One setting string can hold the whole ring, newest key first."""
    ring = KeyRing.parse(f"{generate_key_item('b')}, {generate_key_item('a')}\n")
    assert ring.kids == ("b", "a")
    assert ring.primary_kid == "b"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "empty"),
        (["no-separator"], "expected 'kid:base64-key'"),
        (["bad kid!:" + base64.b64encode(b"x" * 32).decode()], "key id"),
        (["k1:%%%notbase64"], "not base64"),
        (["k1:" + base64.b64encode(b"short-key-material").decode()], "32 bytes"),
    ],
)
def test_bad_key_ring_items_raise_without_key_material(items: list[str], message: str) -> None:
    """Bad items raise KeyRingError saying what is wrong, never echoing the key."""
    with pytest.raises(KeyRingError, match=message) as caught:
        KeyRing(items)
    for item in items:
        _, _, key = item.partition(":")
        if key:
            assert key not in str(caught.value)
    assert "short-key-material" not in str(caught.value)


def test_duplicate_key_ids_are_rejected() -> None:
    """Two keys with one id would make decryption ambiguous."""
    with pytest.raises(KeyRingError, match="duplicate key id 'k1'"):
        KeyRing([generate_key_item("k1"), generate_key_item("k1")])


def test_generate_key_item_makes_a_32_byte_key_and_checks_the_id() -> None:
    """Generated items load into a ring; an unusable kid is refused."""
    kid, _, key = generate_key_item("2026-11").partition(":")
    assert kid == "2026-11"
    assert len(base64.b64decode(key)) == 32
    with pytest.raises(KeyRingError):
        generate_key_item("has:colon")


def test_key_ring_repr_shows_ids_only() -> None:
    """Printing a ring shows key ids, not keys."""
    item = generate_key_item("k1")
    assert repr(KeyRing([item])) == "KeyRing(kids=['k1'])"
    assert item.partition(":")[2] not in repr(KeyRing([item]))


def test_secret_masks_itself_everywhere_but_reveal() -> None:
    """repr, str and f-strings show ****; reveal() returns the value."""
    secret = Secret("hunter2")
    assert repr(secret) == "Secret('****')"
    assert str(secret) == "****"
    assert f"{secret}" == "****"
    assert "hunter2" not in repr([secret, {"k": secret}])
    assert secret.reveal() == "hunter2"


def test_secrets_compare_by_value() -> None:
    """Two Secrets with the same value are equal; a Secret never equals a plain string."""
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
