"""Incremental syncs through a search endpoint (HubSpot CRM search), as plain JSON requests.

HubSpot's list endpoints take no updated-since filter: a "changes only" listing is a
``POST /crm/v3/objects/<type>/search`` with a ``lastmodifieddate`` filter, sorted
ascending, paged by ``after`` in the body
(https://developers.hubspot.com/docs/api/crm/search). Two limits differ from the list
endpoints and are handled here:

* a query returns at most ``result_cap`` results (10,000): paging past it is refused with a
  400. Before the next ``after`` would cross the cap, the walk starts a new query filtered
  from the largest modification time seen so far (``GTE``: records sharing that instant
  come back and are skipped as unchanged by their content hash). Should a whole capped
  query share one instant, the filter moves past it (``GT``) so the walk always ends.
* search has its own rate limit (5 requests/s per account), declared on the sync
  definition and taken by the page pacer on top of the provider's general limit.

A request is a :data:`providers.pagination.PageRequest` with ``method`` and ``json`` set,
so a sync stores it as its checkpoint like any other page request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from providers.json_path import dig
from providers.pagination import PageRequest


def search_request(
    path: str, prop: str, since: str, *, page_size: int, inclusive: bool = False
) -> PageRequest:
    """The first search page of records whose ``prop`` is after ``since`` (ISO 8601)."""
    operator = "GTE" if inclusive else "GT"
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": prop, "operator": operator, "value": millis(since)}]}
        ],
        "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
        "limit": page_size,
    }
    return {"url": path, "params": None, "method": "POST", "json": body}


def next_search_request(
    current: PageRequest, body: Any, largest_seen: str | None, *, result_cap: int
) -> PageRequest | None:
    """The request after ``current``: the next page, a fresh query past the cap, or None.

    HubSpot's ``after`` is the offset into the query's results; one that is not a number
    is passed on as is (the cap cannot be foreseen, and the provider's 400 then says so).
    """
    after = dig(body, "paging.next.after")
    if after in (None, ""):
        return None
    query = current["json"]
    position = str(after)
    if not position.isdigit() or int(position) + query["limit"] <= result_cap:
        return {**current, "json": {**query, "after": position}}
    return _requery(current, largest_seen)


def _requery(current: PageRequest, largest_seen: str | None) -> PageRequest | None:
    query = current["json"]
    (condition,) = query["filterGroups"][0]["filters"]
    if largest_seen is None:
        return None
    value = millis(largest_seen)
    stuck = value == condition["value"] and condition["operator"] == "GTE"
    restarted = search_request(
        current["url"],
        condition["propertyName"],
        largest_seen,
        page_size=query["limit"],
        inclusive=not stuck,
    )
    return (
        None if restarted["json"] == {k: v for k, v in query.items() if k != "after"} else restarted
    )


def millis(stamp: str) -> str:
    """An ISO 8601 instant as epoch milliseconds (the form HubSpot's filters document)."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str(int(moment.timestamp() * 1000))
