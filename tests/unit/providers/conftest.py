"""Shared fixtures: the bundled catalog and a writer of small catalog directories."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from providers.registry import Catalog, load_catalog
from providers.sandbox import Sandbox

MINIMAL_ENTRY: dict[str, Any] = {
    "name": "acme",
    "display_name": "Acme",
    "categories": ["crm"],
    "docs_url": "https://acme.example/docs",
    "aliases": ["acme-crm"],
    "auth": {
        "mode": "oauth2_code",
        "authorize_url": "https://{tenant}.acme.example/oauth/authorize",
        "token_url": "https://{tenant}.acme.example/oauth/token",
        "scopes": ["read"],
        "token_lifetime_seconds": 3600,
    },
    "account_identifiers": [
        {"name": "tenant", "pattern": "[a-z][a-z0-9-]{1,30}", "example": "mycompany"}
    ],
    "base_url": "https://{tenant}.acme.example/api/{api_version}",
    "api_version": "v2",
    "rate_limit": {"limit": 10, "period_seconds": 1, "key": "acme:{tenant}"},
    "pagination": {"style": "page", "page_param": "page", "items_path": "data"},
}


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def entry() -> dict[str, Any]:
    return copy.deepcopy(MINIMAL_ENTRY)


@pytest.fixture
def write_catalog(tmp_path: Path) -> Callable[..., Path]:
    def write(*entries: dict[str, Any], raw: dict[str, str] | None = None) -> Path:
        for item in entries:
            (tmp_path / f"{item['name']}.yaml").write_text(yaml.safe_dump(item))
        for filename, text in (raw or {}).items():
            (tmp_path / filename).write_text(text)
        return tmp_path

    return write


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(seed=7, clock=lambda: 1_000.0)


@pytest.fixture(scope="session")
def sandboxed_catalog() -> Catalog:
    """The bundled catalog pointed at the in-process sandbox through settings overrides."""
    return load_catalog(overrides=Sandbox().overrides("http://sandbox.test"))
