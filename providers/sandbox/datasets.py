"""Mutable record sets per (provider, model) that the sandbox's list endpoints serve.

Profiles generate a fixed list of records for one endpoint each. Syncs need more: several
models per provider, records a test adds, changes and deletes between runs, updated-at
stamps an incremental sync can filter on, and tombstones for providers that report
deletions (Google's ``status: cancelled``). A :class:`Dataset` holds one model's records in
insertion order with a logical clock: every change bumps ``version`` and re-stamps the
record's updated-at (``2026-01-01T00:00:00Z`` plus ``version`` seconds), so filtering is
deterministic. Endpoints and their page shapes live in :mod:`.dataset_endpoints`.

Tests use ``sandbox.datasets.dataset("hubspot", "contacts")``; an endpoint a profile also
serves (HubSpot contacts) is served from the dataset only once the test asked for it, so
tests of the profiles keep their seeded records.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from providers.sandbox.profile import Call

BASE_TIME = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_SEED_COUNT = 25


def stamp(version: int) -> str:
    """The updated-at of a change made at ``version`` (ISO 8601, UTC, second precision)."""
    return (BASE_TIME + timedelta(seconds=version)).strftime("%Y-%m-%dT%H:%M:%SZ")


Render = Callable[["Endpoint", "Call", "Dataset"], httpx.Response]


@dataclass(frozen=True)
class Endpoint:
    """One list endpoint: where it is, how it pages, what its records look like."""

    provider: str
    model: str
    path: str  # a regular expression matched against the path after the account
    render: Render
    items_key: str
    make: Callable[[int], dict[str, Any]]  # the record of index n (with its id)
    id_field: str
    stamp_path: str  # dotted path of the updated-at field
    since_param: str | None = None  # the parameter holding an updated-since timestamp
    replaces_profile: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


class Dataset:
    """The records of one (provider, model); every method is thread-safe."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.version = 0
        self.token_horizon = 0  # sync tokens issued before this version answer 410
        self._rows: dict[str, tuple[dict[str, Any], int]] = {}
        self._tombstones: dict[str, int] = {}
        self._next_index = 1
        self._raw = 0
        self._listed: tuple[int, list[dict[str, Any]]] = (-1, [])  # (version, live records)
        self._lock = threading.Lock()

    def add(self, count: int = 1) -> list[dict[str, Any]]:
        """Add ``count`` generated records; returns them."""
        added = []
        with self._lock:
            for _ in range(count):
                record = self.endpoint.make(self._next_index)
                self._next_index += 1
                added.append(self._store(record))
        return added

    def put(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Add or replace a record by its id (re-stamped as changed now)."""
        with self._lock:
            return self._store(dict(record))

    def put_raw(self, record: Any) -> None:
        """Serve ``record`` exactly as given (no id or stamp checks): malformed-page tests."""
        with self._lock:
            self._raw += 1
            self.version += 1
            self._rows[f"\x00raw{self._raw}"] = (record, self.version)

    def update(self, external_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` (top-level keys) into a record; it counts as changed now."""
        with self._lock:
            record = {**self._rows[str(external_id)][0], **changes}
            return self._store(record)

    def delete(self, external_id: str) -> None:
        """Remove a record; providers with tombstones report it as deleted."""
        with self._lock:
            self.version += 1
            del self._rows[str(external_id)]
            self._tombstones[str(external_id)] = self.version

    def expire_sync_tokens(self) -> None:
        """Invalidate every sync token issued so far (the provider answers 410 Gone)."""
        with self._lock:
            self.token_horizon = self.version + 1

    def ids(self) -> set[str]:
        """Ids of the live records."""
        with self._lock:
            return {k for k in self._rows if not k.startswith("\x00")}

    def records(self, since: str | None = None) -> list[dict[str, Any]]:
        """Live records in insertion order (a shared list: do not mutate), only those updated
        after ``since`` if given."""
        with self._lock:
            if self._listed[0] != self.version:  # pages of an unchanged set share one list
                self._listed = (self.version, [r for r, _ in self._rows.values()])
            rows = self._listed[1]
        if since is None:
            return rows
        return [r for r in rows if not isinstance(r, dict) or (self._stamp_of(r) or "") > since]

    def changes_since(self, version: int) -> tuple[list[dict[str, Any]], list[str]]:
        """Records changed after ``version`` and ids deleted after it."""
        with self._lock:
            changed = [r for r, v in self._rows.values() if v > version]
            deleted = [i for i, v in self._tombstones.items() if v > version]
        return changed, deleted

    def _store(self, record: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        _set_path(record, self.endpoint.stamp_path, stamp(self.version))
        key = str(record[self.endpoint.id_field])
        self._rows[key] = (record, self.version)
        self._tombstones.pop(key, None)
        return record

    def _stamp_of(self, record: dict[str, Any]) -> str | None:
        node: Any = record
        for part in self.endpoint.stamp_path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) else None


class Datasets:
    """Every dataset of one sandbox, created on first use with generated records."""

    def __init__(self, endpoints: list[Endpoint] | None = None) -> None:
        if endpoints is None:
            from providers.sandbox.dataset_endpoints import ENDPOINTS

            endpoints = ENDPOINTS
        self.endpoints = endpoints
        self.fetches: Counter[tuple[str, str, str]] = Counter()  # (provider, model, query)
        self._sets: dict[tuple[str, str], Dataset] = {}
        self._lock = threading.Lock()

    def dataset(self, provider: str, model: str, *, seed: int = DEFAULT_SEED_COUNT) -> Dataset:
        """The dataset of (provider, model); a new one starts with ``seed`` records."""
        with self._lock:
            found = self._sets.get((provider, model))
            if found is None:
                endpoint = next(
                    (e for e in self.endpoints if (e.provider, e.model) == (provider, model)),
                    None,
                )
                if endpoint is None:
                    raise LookupError(f"the sandbox has no {provider} {model} endpoint")
                found = self._sets[(provider, model)] = Dataset(endpoint)
                found.add(seed)
            return found

    def fetch_count(self, provider: str, model: str) -> int:
        """How many pages of (provider, model) were served."""
        with self._lock:
            return sum(n for (p, m, _), n in self.fetches.items() if (p, m) == (provider, model))

    def route(self, provider: str, call: Call) -> httpx.Response | None:
        """Serve ``call`` if it is a dataset endpoint's; None lets the profile answer."""
        import re

        for endpoint in self.endpoints:
            if endpoint.provider != provider or not re.fullmatch(endpoint.path, call.path):
                continue
            with self._lock:
                exists = (provider, endpoint.model) in self._sets
            if endpoint.replaces_profile and not exists:
                return None
            dataset = self.dataset(provider, endpoint.model)
            with self._lock:
                self.fetches[(provider, endpoint.model, call.request.url.query.decode())] += 1
            return endpoint.render(endpoint, call, dataset)
        return None


def _set_path(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = record
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
