"""The API counts requests by route template and status class, and times them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from switchyard.api.app import create_app
from switchyard.runtime import Runtime


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_route_template_never_by_id(
    embedded_runtime_with: Callable[..., Runtime],
) -> None:
    """A request for one dead job counts under the route's template, with its status class."""
    client = TestClient(create_app(embedded_runtime_with()))
    route = "/v1/dlq/{dead_job_id}"
    before = sample("switchyard_api_requests_total", method="GET", route=route, status_class="4xx")
    timed = sample("switchyard_api_request_duration_seconds_count", method="GET", route=route)
    assert client.get("/v1/dlq/0123456789abcdef").status_code == 401
    after = sample("switchyard_api_requests_total", method="GET", route=route, status_class="4xx")
    assert after == before + 1
    assert (
        sample("switchyard_api_request_duration_seconds_count", method="GET", route=route)
        == timed + 1
    )
    exposed = client.get("/metrics").text
    assert "0123456789abcdef" not in exposed


def test_unmatched_paths_share_one_label(embedded_runtime_with: Callable[..., Runtime]) -> None:
    """Random paths (scanners) cannot grow the label set: they count as 'unmatched'."""
    client = TestClient(create_app(embedded_runtime_with()))
    labels = {"method": "GET", "route": "unmatched", "status_class": "4xx"}
    before = sample("switchyard_api_requests_total", **labels)
    client.get("/wp-admin/x1")
    client.get("/wp-admin/x2")
    assert sample("switchyard_api_requests_total", **labels) == before + 2
