"""The list endpoints the sandbox serves from datasets, one per syncable provider model."""

from __future__ import annotations

from typing import Any

from providers.sandbox import dataset_pages as pages
from providers.sandbox.datasets import Endpoint

_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Radia")


def _name(n: int) -> str:
    return f"{_NAMES[n % len(_NAMES)]} {n}"


def _email(n: int) -> str:
    return f"user{n}@example.com"


def _hubspot_contact(n: int) -> dict[str, Any]:
    first, _, last = _name(n).partition(" ")
    props = {"email": _email(n), "firstname": first, "lastname": last}
    return {"id": str(n), "properties": props, "archived": False}


def _hubspot_deal(n: int) -> dict[str, Any]:
    props = {"dealname": f"Deal {n}", "amount": str(100 * n), "dealstage": "appointmentscheduled"}
    return {"id": str(50_000 + n), "properties": props, "archived": False}


def _salesforce_contact(n: int) -> dict[str, Any]:
    sf_id = f"003{n:015d}"
    attributes = {"type": "Contact", "url": f"/services/data/v62.0/sobjects/Contact/{sf_id}"}
    return {"attributes": attributes, "Id": sf_id, "Name": _name(n), "Email": _email(n)}


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        provider="hubspot",
        model="contacts",
        path=r"/crm/v3/objects/contacts",
        render=pages.after_cursor,
        items_key="results",
        make=_hubspot_contact,
        id_field="id",
        stamp_path="updatedAt",
        replaces_profile=True,
    ),
    Endpoint(
        provider="hubspot",
        model="deals",
        path=r"/crm/v3/objects/deals",
        render=pages.after_cursor,
        items_key="results",
        make=_hubspot_deal,
        id_field="id",
        stamp_path="updatedAt",
    ),
    Endpoint(
        provider="hubspot",
        model="contacts",
        path=r"/crm/v3/objects/contacts/search",
        render=pages.hubspot_search,
        items_key="results",
        make=_hubspot_contact,
        id_field="id",
        stamp_path="updatedAt",
    ),
    Endpoint(
        provider="hubspot",
        model="deals",
        path=r"/crm/v3/objects/deals/search",
        render=pages.hubspot_search,
        items_key="results",
        make=_hubspot_deal,
        id_field="id",
        stamp_path="updatedAt",
    ),
    Endpoint(
        provider="shopify",
        model="products",
        path=r"/admin/api/[^/]+/products\.json",
        render=pages.link_header,
        items_key="products",
        make=lambda n: {"id": 8_000_000 + n, "title": f"Product {n}", "status": "active"},
        id_field="id",
        stamp_path="updated_at",
        since_param="updated_at_min",
    ),
    Endpoint(
        provider="shopify",
        model="orders",
        path=r"/admin/api/[^/]+/orders\.json",
        render=pages.link_header,
        items_key="orders",
        make=lambda n: {"id": 9_000_000 + n, "name": f"#{1000 + n}", "total_price": f"{n}.00"},
        id_field="id",
        stamp_path="updated_at",
        since_param="updated_at_min",
    ),
    Endpoint(
        provider="salesforce",
        model="contacts",
        path=r"/services/data/v[0-9.]+/query(/01gDS-[A-Za-z0-9_-]+)?",
        render=pages.soql,
        items_key="records",
        make=_salesforce_contact,
        id_field="Id",
        stamp_path="LastModifiedDate",
        since_param="q",
        replaces_profile=True,
    ),
    Endpoint(
        provider="stripe",
        model="customers",
        path=r"/v1/customers",
        render=pages.starting_after,
        items_key="data",
        make=lambda n: {"id": f"cus_{n:014d}", "object": "customer", "email": _email(n)},
        id_field="id",
        stamp_path="metadata.sandbox_updated",
        replaces_profile=True,
    ),
    Endpoint(
        provider="stripe",
        model="invoices",
        path=r"/v1/invoices",
        render=pages.starting_after,
        items_key="data",
        make=lambda n: {"id": f"in_{n:014d}", "object": "invoice", "amount_due": 100 * n},
        id_field="id",
        stamp_path="metadata.sandbox_updated",
    ),
    Endpoint(
        provider="google_calendar",
        model="events",
        path=r"/calendar/v3/calendars/[^/]+/events",
        render=pages.google_events,
        items_key="items",
        make=lambda n: {
            "kind": "calendar#event",
            "id": f"evt{n:05d}",
            "status": "confirmed",
            "summary": f"Sandbox event {n}",
        },
        id_field="id",
        stamp_path="updated",
        replaces_profile=True,
    ),
    Endpoint(
        provider="quickbooks",
        model="customers",
        path=r"/query",
        render=pages.qbo_query,
        items_key="Customer",
        make=lambda n: {"Id": str(n), "DisplayName": _name(n)},
        id_field="Id",
        stamp_path="MetaData.LastUpdatedTime",
        since_param="query",
        replaces_profile=True,
    ),
    Endpoint(
        provider="calendly",
        model="scheduled_events",
        path=r"/scheduled_events",
        render=pages.calendly_pages,
        items_key="collection",
        make=lambda n: {
            "uri": f"https://api.calendly.com/scheduled_events/EV{n:06d}",
            "name": f"Sandbox meeting {n}",
            "status": "active",
        },
        id_field="uri",
        stamp_path="updated_at",
        replaces_profile=True,
    ),
    Endpoint(
        provider="klaviyo",
        model="profiles",
        path=r"/api/profiles/",
        render=pages.next_link,
        items_key="data",
        make=lambda n: {
            "type": "profile",
            "id": f"01P{n:023d}",
            "attributes": {"email": _email(n)},
        },
        id_field="id",
        stamp_path="attributes.updated",
        since_param="filter",
        replaces_profile=True,
    ),
    Endpoint(
        provider="airtable",
        model="records",
        path=r"/v0/app[A-Za-z0-9]{14}/[^/]+",
        render=pages.body_cursor,
        items_key="records",
        make=lambda n: {"id": f"rec{n:014d}", "fields": {"Name": _name(n)}},
        id_field="id",
        stamp_path="createdTime",
        options={"cursor": "offset", "size_param": "pageSize"},
    ),
    Endpoint(
        provider="square",
        model="catalog",
        path=r"/v2/catalog/list",
        render=pages.body_cursor,
        items_key="objects",
        make=lambda n: {"type": "ITEM", "id": f"SQ{n:010d}", "item_data": {"name": f"Item {n}"}},
        id_field="id",
        stamp_path="updated_at",
        options={"cursor": "cursor", "size_param": "limit"},
    ),
    Endpoint(
        provider="mailchimp",
        model="members",
        path=r"/[0-9.]+/lists/[^/]+/members",
        render=pages.offset_count,
        items_key="members",
        make=lambda n: {"id": f"{n:032x}", "email_address": _email(n), "status": "subscribed"},
        id_field="id",
        stamp_path="last_changed",
        since_param="since_last_changed",
    ),
    Endpoint(
        provider="pipedrive",
        model="persons",
        path=r"/api/v1/persons",
        render=pages.start_limit,
        items_key="data",
        make=lambda n: {"id": n, "name": _name(n), "email": [{"value": _email(n)}]},
        id_field="id",
        stamp_path="update_time",
    ),
]
