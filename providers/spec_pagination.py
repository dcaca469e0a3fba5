"""Pagination styles of a catalog entry, discriminated on ``style``.

Paths into JSON bodies are dotted (``paging.next.after``); an empty ``items_path`` means the
body itself is the list. Each style carries only the parameters it needs, so an entry cannot
name a cursor parameter for a Link-header API.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from providers.spec_auth import StrictModel


class _Paged(StrictModel):
    items_path: str = ""
    limit_param: str | None = None
    page_size: int = Field(default=100, ge=1, le=10_000)


class CursorPagination(_Paged):
    """An opaque cursor from the body (``next_cursor_path``) or the last item's id (Stripe).

    Without ``has_more_path`` the walk stops when the cursor is missing or a page is short.
    """

    style: Literal["cursor"]
    cursor_param: str = Field(min_length=1)
    next_cursor_path: str | None = None
    last_item_field: str | None = None
    has_more_path: str | None = None

    @model_validator(mode="after")
    def _one_cursor_source(self) -> CursorPagination:
        if (self.next_cursor_path is None) == (self.last_item_field is None):
            raise ValueError("set exactly one of next_cursor_path or last_item_field")
        return self


class LinkHeaderPagination(_Paged):
    """RFC 8288 ``Link: <...>; rel="next"`` (Shopify REST, GitHub, Zendesk-style APIs)."""

    style: Literal["link_header"]


class OffsetPagination(_Paged):
    """``offset``/``limit`` query parameters; stops on a short page or at ``total_path``."""

    style: Literal["offset"]
    offset_param: str = Field(min_length=1)
    first_offset: int = Field(default=0, ge=0)
    total_path: str | None = None


class PagePagination(_Paged):
    """Numbered pages; stops on a short page or past ``total_pages_path``."""

    style: Literal["page"]
    page_param: str = Field(min_length=1)
    first_page: int = Field(default=1, ge=0)
    total_pages_path: str | None = None


class PageTokenPagination(_Paged):
    """A token returned in the body and sent back as a parameter (Google ``nextPageToken``)."""

    style: Literal["page_token"]
    token_param: str = Field(min_length=1)
    next_token_path: str = Field(min_length=1)


class NextUrlPagination(_Paged):
    """A full or root-relative URL of the next page in the body (Salesforce, Twilio, Graph)."""

    style: Literal["next_url"]
    next_url_path: str = Field(min_length=1)


class NoPagination(StrictModel):
    """The provider's list endpoints return everything at once, or it has none."""

    style: Literal["none"]


PaginationSpec = Annotated[
    CursorPagination
    | LinkHeaderPagination
    | OffsetPagination
    | PagePagination
    | PageTokenPagination
    | NextUrlPagination
    | NoPagination,
    Field(discriminator="style"),
]
