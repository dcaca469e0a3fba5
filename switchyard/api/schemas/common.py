"""Shapes shared by every resource: request bodies, answers, and the one list shape."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

OrgId = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=64,
        description="The organization acted on: required with an admin key; an org key may "
        "only name its own.",
        examples=["acme"],
    ),
]


class RequestBody(BaseModel):
    """A request body: unknown fields are refused, naming them."""

    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    """An answer body: fields a newer server adds are kept."""

    model_config = ConfigDict(extra="allow")


class Page(Answer, Generic[T]):
    """Every list answers this shape; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null at the end."
    )


class Item(Answer):
    """A resource in a list or on its own; ``id`` names it."""

    id: str
