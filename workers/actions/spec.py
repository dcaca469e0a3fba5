"""What a provider action is: a typed input, the HTTP calls it makes, a normalized output.

Most actions are alike — one request whose path and body come from the input — so they are
*declared* (:class:`Declared`: method, path template, body builder, output paths). Code is
written only where a provider really differs (several calls, computed fields), as a small
:class:`Action` subclass next to the declared ones of its provider group.

An action never sees a credential: it answers :class:`HttpCall` values that
:func:`workers.provider_calls.call_provider` sends with the connection's secret, through
the shared limiter, mapping provider errors to retry / defer / dead-letter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from providers import templates
from providers.client import FormData, ProviderResponse
from providers.json_path import dig

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
E164 = r"^\+[1-9][0-9]{6,14}$"


class ActionInput(BaseModel):
    """Base of every action input: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class ActionOptions:
    """Operator settings actions read (from ``settings.actions``)."""

    platform_fee_percent: float


@dataclass(frozen=True)
class ActionEnv:
    """What an action knows besides its input: the idempotency key and operator options."""

    idempotency_key: str
    options: ActionOptions


@dataclass(frozen=True)
class HttpCall:
    """One request an action wants sent (path relative to the provider's base URL)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    json: Any = None
    data: FormData | None = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class Action:
    """A named operation of one provider; subclasses say which calls and what output."""

    provider: str = ""
    name: str = ""
    input: type[ActionInput] = ActionInput
    description: str = ""
    #: The request header carrying our idempotency key, where the provider honours one.
    idempotency_header: str | None = None

    def calls(self, params: Any, env: ActionEnv) -> Sequence[HttpCall]:
        raise NotImplementedError

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Declared(Action):
    """An action that is one request: the data-over-code form most actions take.

    ``path`` may use ``{field}`` placeholders from the input (URL-quoted) and the catalog's
    account placeholders (left for the client); ``body`` builds the body from the input
    (default: every field not used in the path, ``None`` values dropped); ``outputs`` maps
    output names to dotted paths in the response JSON (``header:X-Name`` reads a header).
    """

    provider: str = ""
    name: str = ""
    input: type[ActionInput] = ActionInput
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = "/"
    body: Callable[[Any, ActionEnv], Any] | None = None
    form: bool = False
    params: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    idempotency_header: str | None = None

    def calls(self, params: Any, env: ActionEnv) -> Sequence[HttpCall]:
        path, used = fill_path(self.path, params)
        body = (
            self.body(params, env)
            if self.body
            else params.model_dump(exclude=used, exclude_none=True, mode="json")
        )
        if self.form:
            return [HttpCall(self.method, path, data=form_fields(body), params=self.params or None)]
        return [HttpCall(self.method, path, json=body, params=self.params or None)]

    def output(self, responses: Sequence[ProviderResponse]) -> dict[str, Any]:
        return pick_outputs(responses[-1], self.outputs)


def fill_path(template: str, params: BaseModel) -> tuple[str, set[str]]:
    """The path with input placeholders filled (URL-quoted) and the names it used.

    Placeholders that are not input fields (``{base_id}``) stay for the client, which fills
    them from the connection's validated account identifiers.
    """
    return templates.fill_path(template, params.model_dump(mode="json"))


def pick_outputs(response: ProviderResponse, outputs: Mapping[str, str]) -> dict[str, Any]:
    """Output values read from the response by dotted path (or ``header:Name``)."""
    body = response.json() if response.response.content else {}
    picked: dict[str, Any] = {}
    for name, path in outputs.items():
        if path.startswith("header:"):
            picked[name] = response.response.headers.get(path.removeprefix("header:"))
        else:
            picked[name] = dig(body, path)
    return picked


def form_fields(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested data as form fields in the ``a[b][0]=c`` style (Stripe, Twilio)."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(form_fields(item, f"{prefix}[{key}]" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(form_fields(item, f"{prefix}[{index}]"))
        return out
    if value is None:
        return {}
    if isinstance(value, bool):
        return {prefix: "true" if value else "false"}
    return {prefix: str(value)}
