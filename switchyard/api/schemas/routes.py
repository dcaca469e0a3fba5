"""``/v1/routes``: event routes as the API accepts and shows them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from switchyard.api.schemas.common import Answer, Item, OrgId, RequestBody
from workers.routing.definition import RouteDefinition


class RouteRequest(RouteDefinition):
    """A route: when ``event_type`` arrives (and ``filter`` matches), run ``steps`` in order."""

    org_id: OrgId = None


class Route(Item):
    name: str
    event_type: str


class RouteTestRequest(RequestBody):
    org_id: OrgId = None
    data: dict[str, Any] = Field(default_factory=dict, examples=[{"order_id": "A-1"}])


class RouteDryRun(Answer):
    """Whether the sample event matches, and what each step would receive."""
