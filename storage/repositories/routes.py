"""Routes and succeeded action runs of one org; every query carries the org's id.

Routes arrive here already validated against the action catalog (that needs the workers'
action registry, which storage must not import); this layer checks names and shapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import ConflictError, InvalidFieldError, NotFoundError
from storage.models import ActionRun, Route
from storage.repositories.checks import SLUG_PATTERN, flush_unique, require_match, require_text

EVENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


class RouteRepository:
    """Create, find and delete the routes of the org given at construction."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def create(
        self,
        name: str,
        event_type: str,
        steps: Sequence[Mapping[str, Any]],
        *,
        filter: Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> Route:
        """Store a route; its name is unique within the org."""
        require_match("name", name, SLUG_PATTERN)
        require_match("event_type", event_type, EVENT_TYPE)
        if not steps:
            raise InvalidFieldError("steps", "a route needs at least one step")
        if self._find(name) is not None:
            raise ConflictError("route", "name", name)
        route = Route(
            org_id=self._org_id,
            name=name,
            event_type=event_type,
            filter=dict(filter or {}),
            steps=[dict(step) for step in steps],
            enabled=enabled,
        )
        self._session.add(route)
        flush_unique(self._session, "route", "name", name)
        return route

    def get(self, route_id: str) -> Route:
        """The org's route with this id, or :class:`NotFoundError`."""
        route = self._session.scalars(
            select(Route).where(Route.org_id == self._org_id, Route.id == route_id)
        ).one_or_none()
        if route is None:
            raise NotFoundError("route", route_id)
        return route

    def get_by_name_or_id(self, ref: str) -> Route:
        """The org's route named ``ref``, else with id ``ref``."""
        return self._find(ref) or self.get(ref)

    def list(self, *, event_type: str | None = None) -> Sequence[Route]:
        """The org's routes by name, optionally for one event type."""
        query = select(Route).where(Route.org_id == self._org_id).order_by(Route.name)
        if event_type is not None:
            query = query.where(Route.event_type == event_type)
        return self._session.scalars(query).all()

    def matching(self, event_type: str) -> Sequence[Route]:
        """Enabled routes for an event type (the filter is the caller's to apply)."""
        return [r for r in self.list(event_type=event_type) if r.enabled]

    def delete(self, route_id: str) -> None:
        """Delete the route; pipelines already running fail their next step visibly."""
        self._session.delete(self.get(route_id))
        self._session.flush()

    def _find(self, name: str) -> Route | None:
        return self._session.scalars(
            select(Route).where(Route.org_id == self._org_id, Route.name == name)
        ).one_or_none()


class ActionRunRepository:
    """Succeeded action calls of one org, by idempotency key."""

    def __init__(self, session: Session, org_id: str) -> None:
        self._session = session
        self._org_id = org_id

    def get(self, key: str) -> ActionRun | None:
        """The succeeded run with this key, if any."""
        return self._session.scalars(
            select(ActionRun).where(ActionRun.org_id == self._org_id, ActionRun.key == key)
        ).one_or_none()

    def record(
        self,
        key: str,
        *,
        provider: str,
        action: str,
        output: Mapping[str, Any],
        event_id: str | None = None,
        route_id: str | None = None,
        step: int | None = None,
    ) -> ActionRun:
        """Record a success; a key recorded already raises :class:`ConflictError`."""
        require_text("key", key, 200)
        run = ActionRun(
            org_id=self._org_id,
            key=key,
            provider=provider,
            action=action,
            output=dict(output),
            event_id=event_id,
            route_id=route_id,
            step=step,
        )
        self._session.add(run)
        flush_unique(self._session, "action run", "key", key)
        return run

    def pipeline_outputs(self, event_id: str, route_id: str) -> dict[int, dict[str, Any]]:
        """Outputs of a route's succeeded steps for one event, by step position."""
        runs = self._session.scalars(
            select(ActionRun).where(
                ActionRun.org_id == self._org_id,
                ActionRun.event_id == event_id,
                ActionRun.route_id == route_id,
            )
        ).all()
        return {run.step: dict(run.output) for run in runs if run.step is not None}
