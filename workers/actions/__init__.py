"""Provider actions: named, typed operations looked up by (provider, action name).

Each provider group module declares its actions in an ``ACTIONS`` list; this registry is
the only place that knows them all, so callers never branch on provider names.
"""

from __future__ import annotations

from collections.abc import Iterable

from workers.actions import commerce, crm, messaging, productivity, webhook
from workers.actions.spec import Action, ActionEnv, ActionInput, ActionOptions, HttpCall

__all__ = [
    "Action",
    "ActionEnv",
    "ActionInput",
    "ActionOptions",
    "HttpCall",
    "action_for",
    "all_actions",
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
    [messaging.ACTIONS, crm.ACTIONS, productivity.ACTIONS, commerce.ACTIONS, webhook.ACTIONS]
)


def action_for(provider: str, name: str) -> Action | None:
    """The action ``name`` of ``provider``, or None."""
    return _ACTIONS.get((provider, name))


def all_actions() -> list[Action]:
    """Every provider action, sorted by provider and name."""
    return [_ACTIONS[key] for key in sorted(_ACTIONS)]
