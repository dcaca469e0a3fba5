"""Walking a sync's list endpoint one page at a time, from a stored checkpoint.

:mod:`providers.pagination` walks a whole endpoint in a generator; a sync must instead be
able to stop after any page and continue in another process. Here a *request* — the
URL or path and its query parameters — is plain JSON: the first one comes from the
definition, and :func:`next_request` derives the next from a page's body and headers. The
sync engine stores the next request as its checkpoint in the same transaction as the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from providers.pagination import dig
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

PageRequest = dict[str, Any]
"""``{"url": path or absolute URL, "params": {...} or None}`` — JSON, stored as is."""


def first_request(
    path: str, params: Mapping[str, str], pagination: PaginationSpec, page_size: int | None
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
