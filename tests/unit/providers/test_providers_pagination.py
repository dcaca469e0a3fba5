"""Pagination walkers: end signals, loop guards and item extraction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from providers.auth import BearerToken
from providers.client import ProviderClient
from providers.errors import MalformedResponse
from providers.json_path import dig
from providers.pagination import extract_items
from providers.sandbox import GENERIC_ENTRY, Sandbox
from providers.spec import ProviderSpec

Handler = Callable[[httpx.Request], httpx.Response]


def client_with(pagination: dict[str, Any], handler: Handler) -> ProviderClient:
    entry = {**GENERIC_ENTRY, "pagination": pagination}
    return ProviderClient(
        ProviderSpec.model_validate(entry),
        {},
        BearerToken("t"),
        transport=httpx.MockTransport(handler),
    )


def test_generic_page_numbers_to_total_pages() -> None:
    """The generic provider pages by number until meta.total_pages."""
    sandbox = Sandbox(seed=3)
    spec = ProviderSpec.model_validate({**GENERIC_ENTRY, "base_url": "http://sandbox.test/generic"})
    token = sandbox.issue_token("generic")
    client = ProviderClient(
        spec, {}, BearerToken(token.access_token), transport=sandbox.transport()
    )
    pages = list(client.paginate("/items"))
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert [item for p in pages for item in p.items] == sandbox.records("generic")


def test_repeated_cursor_stops_the_walk() -> None:
    """A provider returning the same cursor forever cannot loop a sync."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"items": [{"id": 1}], "next": "same"})

    pagination = {
        "style": "cursor",
        "cursor_param": "c",
        "next_cursor_path": "next",
        "items_path": "items",
    }
    pages = list(client_with(pagination, handler).paginate("/x"))
    assert len(pages) == 2 and len(calls) == 2


def test_last_item_cursor_stops_on_short_page() -> None:
    """Without has_more, a last-item cursor stops when a page is shorter than asked."""

    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", "0"))
        items = [{"id": i} for i in range(after + 1, min(after + 3, 5) + 1)]
        return httpx.Response(200, json=items)

    pagination = {
        "style": "cursor",
        "cursor_param": "after",
        "last_item_field": "id",
        "limit_param": "limit",
        "page_size": 3,
    }
    pages = list(client_with(pagination, handler).paginate("/x"))
    assert [[i["id"] for i in p.items] for p in pages] == [[1, 2, 3], [4, 5]]


def test_offset_stops_at_total() -> None:
    """Offset paging stops once the reported total is reached, even on full pages."""

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={"rows": [offset, offset + 1], "total": 4})

    pagination = {
        "style": "offset",
        "offset_param": "offset",
        "limit_param": "limit",
        "page_size": 2,
        "items_path": "rows",
        "total_path": "total",
    }
    pages = list(client_with(pagination, handler).paginate("/x"))
    assert [p.items for p in pages] == [[0, 1], [2, 3]]


def test_next_url_relative_and_max_pages() -> None:
    """Root-relative next URLs resolve against the base origin; max_pages bounds the walk."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        n = len(seen)
        return httpx.Response(200, json={"value": [n], "next": f"/generic/page/{n + 1}"})

    pagination = {"style": "next_url", "next_url_path": "next", "items_path": "value"}
    pages = list(client_with(pagination, handler).paginate("/items", max_pages=3))
    assert len(pages) == 3
    assert seen == ["/generic/items", "/generic/page/2", "/generic/page/3"]


def test_dig_handles_dotted_keys() -> None:
    """Keys containing dots, like Graph's @odata.nextLink, are found whole."""
    body = {"@odata.nextLink": "u", "paging": {"next": {"after": "9"}}}
    assert dig(body, "@odata.nextLink") == "u"
    assert dig(body, "paging.next.after") == "9"
    assert dig(body, "paging.prev") is None


def test_dig_steps_into_lists_by_index() -> None:
    """A number in the path indexes a list; out of range or on a non-list is None."""
    body = {"entry": [{"id": "p1"}], "n": 3}
    assert dig(body, "entry.0.id") == "p1"
    assert dig([{"a": 1}], "0.a") == 1
    assert dig(body, "entry.1.id") is None
    assert dig(body, "n.0") is None
    assert dig(body, "") is body


def test_extract_items_auto_and_errors() -> None:
    """With no items_path the only list in the body is used; ambiguity is malformed."""
    assert extract_items({"customers": [1, 2], "count": 2}, None, "p") == [1, 2]
    assert extract_items([3], None, "p") == [3]
    assert extract_items({"QueryResponse": {}}, "QueryResponse.Customer", "p") == []
    with pytest.raises(MalformedResponse):
        extract_items({"a": [1], "b": [2]}, None, "p")
    with pytest.raises(MalformedResponse):
        extract_items({"data": "oops"}, "data", "p")
