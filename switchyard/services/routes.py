"""Routes: the event fan-out target that starts pipelines, and route management shared by
the HTTP API and the CLI (create, list, show, delete, test).

Routes are validated before they are stored (:func:`workers.routing.definition.validate_route`:
unknown actions, bad templates, inputs the action refuses), and each step's connection must
exist, so a broken mapping is an error when it is saved, not when an event arrives.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import FieldError
from providers.registry import Catalog
from routes.matching import event_context, matches
from storage.errors import NotFoundError
from storage.models import Route
from storage.repositories.connections import ConnectionRepository
from storage.repositories.routes import RouteRepository
from storage.types import utcnow
from switchyard.services.errors import translated
from workers.actions import action_for
from workers.errors import PermanentJobError
from workers.routing.definition import InvalidRouteError, RouteDefinition, validate_route
from workers.routing.pipeline import render_input


@translated
def create_route(
    sessions: sessionmaker[Session], catalog: Catalog, org_id: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate and store a route; :class:`InvalidRouteError` names every bad field."""
    definition = validate_route(data, catalog)
    steps = [_canonical(step.model_dump(exclude_none=True), catalog) for step in definition.steps]
    with sessions.begin() as session:
        _require_connections(session, org_id, steps)
        route = RouteRepository(session, org_id).create(
            definition.name,
            definition.event_type,
            steps,
            filter=definition.filter,
            enabled=definition.enabled,
        )
        return route_view(route)


@translated
def list_routes(sessions: sessionmaker[Session], org_id: str) -> list[dict[str, Any]]:
    with sessions() as session:
        return [route_view(r) for r in RouteRepository(session, org_id).list()]


@translated
def show_route(sessions: sessionmaker[Session], org_id: str, ref: str) -> dict[str, Any]:
    """One route by name or id, or :class:`NotFoundError`."""
    with sessions() as session:
        return route_view(RouteRepository(session, org_id).get_by_name_or_id(ref))


@translated
def delete_route(sessions: sessionmaker[Session], org_id: str, ref: str) -> None:
    with sessions.begin() as session:
        repo = RouteRepository(session, org_id)
        repo.delete(repo.get_by_name_or_id(ref).id)


@translated
def dry_run_route(
    sessions: sessionmaker[Session], org_id: str, ref: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A dry run: does a sample event match, and what input would each step get?

    Earlier steps' outputs are shown as ``<steps.N.field>`` placeholders; nothing is sent.
    """
    with sessions() as session:
        route = route_view(RouteRepository(session, org_id).get_by_name_or_id(ref))
    event = {
        "id": "test",
        "type": route["event_type"],
        "created_at": utcnow().isoformat(),
        "data": dict(data),
    }
    outputs = {str(i): _Placeholder(str(i)) for i in range(len(route["steps"]))}
    outputs |= {s["name"]: _Placeholder(s["name"]) for s in route["steps"] if s.get("name")}
    context = event_context(event, outputs)
    steps = [_preview(step, context) for step in route["steps"]]
    return {"route": route["name"], "matches": matches(route["filter"], context), "steps": steps}


def route_view(route: Route) -> dict[str, Any]:
    """A route as the API and CLI show it."""
    return {
        "id": route.id,
        "name": route.name,
        "event_type": route.event_type,
        "filter": dict(route.filter or {}),
        "steps": [dict(s) for s in route.steps],
        "enabled": route.enabled,
        "created_at": route.created_at.isoformat(),
    }


def _preview(step: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    action = action_for(step["provider"], step["action"])
    shown = {"provider": step["provider"], "action": step["action"]}
    if action is None:
        return {**shown, "error": "unknown action"}
    try:
        params = render_input(action, step.get("input", {}), context)
    except PermanentJobError as exc:
        return {**shown, "error": str(exc)}
    return {**shown, "input": params.model_dump(mode="json", by_alias=True, exclude_none=True)}


class _Placeholder(Mapping[str, str]):
    """An earlier step's output in a dry run: any field reads as ``<steps.N.field>``."""

    def __init__(self, step: str) -> None:
        self._step = step

    def __getitem__(self, key: str) -> str:
        return f"<steps.{self._step}.{key}>"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _canonical(step: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    return {**step, "provider": catalog.get(step["provider"]).name}


def _require_connections(session: Session, org_id: str, steps: list[dict[str, Any]]) -> None:
    errors = []
    for index, step in enumerate(steps):
        name = step.get("connection", "default")
        try:
            ConnectionRepository(session, org_id).get_by_provider(step["provider"], name)
        except NotFoundError:
            message = f"no connection {name!r} to {step['provider']}: connect it first"
            errors.append(FieldError(f"steps.{index}.connection", message))
    if errors:
        raise InvalidRouteError(errors)


__all__ = [
    "InvalidRouteError",
    "RouteDefinition",
    "create_route",
    "delete_route",
    "dry_run_route",
    "list_routes",
    "show_route",
]
