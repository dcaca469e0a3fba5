"""Sync definitions as data, the page-by-page walk from a checkpoint, and sandbox datasets."""

from __future__ import annotations

from typing import Any

import pytest

from providers.errors import CatalogError
from providers.pagination import first_request, next_request
from providers.registry import load_catalog
from providers.sandbox.datasets import Datasets, stamp
from providers.spec_pagination import (
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    OffsetPagination,
    PagePagination,
    PageTokenPagination,
)
from providers.syncs.spec import load_sync_models, parse_models
from providers.syncs.transforms import TRANSFORMS, transform_named

REQUIRED = {
    ("hubspot", "contacts"),
    ("hubspot", "deals"),
    ("shopify", "products"),
    ("shopify", "orders"),
    ("salesforce", "contacts"),
    ("stripe", "customers"),
    ("stripe", "invoices"),
    ("google_calendar", "events"),
    ("quickbooks", "customers"),
    ("calendly", "scheduled_events"),
    ("klaviyo", "profiles"),
    ("airtable", "records"),
    ("square", "catalog"),
    ("mailchimp", "members"),
    ("pipedrive", "persons"),
}


def test_shipped_definitions_cover_the_required_models_of_catalog_providers() -> None:
    """Every model the issue names is defined, for a provider the catalog knows."""
    models = load_sync_models()
    catalog = load_catalog()
    assert {(s.provider, s.model) for s in models} >= REQUIRED
    for spec in models:
        assert spec.provider in catalog
        assert spec.transform is None or spec.transform in TRANSFORMS


def test_every_shipped_definition_has_a_sandbox_endpoint() -> None:
    """Each definition can run against the sandbox (a dataset endpoint serves it)."""
    served = {(e.provider, e.model) for e in Datasets().endpoints}
    assert {(s.provider, s.model) for s in load_sync_models()} <= served


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"hubspot": {"contacts": {"path": "/x"}}}, "hubspot.contacts: id_path: Field required"),
        ({"hubspot": {"Bad Name": {"path": "/x", "id_path": "id"}}}, "hubspot.Bad Name: model"),
        ({"hubspot": ["contacts"]}, "hubspot: expected a mapping of models"),
        (
            {"x": {"m": {"path": "/x", "id_path": "id", "incremental": {"style": "magic"}}}},
            "x.m: incremental.style",
        ),
    ],
)
def test_bad_definitions_fail_naming_provider_model_and_field(
    raw: dict[str, Any], message: str
) -> None:
    """A definition error names where it is, so a typo fails at start-up."""
    with pytest.raises(CatalogError, match=message.replace(".", r"\.")):
        parse_models(raw)


def test_unknown_model_and_transform_are_named() -> None:
    """Lookups of things that do not exist say what does."""
    with pytest.raises(LookupError, match="known: contacts, deals"):
        load_sync_models().get("hubspot", "tickets")
    with pytest.raises(LookupError, match="no sync transform 'nope'"):
        transform_named("nope")


BASE = "https://api.example.com/v1"


def walk(pagination: Any, first: dict[str, Any], pages: list[tuple[Any, list[Any], str | None]]):
    """The requests a walk makes, given each page's (body, items, Link next)."""
    requests = [first]
    current = first
    for body, items, link in pages:
        following = next_request(
            pagination, current, body, items, next_link=link, base_url=BASE, page_size=None
        )
        if following is None:
            return requests
        requests.append(following)
        current = following
    return requests


def test_cursor_from_body_and_from_last_item() -> None:
    """HubSpot-style body cursors and Stripe-style last-item cursors both advance and stop."""
    hub = CursorPagination(
        style="cursor", cursor_param="after", next_cursor_path="paging.next.after", page_size=2
    )
    first = first_request("/contacts", {"q": "1"}, hub, None)
    assert first == {"url": "/contacts", "params": {"q": "1"}}
    done = walk(hub, first, [({"paging": {"next": {"after": "2"}}}, [1, 2], None), ({}, [3], None)])
    assert [r["params"].get("after") for r in done] == [None, "2"]
    stripe = CursorPagination(
        style="cursor",
        cursor_param="starting_after",
        last_item_field="id",
        has_more_path="has_more",
        limit_param="limit",
        page_size=2,
    )
    first = first_request("/customers", {}, stripe, None)
    assert first["params"] == {"limit": 2}
    pages = [
        ({"has_more": True}, [{"id": "a"}, {"id": "b"}], None),
        ({"has_more": False}, [], None),
    ]
    assert [r["params"].get("starting_after") for r in walk(stripe, first, pages)] == [None, "b"]


def test_link_header_and_next_url_resolve_against_the_base() -> None:
    """Next-page URLs from headers or bodies become absolute; params are not repeated."""
    link = LinkHeaderPagination(style="link_header")
    first = first_request("/products.json", {}, link, 50)
    done = walk(
        link, first, [({}, [1], "https://api.example.com/v1/p?page_info=x"), ({}, [], None)]
    )
    assert done[1] == {"url": "https://api.example.com/v1/p?page_info=x", "params": None}
    sf = NextUrlPagination(style="next_url", next_url_path="nextRecordsUrl")
    done = walk(
        sf,
        first_request("/query", {"q": "S"}, sf, None),
        [({"nextRecordsUrl": "/v1/q/2"}, [1], None)],
    )
    assert done[1]["url"] == "https://api.example.com/v1/q/2"


def test_offset_page_and_token_styles_stop_on_the_providers_signal() -> None:
    """Offsets stop at the total, pages at a short page, tokens when none is returned."""
    offset = OffsetPagination(
        style="offset", offset_param="offset", limit_param="count", page_size=2, total_path="total"
    )
    first = first_request("/members", {}, offset, None)
    done = walk(offset, first, [({"total": 3}, [1, 2], None), ({"total": 3}, [3], None)])
    assert [r["params"]["offset"] for r in done] == [0, 2]
    page = PagePagination(style="page", page_param="page", page_size=2)
    done = walk(page, first_request("/i", {}, page, None), [({}, [1, 2], None), ({}, [3], None)])
    assert [r["params"]["page"] for r in done] == [1, 2]
    token = PageTokenPagination(style="page_token", token_param="pageToken", next_token_path="next")
    done = walk(
        token, first_request("/e", {}, token, None), [({"next": "t2"}, [1], None), ({}, [], None)]
    )
    assert [r["params"].get("pageToken") for r in done] == [None, "t2"]


def test_a_repeated_request_ends_the_walk() -> None:
    """A provider returning the same cursor again cannot loop a sync forever."""
    token = PageTokenPagination(style="page_token", token_param="t", next_token_path="next")
    current = {"url": "/e", "params": {"t": "same"}}
    assert (
        next_request(
            token, current, {"next": "same"}, [1], next_link=None, base_url=BASE, page_size=None
        )
        is None
    )


def test_dataset_changes_are_stamped_and_filterable() -> None:
    """Adds, updates and deletes bump the clock; records filter by updated-since."""
    data = Datasets().dataset("hubspot", "deals", seed=3)
    assert data.ids() == {"50001", "50002", "50003"}
    cut = stamp(data.version)
    data.update("50002", {"archived": True})
    data.delete("50003")
    assert [r["id"] for r in data.records(since=cut)] == ["50002"]
    changed, deleted = data.changes_since(3)
    assert [r["id"] for r in changed] == ["50002"] and deleted == ["50003"]
