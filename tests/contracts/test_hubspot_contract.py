"""HubSpot requests checked against its documented contract (no package ships its spec).

Followed: https://developers.hubspot.com/docs/api/crm/properties (every property value is a
string) and https://developers.hubspot.com/docs/api/crm/search (incremental reads).
"""

from __future__ import annotations

from typing import Any

import pytest

from providers.client import ProviderClient
from providers.errors import PermanentError
from providers.registry import Catalog
from providers.sandbox import Sandbox
from providers.syncs.search import millis, next_search_request, search_request
from providers.syncs.spec import load_sync_models
from tests.contracts.action_options import OPTIONS
from tests.unit.providers.sandbox_fixtures import client_for
from workers.actions import ActionEnv, action_for

ENV = ActionEnv("k1", OPTIONS)


def _properties(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    action = action_for("hubspot", name)
    assert action is not None
    (call,) = action.calls(action.input.model_validate(params), ENV)
    body = call.json
    return (
        [item["properties"] for item in body["inputs"]]
        if "inputs" in body
        else [body["properties"]]
    )


def test_create_deal_sends_the_amount_as_a_string() -> None:
    """create_deal's properties are all strings: amount 120.5 is "120.5", 120.0 is "120"."""
    (props,) = _properties("create_deal", {"dealname": "QR order", "amount": 120.5})
    assert props == {
        "dealname": "QR order",
        "amount": "120.5",
        "pipeline": "default",
        "dealstage": "appointmentscheduled",
    }
    (whole,) = _properties("create_deal", {"dealname": "QR order", "amount": 120})
    assert whole["amount"] == "120"


def test_upsert_contact_sends_numbers_and_booleans_as_strings() -> None:
    """upsert_contact turns numeric, boolean and null property values into HubSpot's strings."""
    params = {
        "email": "ada@example.com",
        "properties": {"visits": 3, "score": 4.5, "vip": True, "optout": False, "fax": None},
    }
    (props,) = _properties("upsert_contact", params)
    assert props == {
        "visits": "3",
        "score": "4.5",
        "vip": "true",
        "optout": "false",
        "fax": "",
        "email": "ada@example.com",
    }
    assert all(isinstance(value, str) for value in props.values())


@pytest.mark.parametrize("model", ["contacts", "deals"])
def test_incremental_syncs_use_crm_search_on_the_modification_time(model: str) -> None:
    """Incremental HubSpot syncs are searches filtered on lastmodifieddate, never updatedAfter."""
    spec = load_sync_models().get("hubspot", model)
    incremental = spec.incremental
    assert incremental is not None and incremental.style == "search"
    assert incremental.search_path == f"/crm/v3/objects/{model}/search"
    assert "updatedAfter" not in spec.params
    request = search_request(
        incremental.search_path, incremental.param, "2026-12-01T15:00:00Z", page_size=200
    )
    assert request["method"] == "POST"
    (condition,) = request["json"]["filterGroups"][0]["filters"]
    assert condition == {
        "propertyName": incremental.param,
        "operator": "GT",
        "value": millis("2026-12-01T15:00:00Z"),
    }
    assert request["json"]["sorts"] == [
        {"propertyName": incremental.param, "direction": "ASCENDING"}
    ]
    assert incremental.rate_limit is not None and incremental.rate_limit.limit == 5


def _walk(client: ProviderClient, since: str, cap: int) -> tuple[list[str], int]:
    request: dict[str, Any] | None = search_request(
        "/crm/v3/objects/contacts/search", "lastmodifieddate", since, page_size=4
    )
    seen: list[str] = []
    queries = 0
    while request is not None:
        queries += "after" not in request["json"]
        body = client.request("POST", request["url"], json=request["json"]).json()
        stamps = [record["updatedAt"] for record in body["results"]]
        seen += [record["id"] for record in body["results"]]
        request = next_search_request(request, body, max(stamps, default=None), result_cap=cap)
    return seen, queries


def test_a_search_walk_requeries_before_the_result_cap_and_misses_nothing(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """Past the cap the walk starts a new query from the last time seen; every change is read."""
    data = sandbox.datasets.dataset("hubspot", "contacts", seed=30)
    client = client_for(sandbox, sandboxed_catalog, "hubspot")
    seen, queries = _walk(client, "2000-01-01T00:00:00Z", cap=10)
    assert set(seen) == data.ids()
    assert queries >= 3  # 30 records, at most 10 per query


def test_the_sandbox_refuses_paging_past_hubspots_result_cap(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """As HubSpot does, a search asking for results past 10,000 is a 400."""
    sandbox.datasets.dataset("hubspot", "contacts", seed=3)
    client = client_for(sandbox, sandboxed_catalog, "hubspot")
    request = search_request(
        "/crm/v3/objects/contacts/search", "lastmodifieddate", "2000-01-01T00:00:00Z", page_size=100
    )
    with pytest.raises(PermanentError) as refused:
        client.request("POST", request["url"], json={**request["json"], "after": "9950"})
    assert refused.value.status == 400


def test_a_capped_query_sharing_one_instant_moves_past_it() -> None:
    """If a whole capped query shares one modification time, the next query uses GT, not GTE."""
    stamp = "2026-12-01T15:00:00Z"
    first = search_request("/s", "lastmodifieddate", stamp, page_size=5, inclusive=True)
    page = {"paging": {"next": {"after": "5"}}}
    following = next_search_request(first, page, stamp, result_cap=5)
    assert following is not None
    (condition,) = following["json"]["filterGroups"][0]["filters"]
    assert (condition["operator"], condition["value"]) == ("GT", millis(stamp))
    assert "after" not in following["json"]
