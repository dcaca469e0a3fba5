"""The route part of the demo: one scan fires the route; Slack's 429 and 500 are absorbed."""

from __future__ import annotations

from pathlib import Path

from storage.repositories.organizations import OrganizationRepository
from switchyard.demo.route_firing import demo_routes
from switchyard.runtime import build_runtime
from switchyard.settings import load_settings


def test_demo_route_fires_once_through_faults(clean_env: Path) -> None:
    """Every step has an output and the sandbox holds one contact, message and row."""
    runtime = build_runtime(load_settings(_env_file=None, data_dir=clean_env))
    try:
        with runtime.sessions.begin() as session:
            org = OrganizationRepository(session).create("demo-routes").id
        summary = demo_routes(runtime, org)
    finally:
        runtime.close()
    assert all(step["output"] for step in summary["steps"])
    assert summary["sandbox"] == {"hubspot.contact": 1, "slack.message": 1, "google_sheets.row": 1}
