"""What a sync of one provider model is, as data: :class:`SyncModelSpec`.

Each entry of ``models.yaml`` names the list endpoint, where the records and their ids and
updated-at stamps are in the body, how the incremental cursor is sent, and optionally a
pagination override (when the model pages differently from the provider's catalog default)
and a named transform from :mod:`providers.syncs.transforms`. Entries are validated when
loaded, so a typo fails at start-up, naming the provider, model and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from providers.errors import CatalogError
from providers.spec import RateLimitPolicy
from providers.spec_auth import StrictModel
from providers.spec_pagination import PaginationSpec

MODELS_FILE = Path(__file__).with_name("models.yaml")
SLUG = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class Incremental(StrictModel):
    """How an incremental run asks only for changes.

    ``updated_since``: the largest updated-at seen by the last successful run is sent in
    ``param``, rendered through ``template`` (``{value}``). ``sync_token``: the token the
    last page returned at ``token_path`` is sent back in ``param``; an answer of
    ``gone_status`` means the token expired and a full resync follows. ``search``: changes
    are asked of a search endpoint (``search_path``) filtering on the property ``param``,
    with its own result cap and rate limit (:mod:`providers.syncs.search`).
    """

    style: Literal["updated_since", "sync_token", "search"] = "updated_since"
    param: str = Field(min_length=1)
    template: str = "{value}"
    token_path: str | None = None
    gone_status: int = 410
    drop_params: tuple[str, ...] = ()
    search_path: str | None = None
    search_page_size: int = Field(default=100, ge=1, le=1_000)
    result_cap: int = Field(default=10_000, ge=1)
    rate_limit: RateLimitPolicy | None = None

    @model_validator(mode="after")
    def _search_needs_a_path(self) -> Incremental:
        if (self.style == "search") != (self.search_path is not None):
            raise ValueError("search_path is required with style search, and only with it")
        return self


class DeletedWhen(StrictModel):
    """A record the provider reports as deleted (Google's ``status: cancelled``)."""

    path: str = Field(min_length=1)
    equals: Any


class SyncModelSpec(StrictModel):
    """One syncable model of one provider."""

    provider: str = Field(pattern=SLUG)
    model: str = Field(pattern=SLUG)
    path: str = Field(min_length=1)
    params: dict[str, str] = Field(default_factory=dict)
    pagination: PaginationSpec | None = None
    items_path: str | None = None
    page_size: int | None = Field(default=None, ge=1, le=10_000)
    id_path: str = Field(min_length=1)
    updated_at_path: str | None = None
    incremental: Incremental | None = None
    deleted_when: DeletedWhen | None = None
    transform: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]*$")


class SyncModels:
    """Every sync definition, looked up by (provider, model)."""

    def __init__(self, specs: list[SyncModelSpec]) -> None:
        self._specs = {(s.provider, s.model): s for s in specs}

    def get(self, provider: str, model: str) -> SyncModelSpec:
        """The definition, or :class:`LookupError` naming what exists for the provider."""
        try:
            return self._specs[(provider, model)]
        except KeyError:
            known = ", ".join(self.models_of(provider)) or "none"
            raise LookupError(f"no sync model {model!r} for {provider} (known: {known})") from None

    def models_of(self, provider: str) -> list[str]:
        return sorted(m for p, m in self._specs if p == provider)

    def __iter__(self) -> Iterator[SyncModelSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.provider, s.model)))

    def __len__(self) -> int:
        return len(self._specs)


def parse_models(raw: Any, source: str = "models.yaml") -> SyncModels:
    """Validate a ``{provider: {model: entry}}`` mapping; errors name provider.model.field."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{source}: expected a mapping of providers")
    specs = []
    for provider, models in raw.items():
        if not isinstance(models, dict):
            raise CatalogError(f"{source}: {provider}: expected a mapping of models")
        for model, entry in models.items():
            try:
                specs.append(
                    SyncModelSpec.model_validate({"provider": provider, "model": model, **entry})
                )
            except (PydanticValidationError, TypeError) as exc:
                raise CatalogError(f"{source}: {provider}.{model}: {_first_error(exc)}") from None
    return SyncModels(specs)


@cache
def load_sync_models() -> SyncModels:
    """The shipped definitions (``providers/syncs/models.yaml``), loaded once per process."""
    return parse_models(yaml.safe_load(MODELS_FILE.read_text()), MODELS_FILE.name)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, PydanticValidationError):
        err = exc.errors(include_url=False)[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)
