"""Walking a list endpoint page by page, in the style the catalog entry declares.

One stepping core serves two callers. A *request* — the path or URL and its query — is plain
JSON: :func:`first_request` comes from the caller's path and parameters, and
:func:`next_request` derives the next from a page's body and headers, or says the provider
is done. A sync stores the next request as its checkpoint and may continue in another
process; :func:`paginate` walks a whole endpoint in a generator of :class:`Page` objects.
A request repeating an earlier one ends the walk, so a provider bug cannot loop forever.
Errors are the client's: a failing page raises from :meth:`ProviderClient.request`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from providers.errors import MalformedResponse
from providers.json_path import dig
from providers.spec import (
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PagePagination,
    PageTokenPagination,
)
from providers.spec_pagination import PaginationSpec

if TYPE_CHECKING:
    from providers.client import ProviderClient, ProviderResponse

#: Hard stop for one walk; a real sync resumes from its checkpoint in a later job.
DEFAULT_MAX_PAGES = 10_000


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint."""

    number: int
    items: list[Any]
    response: ProviderResponse


def extract_items(body: Any, items_path: str | None, provider: str) -> list[Any]:
    """The records of a page: at ``items_path``, or the body's only list when unspecified."""
    if items_path is None:
        if isinstance(body, list):
            return body
        lists = [v for v in body.values() if isinstance(v, list)] if isinstance(body, dict) else []
        if len(lists) == 1:
            return lists[0]
        found: Any = None
    else:
        found = dig(body, items_path)
    if isinstance(found, list):
        return found
    if found is None and items_path is not None and isinstance(body, dict):
        return []
    raise MalformedResponse(
        f"{provider}: no list of items at {items_path or '(auto)'}", provider=provider
    )


PageRequest = dict[str, Any]
"""``{"url": path or absolute URL, "params": {...} or None}`` — JSON, stored as is."""


def first_request(
    path: str,
    params: Mapping[str, str | int],
    pagination: PaginationSpec,
    page_size: int | None,
) -> PageRequest:
    """The request of the first page: the definition's parameters plus the page size."""
    query: dict[str, Any] = dict(params)
    if not isinstance(pagination, NoPagination):
        if pagination.limit_param:
            query.setdefault(pagination.limit_param, page_size or pagination.page_size)
        if isinstance(pagination, OffsetPagination):
            query[pagination.offset_param] = pagination.first_offset
        if isinstance(pagination, PagePagination):
            query[pagination.page_param] = pagination.first_page
    return {"url": path, "params": query}


def next_request(
    pagination: PaginationSpec,
    current: PageRequest,
    body: Any,
    items: list[Any],
    *,
    next_link: str | None,
    base_url: str,
    page_size: int | None,
) -> PageRequest | None:
    """The request of the page after ``current``, or None when the provider says it is done.

    A next request equal to the current one also ends the walk: a provider bug cannot
    loop a sync forever.
    """
    following = _next(pagination, current, body, items, next_link, base_url, page_size)
    return None if following == current else following


def _next(
    pagination: PaginationSpec,
    current: PageRequest,
    body: Any,
    items: list[Any],
    next_link: str | None,
    base_url: str,
    page_size: int | None,
) -> PageRequest | None:
    params = dict(current.get("params") or {})
    if isinstance(pagination, NoPagination):
        return None
    size = page_size or pagination.page_size
    if isinstance(pagination, CursorPagination):
        return _cursor(pagination, current, params, body, items, size)
    if isinstance(pagination, LinkHeaderPagination):
        return {"url": urljoin(base_url + "/", next_link), "params": None} if next_link else None
    if isinstance(pagination, NextUrlPagination):
        link = dig(body, pagination.next_url_path)
        if not isinstance(link, str) or not link:
            return None
        return {"url": urljoin(base_url + "/", link), "params": None}
    if isinstance(pagination, PageTokenPagination):
        token = dig(body, pagination.next_token_path)
        if not token:
            return None
        return {"url": current["url"], "params": {**params, pagination.token_param: str(token)}}
    if isinstance(pagination, OffsetPagination):
        return _offset(pagination, current, params, body, items, size)
    return _page(pagination, current, params, body, items, size)


def _cursor(
    spec: CursorPagination,
    current: PageRequest,
    params: dict[str, Any],
    body: Any,
    items: list[Any],
    size: int,
) -> PageRequest | None:
    if spec.has_more_path is not None and not dig(body, spec.has_more_path):
        return None
    if spec.next_cursor_path is not None:
        cursor = dig(body, spec.next_cursor_path)
    else:
        last = items[-1] if items else None
        cursor = last.get(spec.last_item_field) if isinstance(last, dict) else None
        if spec.has_more_path is None and len(items) < size:
            return None
    if cursor in (None, ""):
        return None
    return {"url": current["url"], "params": {**params, spec.cursor_param: str(cursor)}}


def _offset(
    spec: OffsetPagination,
    current: PageRequest,
    params: dict[str, Any],
    body: Any,
    items: list[Any],
    size: int,
) -> PageRequest | None:
    offset = int(params.get(spec.offset_param, spec.first_offset)) + len(items)
    total = dig(body, spec.total_path) if spec.total_path else None
    if len(items) < size or (isinstance(total, int) and offset - spec.first_offset >= total):
        return None
    return {"url": current["url"], "params": {**params, spec.offset_param: offset}}


def _page(
    spec: PagePagination,
    current: PageRequest,
    params: dict[str, Any],
    body: Any,
    items: list[Any],
    size: int,
) -> PageRequest | None:
    number = int(params.get(spec.page_param, spec.first_page))
    total = dig(body, spec.total_pages_path) if spec.total_pages_path else None
    if isinstance(total, int):
        if number - spec.first_page + 1 >= total:
            return None
    elif len(items) < size:
        return None
    return {"url": current["url"], "params": {**params, spec.page_param: number + 1}}


def paginate(
    client: ProviderClient,
    path: str,
    *,
    params: Mapping[str, str | int] | None = None,
    items_path: str | None = None,
    page_size: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[Page]:
    """Yield pages of ``path`` until the provider signals the end (or ``max_pages``)."""
    spec = client.spec.pagination
    if not isinstance(spec, NoPagination):
        items_path = items_path if items_path is not None else (spec.items_path or None)
    request: PageRequest | None = first_request(path, params or {}, spec, page_size)
    seen: set[str] = set()
    for number in range(1, max_pages + 1):
        if request is None:
            return
        seen.add(json.dumps(request, sort_keys=True, default=str))
        result = client.get(request["url"], params=request["params"])
        body = result.json()
        items = extract_items(body, items_path, client.spec.name)
        yield Page(number, items, result)
        request = next_request(
            spec,
            request,
            body,
            items,
            next_link=result.response.links.get("next", {}).get("url"),
            base_url=client.base_url,
            page_size=page_size,
        )
        if request is not None and json.dumps(request, sort_keys=True, default=str) in seen:
            return
