"""How each provider pages a dataset, in its own conventions (bodies, params, tokens).

One function per paging convention, shared by the providers that use it. Opaque tokens
(Shopify ``page_info``, Salesforce query locators, Klaviyo cursors) carry the position and
the updated-since filter, as the real ones do, so follow-up pages need no other parameter.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from providers.sandbox.profile import json_response, page_slice

if TYPE_CHECKING:
    from providers.sandbox.datasets import Dataset, Endpoint
    from providers.sandbox.profile import Call

_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        return {}
    return state if isinstance(state, dict) else {}


def since_of(endpoint: Endpoint, call: Call) -> str | None:
    """The updated-since timestamp in the endpoint's parameter (inside a query if need be)."""
    if endpoint.since_param is None:
        return None
    found = _STAMP.search(call.params.get(endpoint.since_param, ""))
    return found.group(0) if found else None


def _size(call: Call, param: str, default: int, maximum: int) -> int:
    return max(1, min(call.int_param(param, default), maximum))


def after_cursor(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """HubSpot CRM v3: ``after`` in ``paging.next``; ``limit`` up to 100."""
    records = data.records(since_of(endpoint, call))
    start = int(call.params.get("after", "0") or 0)
    chunk, nxt = page_slice(records, start, _size(call, "limit", 10, 100))
    body: dict[str, Any] = {endpoint.items_key: chunk}
    if nxt is not None:
        body["paging"] = {"next": {"after": str(nxt)}}
    return json_response(200, body)


SEARCH_RESULT_CAP = 10_000


def hubspot_search(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """HubSpot CRM search: a JSON body with one GT/GTE filter on the modification time,
    sorted ascending, ``after`` in the body, ``limit`` up to 200, at most 10,000 results."""
    try:
        query = json.loads(call.request.content or b"{}")
        (condition,) = query["filterGroups"][0]["filters"]
        limit, after = int(query.get("limit", 10)), int(query.get("after", 0))
        floor = _iso_of_millis(int(condition["value"]))
        inclusive = {"GT": False, "GTE": True}[condition["operator"]]
    except (ValueError, KeyError, IndexError, TypeError):
        return json_response(400, {"status": "error", "category": "VALIDATION_ERROR"})
    if not 1 <= limit <= 200 or after + limit > SEARCH_RESULT_CAP:
        return json_response(400, {"status": "error", "category": "VALIDATION_ERROR"})
    stamped = [(_stamp(endpoint, r), r) for r in data.records()]
    chosen = [(s, r) for s, r in stamped if s > floor or (inclusive and s == floor)]
    ordered = [r for _, r in sorted(chosen, key=lambda pair: pair[0])]
    chunk, nxt = page_slice(ordered, after, limit)
    body: dict[str, Any] = {"total": len(ordered), "results": chunk}
    if nxt is not None:
        body["paging"] = {"next": {"after": str(nxt)}}
    return json_response(200, body)


def _stamp(endpoint: Endpoint, record: dict[str, Any]) -> str:
    node: Any = record
    for part in endpoint.stamp_path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) else ""


def _iso_of_millis(value: int) -> str:
    moment = datetime.fromtimestamp(value / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def link_header(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Shopify REST: ``Link: <...page_info=...>; rel="next"``; ``limit`` up to 250."""
    state = decode_token(call.params.get("page_info"))
    since = state.get("since") if state else since_of(endpoint, call)
    size = _size(call, "limit", 50, 250)
    chunk, nxt = page_slice(data.records(since), int(state.get("pos", 0)), size)
    headers = {}
    if nxt is not None:
        query = urlencode({"limit": size, "page_info": encode_token({"pos": nxt, "since": since})})
        headers["Link"] = f'<{call.origin()}{call.prefix}{call.path}?{query}>; rel="next"'
    return json_response(200, {endpoint.items_key: chunk}, headers)


def starting_after(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Stripe list objects: ``starting_after`` an id, ``has_more``; ``limit`` up to 100."""
    records = data.records()
    after = call.params.get("starting_after")
    ids = [r.get("id") if isinstance(r, dict) else None for r in records]
    start = ids.index(after) + 1 if after in ids else 0
    chunk, nxt = page_slice(records, start, _size(call, "limit", 10, 100))
    body = {"object": "list", "url": call.path, "data": chunk, "has_more": nxt is not None}
    return json_response(200, body)


def soql(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Salesforce query: batches with a ``nextRecordsUrl`` query locator."""
    version = call.path.split("/")[3]
    locator = call.path.rpartition("/01gDS-")[2] if "/01gDS-" in call.path else None
    first: dict[str, Any] = {"pos": 0, "since": since_of(endpoint, call)}
    state = decode_token(locator) if locator else first
    records = data.records(state.get("since"))
    batch = int(endpoint.options.get("batch_size", 200))
    chunk, nxt = page_slice(records, int(state.get("pos", 0)), batch)
    body: dict[str, Any] = {"totalSize": len(records), "done": nxt is None, "records": chunk}
    if nxt is not None:
        token = encode_token({"pos": nxt, "since": state.get("since")})
        body["nextRecordsUrl"] = f"{call.prefix}/services/data/{version}/query/01gDS-{token}"
    return json_response(200, body)


def qbo_query(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """QuickBooks query: STARTPOSITION/MAXRESULTS inside the query text."""
    query = call.params.get("query", "")
    start = re.search(r"STARTPOSITION\s+(\d+)", query, re.IGNORECASE)
    size = re.search(r"MAXRESULTS\s+(\d+)", query, re.IGNORECASE)
    first = int(start.group(1)) if start else 1
    count = min(int(size.group(1)) if size else 100, 1000)
    chunk, _ = page_slice(data.records(since_of(endpoint, call)), first - 1, count)
    response: dict[str, Any] = {}
    if chunk:
        response = {endpoint.items_key: chunk, "startPosition": first, "maxResults": len(chunk)}
    return json_response(200, {"QueryResponse": response, "time": "2026-01-01T00:00:00Z"})


def google_events(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Calendar v3: ``pageToken`` pages; ``syncToken`` lists changes, 410 once expired."""
    sync_token = call.params.get("syncToken")
    if sync_token is not None:
        match = re.fullmatch(r"sync-(\d+)", sync_token)
        if match is None or int(match.group(1)) < data.token_horizon:
            error = {
                "code": 410,
                "message": "Sync token is no longer valid, a full sync is required.",
                "errors": [{"domain": "global", "reason": "fullSyncRequired"}],
            }
            return json_response(410, {"error": error})
        changed, deleted = data.changes_since(int(match.group(1)))
        tombstones = [{"kind": "calendar#event", "id": i, "status": "cancelled"} for i in deleted]
        records: list[Any] = changed + tombstones
    else:
        records = data.records()
    version = data.version
    start = int(decode_token(call.params.get("pageToken")).get("pos", 0))
    chunk, nxt = page_slice(records, start, _size(call, "maxResults", 250, 2500))
    body: dict[str, Any] = {"kind": "calendar#events", endpoint.items_key: chunk}
    if nxt is not None:
        body["nextPageToken"] = encode_token({"pos": nxt})
    else:
        body["nextSyncToken"] = f"sync-{version}"
    return json_response(200, body)


def calendly_pages(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Calendly v2: ``pagination.next_page_token``; ``count`` up to 100."""
    start = int(decode_token(call.params.get("page_token")).get("pos", 0))
    chunk, nxt = page_slice(data.records(), start, _size(call, "count", 20, 100))
    token = encode_token({"pos": nxt}) if nxt is not None else None
    pagination = {"count": len(chunk), "next_page_token": token, "next_page": None}
    return json_response(200, {endpoint.items_key: chunk, "pagination": pagination})


def next_link(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Klaviyo JSON:API: ``links.next`` with an opaque ``page[cursor]``."""
    state = decode_token(call.params.get("page[cursor]"))
    since = state.get("since") if state else since_of(endpoint, call)
    size = _size(call, "page[size]", 20, 100)
    chunk, nxt = page_slice(data.records(since), int(state.get("pos", 0)), size)
    base = f"{call.origin()}{call.prefix}{call.path}"
    links: dict[str, Any] = {"self": base, "next": None}
    if nxt is not None:
        cursor = encode_token({"pos": nxt, "since": since})
        links["next"] = f"{base}?{urlencode({'page[size]': size, 'page[cursor]': cursor})}"
    return json_response(200, {endpoint.items_key: chunk, "links": links})


def body_cursor(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Airtable (``offset``) and Square (``cursor``): a token in the body, sent back as is."""
    param = str(endpoint.options["cursor"])
    size_param = str(endpoint.options["size_param"])
    start = int(decode_token(call.params.get(param)).get("pos", 0))
    chunk, nxt = page_slice(data.records(), start, _size(call, size_param, 100, 1000))
    body: dict[str, Any] = {endpoint.items_key: chunk}
    if nxt is not None:
        body[param] = encode_token({"pos": nxt})
    return json_response(200, body)


def offset_count(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Mailchimp: ``offset``/``count`` with ``total_items``."""
    records = data.records(since_of(endpoint, call))
    start = call.int_param("offset", 0)
    chunk, _ = page_slice(records, start, _size(call, "count", 10, 1000))
    return json_response(200, {endpoint.items_key: chunk, "total_items": len(records)})


def start_limit(endpoint: Endpoint, call: Call, data: Dataset) -> httpx.Response:
    """Pipedrive v1: ``start``/``limit``, ``additional_data.pagination``."""
    start = call.int_param("start", 0)
    size = _size(call, "limit", 100, 500)
    chunk, nxt = page_slice(data.records(), start, size)
    pagination: dict[str, Any] = {
        "start": start,
        "limit": size,
        "more_items_in_collection": nxt is not None,
    }
    if nxt is not None:
        pagination["next_start"] = nxt
    body = {
        "success": True,
        endpoint.items_key: chunk,
        "additional_data": {"pagination": pagination},
    }
    return json_response(200, body)
