"""Walking a list endpoint page by page, in the style the catalog entry declares.

Every style yields :class:`Page` objects (items, the response, the page number) and stops on
the provider's own end signal; a repeated cursor or URL also stops the walk, so a provider
bug cannot loop a sync forever. Errors are the client's: a failing page raises from
:meth:`ProviderClient.request` and the caller's checkpoint says where to resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from providers.errors import MalformedResponse
from providers.spec import (
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PagePagination,
    PageTokenPagination,
)

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


def dig(data: Any, path: str) -> Any:
    """Follow a dotted path; keys that contain dots (``@odata.nextLink``) are tried whole."""
    if not path:
        return data
    if not isinstance(data, dict):
        return None
    if path in data:
        return data[path]
    head, sep, rest = path.partition(".")
    while sep:
        if head in data:
            found = dig(data[head], rest)
            if found is not None:
                return found
        part, sep, rest = rest.partition(".")
        head = f"{head}.{part}"
    return None


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
    walker = _WALKERS[type(spec)]
    if not isinstance(spec, NoPagination):
        items_path = items_path if items_path is not None else (spec.items_path or None)
    walk = _Walk(client, dict(params or {}), items_path, page_size)
    for number, page in enumerate(walker(walk, spec, path), start=1):
        yield page
        if number >= max_pages:
            return


class _Walk:
    """State shared by the walkers: the client, base params and how to read items."""

    def __init__(
        self,
        client: ProviderClient,
        params: dict[str, str | int],
        items_path: str | None,
        page_size: int | None,
    ) -> None:
        self.client = client
        self.params = params
        self.items_path = items_path
        self.page_size = page_size
        self.number = 0

    def size(self, spec: Any) -> int:
        return self.page_size or int(spec.page_size)

    def first_params(self, spec: Any) -> dict[str, str | int]:
        params = dict(self.params)
        if spec.limit_param:
            params.setdefault(spec.limit_param, self.size(spec))
        return params

    def fetch(self, path: str, params: Mapping[str, str | int] | None) -> tuple[Page, Any]:
        result = self.client.get(path, params=params)
        body = result.json()
        self.number += 1
        items = extract_items(body, self.items_path, self.client.spec.name)
        return Page(self.number, items, result), body


def _cursor(walk: _Walk, spec: CursorPagination, path: str) -> Iterator[Page]:
    params = walk.first_params(spec)
    seen: set[str] = set()
    while True:
        page, body = walk.fetch(path, params)
        yield page
        if spec.has_more_path is not None and not dig(body, spec.has_more_path):
            return
        if spec.next_cursor_path is not None:
            cursor = dig(body, spec.next_cursor_path)
        else:
            cursor = page.items[-1].get(spec.last_item_field) if page.items else None
            if spec.has_more_path is None and len(page.items) < walk.size(spec):
                return
        if cursor in (None, "") or str(cursor) in seen:
            return
        seen.add(str(cursor))
        params = {**params, spec.cursor_param: str(cursor)}


def _link_header(walk: _Walk, spec: LinkHeaderPagination, path: str) -> Iterator[Page]:
    target: str | None = path
    params: Mapping[str, str | int] | None = walk.first_params(spec)
    seen: set[str] = set()
    while target is not None:
        page, _ = walk.fetch(target, params)
        yield page
        target = page.response.response.links.get("next", {}).get("url")
        if target is None or target in seen:
            return
        seen.add(target)
        target = urljoin(walk.client.base_url + "/", target)
        params = None


def _offset(walk: _Walk, spec: OffsetPagination, path: str) -> Iterator[Page]:
    offset = spec.first_offset
    size = walk.size(spec)
    while True:
        params = {**walk.first_params(spec), spec.offset_param: offset}
        page, body = walk.fetch(path, params)
        yield page
        offset += len(page.items)
        total = dig(body, spec.total_path) if spec.total_path else None
        if len(page.items) < size or (
            isinstance(total, int) and offset - spec.first_offset >= total
        ):
            return


def _page(walk: _Walk, spec: PagePagination, path: str) -> Iterator[Page]:
    number = spec.first_page
    size = walk.size(spec)
    while True:
        params = {**walk.first_params(spec), spec.page_param: number}
        page, body = walk.fetch(path, params)
        yield page
        total = dig(body, spec.total_pages_path) if spec.total_pages_path else None
        if isinstance(total, int):
            if number - spec.first_page + 1 >= total:
                return
        elif len(page.items) < size:
            return
        number += 1


def _page_token(walk: _Walk, spec: PageTokenPagination, path: str) -> Iterator[Page]:
    params = walk.first_params(spec)
    seen: set[str] = set()
    while True:
        page, body = walk.fetch(path, params)
        yield page
        token = dig(body, spec.next_token_path)
        if not token or str(token) in seen:
            return
        seen.add(str(token))
        params = {**params, spec.token_param: str(token)}


def _next_url(walk: _Walk, spec: NextUrlPagination, path: str) -> Iterator[Page]:
    target = path
    params: Mapping[str, str | int] | None = walk.first_params(spec)
    seen: set[str] = set()
    while True:
        page, body = walk.fetch(target, params)
        yield page
        link = dig(body, spec.next_url_path)
        if not isinstance(link, str) or not link or link in seen:
            return
        seen.add(link)
        target = urljoin(walk.client.base_url + "/", link)
        params = None


def _single(walk: _Walk, spec: NoPagination, path: str) -> Iterator[Page]:
    page, _ = walk.fetch(path, walk.params)
    yield page


_WALKERS: dict[type, Callable[[_Walk, Any, str], Iterator[Page]]] = {
    CursorPagination: _cursor,
    LinkHeaderPagination: _link_header,
    OffsetPagination: _offset,
    PagePagination: _page,
    PageTokenPagination: _page_token,
    NextUrlPagination: _next_url,
    NoPagination: _single,
}
