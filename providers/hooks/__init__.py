"""Named per-provider hooks: the only place a provider's oddities live in code.

A catalog entry names a module here (``hooks: salesforce``). A hook module may define:

``prepare_request(request: httpx.Request) -> None``
    Adjust an outgoing request after auth is applied (move credentials into a body,
    rewrite pagination parameters into a query language).
``classify(response: httpx.Response) -> ProviderError | None``
    Map a response the generic status rules misread (Salesforce ``REQUEST_LIMIT_EXCEEDED``
    on a 403, Slack's ``ok: false`` on a 200) to an error, or return None to fall through.

Both are optional; :func:`load_hooks` fills the gaps with no-ops.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from providers.errors import ProviderError

PrepareRequest = Callable[[httpx.Request], None]
Classify = Callable[[httpx.Response], ProviderError | None]


def _no_prepare(request: httpx.Request) -> None:
    return None


def _no_classify(response: httpx.Response) -> ProviderError | None:
    return None


@dataclass(frozen=True)
class ProviderHooks:
    """The hook functions of one provider, defaults included."""

    prepare_request: PrepareRequest = _no_prepare
    classify: Classify = _no_classify


def load_hooks(name: str | None) -> ProviderHooks:
    """The hooks module ``providers.hooks.<name>``, or no-op hooks for ``None``."""
    if name is None:
        return ProviderHooks()
    module = importlib.import_module(f"providers.hooks.{name}")
    return ProviderHooks(
        prepare_request=getattr(module, "prepare_request", _no_prepare),
        classify=getattr(module, "classify", _no_classify),
    )
