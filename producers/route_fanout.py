"""The routes fan-out target: an event starts every enabled route whose type and filter
match it (route management — create, show, test — is :mod:`switchyard.services.routes`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from producers.events import FanoutJob
from routes.matching import event_context, event_view, matches, step_job
from storage.models import Event
from storage.repositories.routes import RouteRepository


def route_fanout(session: Session, event: Event) -> Sequence[FanoutJob]:
    """The first step's job of every enabled route whose event type and filter match."""
    context = event_context(event_view(event))
    return [
        FanoutJob(
            key=f"route:{route.id}:0",
            job=step_job(event.org_id, event.id, route.id, 0, route.steps[0]),
        )
        for route in RouteRepository(session, event.org_id).matching(event.type)
        if route.steps and matches(route.filter, context)
    ]
