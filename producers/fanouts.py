"""Fan-out targets of published events, in the order they run.

Each capability that reacts to events adds its target here (outbound webhooks: one
``deliver`` job per matching endpoint; routes: the actions of matching routes). A target is
a :class:`producers.events.Fanout`.
"""

from __future__ import annotations

from collections.abc import Sequence

from producers.events import Fanout


def default_fanouts() -> Sequence[Fanout]:
    """Every installed target; imported lazily so producers stay light to import."""
    from producers.route_fanout import route_fanout
    from producers.webhook_fanout import webhook_fanout

    return (webhook_fanout, route_fanout)
