"""Provider actions: named, typed operations looked up by (provider, action name).

Each provider group module declares its actions in an ``ACTIONS`` list; this registry is
the only place that knows them all, so callers never branch on provider names.
"""

from __future__ import annotations

from collections.abc import Iterable

from workers.actions import ai, commerce, crm, messaging, productivity, proxy, social, webhook
from workers.actions.spec import Action, ActionEnv, ActionInput, ActionOptions, HttpCall

__all__ = [
    "Action",
    "ActionEnv",
    "ActionInput",
    "ActionOptions",
    "HttpCall",
    "action_for",
    "all_actions",
    "generic_actions",
]


def _index(groups: Iterable[list[Action]]) -> dict[tuple[str, str], Action]:
    index: dict[tuple[str, str], Action] = {}
    for group in groups:
        for action in group:
            key = (action.provider, action.name)
            if key in index:
                raise RuntimeError(f"action {key} is declared twice")
            index[key] = action
    return index


_ACTIONS = _index(
    [
        messaging.ACTIONS,
        crm.ACTIONS,
        productivity.ACTIONS,
        commerce.ACTIONS,
        webhook.ACTIONS,
        ai.ACTIONS,
        social.ACTIONS,
    ]
)
_GENERIC = {action.name: action for action in proxy.GENERIC}


def action_for(provider: str, name: str) -> Action | None:
    """The action ``name`` of ``provider`` (or a generic one such as ``proxy``), or None."""
    return _ACTIONS.get((provider, name)) or _GENERIC.get(name)


def all_actions() -> list[Action]:
    """Every provider-specific action, sorted by provider and name."""
    return [_ACTIONS[key] for key in sorted(_ACTIONS)]


def generic_actions() -> list[Action]:
    """Actions every provider has (``proxy``)."""
    return list(_GENERIC.values())
