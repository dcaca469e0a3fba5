"""The catalog loader: lookups, overrides and precise refusal of bad files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from providers.errors import CatalogError, ProviderError, UnknownProviderError
from providers.registry import load_catalog, load_entry
from providers.spec import OAuth2CodeAuth

Writer = Callable[..., Path]


def test_lookup_by_name_alias_and_case(write_catalog: Writer, entry: dict[str, Any]) -> None:
    """Names and aliases resolve case-insensitively, with '-' equal to '_'."""
    catalog = load_catalog(write_catalog(entry))
    assert catalog.get("acme").name == "acme"
    assert catalog.get("ACME-CRM").name == "acme"
    assert "acme_crm" in catalog
    assert "nope" not in catalog
    assert 42 not in catalog
    assert catalog.names() == ["acme"]
    assert len(catalog) == 1
    assert [spec.name for spec in catalog] == ["acme"]


def test_unknown_provider_suggests_close_matches(
    write_catalog: Writer, entry: dict[str, Any]
) -> None:
    """An unknown name raises a LookupError that is also a ProviderError and lists close names."""
    catalog = load_catalog(write_catalog(entry))
    with pytest.raises(UnknownProviderError) as info:
        catalog.get("acmee")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, ProviderError)
    assert "did you mean acme" in str(info.value)


def test_overrides_replace_urls_and_merge_rate_limit(
    write_catalog: Writer, entry: dict[str, Any]
) -> None:
    """Settings overrides replace base/token URLs and merge into the rate-limit policy."""
    overrides = {
        "acme": {
            "base_url": "http://127.0.0.1:9/acme/{tenant}",
            "token_url": "http://127.0.0.1:9/acme/token",
            "rate_limit": {"limit": "50"},
            "client_secret": "not-a-catalog-field",
        }
    }
    spec = load_catalog(write_catalog(entry), overrides=overrides).get("acme")
    assert spec.base_url_for({"tenant": "abc"}) == "http://127.0.0.1:9/acme/abc"
    assert isinstance(spec.auth, OAuth2CodeAuth)
    assert spec.auth.token_url == "http://127.0.0.1:9/acme/token"
    assert spec.rate_limit.limit == 50
    assert spec.rate_limit.key == "acme:{tenant}"


def test_override_of_unknown_field_is_refused(write_catalog: Writer, entry: dict[str, Any]) -> None:
    """An override key that is neither overridable nor a secret names its env variable."""
    with pytest.raises(CatalogError, match="SWITCHYARD_PROVIDERS__ACME__BASE_ULR"):
        load_catalog(write_catalog(entry), overrides={"acme": {"base_ulr": "http://x"}})


def test_override_for_unknown_provider_is_refused(
    write_catalog: Writer, entry: dict[str, Any]
) -> None:
    """Overrides for a provider the catalog lacks are an error, not silently ignored."""
    with pytest.raises(CatalogError, match="unknown provider"):
        load_catalog(write_catalog(entry), overrides={"acne": {"base_url": "http://x"}})


def test_override_is_validated_like_the_file(write_catalog: Writer, entry: dict[str, Any]) -> None:
    """A templated override using an undeclared placeholder is refused with its field path."""
    with pytest.raises(CatalogError, match=r"base_url: placeholder\(s\) \['region'\]"):
        load_catalog(write_catalog(entry), overrides={"acme": {"base_url": "https://{region}.x"}})


def _corrupt(entry: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = entry
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return entry


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("display_name", _DELETE, r"display_name: Field required"),
        ("auth.token_urll", "https://x", r"auth.token_urll: Extra inputs are not permitted"),
        ("auth.mode", "oauth3", r"auth: Input tag 'oauth3'"),
        (
            "auth.token_lifetime_seconds",
            -5,
            r"auth.token_lifetime_seconds: Input should be greater",
        ),
        ("rate_limit.key", "acme:{shop}", r"rate_limit.key: placeholder\(s\) \['shop'\]"),
        (
            "rate_limit.feedback",
            ["x_ratelimit", "magic"],
            r"rate_limit.feedback\[1\]: Input should be",
        ),
        ("pagination.style", "scroll", r"pagination: Input tag 'scroll'"),
        ("account_identifiers.0.example", "UPPER", r"example 'UPPER' does not match"),
        ("categories", ["crm", "gaming"], r"categories\[1\]: Input should be"),
        ("base_url", "https://{tenant.__class__}.x", r"bad placeholder"),
        ("hooks", "does_not_exist", r"hooks: no module providers/hooks/does_not_exist.py"),
        ("unconfirmed", ["rate_limit.bogus"], r"'rate_limit.bogus' is not a field"),
        ("name", "other", r"name: must match the file name 'acme'"),
    ],
)
def test_corrupted_entry_is_refused_precisely(
    tmp_path: Path, entry: dict[str, Any], path: str, value: Any, expected: str
) -> None:
    """Each corruption is refused with the file, the provider and the field path."""
    import yaml

    target = tmp_path / "acme.yaml"
    target.write_text(yaml.safe_dump(_corrupt(entry, path, value)))
    with pytest.raises(CatalogError, match=expected) as info:
        load_entry(target)
    assert str(target) in str(info.value)
    assert "'acme'" in str(info.value) or "'other'" in str(info.value)


def test_invalid_yaml_and_non_mapping_are_refused(write_catalog: Writer) -> None:
    """A file that is not YAML, or not a mapping, is refused naming the file."""
    directory = write_catalog(raw={"broken.yaml": "name: [unclosed\n"})
    with pytest.raises(CatalogError, match=r"broken\.yaml: not valid YAML"):
        load_catalog(directory)
    (directory / "broken.yaml").write_text("- just\n- a list\n")
    with pytest.raises(CatalogError, match="top level must be a mapping"):
        load_catalog(directory)


def test_alias_collision_is_refused(write_catalog: Writer, entry: dict[str, Any]) -> None:
    """Two entries claiming the same alias cannot both load."""
    other = {**entry, "name": "zeta", "aliases": ["acme"]}
    with pytest.raises(CatalogError, match="alias 'acme' already names provider"):
        load_catalog(write_catalog(entry, other))


def test_bundled_catalog_loads_fast() -> None:
    """Loading every bundled file takes well under half a second."""
    started = time.perf_counter()
    catalog = load_catalog()
    assert time.perf_counter() - started < 0.5
    assert len(catalog) >= 2
