"""`switchyard demo`: the embedded pipeline end to end, its report balancing to the job."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from switchyard.cli import _register, app
from switchyard.demo.sections import REFRESH_JOBS


def test_demo_json_accounts_for_every_job(clean_env: Path) -> None:
    """Every accepted job (submitted or enqueued by events) ends succeeded or dead-lettered;
    refusals and HTTP answers are shown."""
    _register()
    result = CliRunner().invoke(app, ["demo", "--json", "--jobs-per-org", "4"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    jobs = report["jobs"]
    assert jobs["internal"] >= 3 + REFRESH_JOBS  # route steps and the refresh burst
    assert jobs["accepted"] + jobs["internal"] == jobs["succeeded"] + jobs["dead_lettered"]
    assert jobs["submitted"] == jobs["accepted"] + jobs["duplicates"] + jobs["rejected"]
    assert {r["field"] for r in report["rejections"]} == {
        "provider",
        "kind",
        "payload",
        "payload.input.access_token",
        "payload.action",
        "org_id",
    }
    assert [c["status"] for c in report["http"]] == [201, 403, 401]
    assert jobs["retried"] >= 3  # the sandbox fails the first three HubSpot calls with 503
    assert {d["error_class"] for d in report["dead_letters"]} == {"connection_error"}
    # Only the calls to an unconnected provider (one per org): unknown actions are refused
    # at enqueue since #19, and the demo's sync jobs run since #7.
    assert len(report["dead_letters"]) == jobs["dead_lettered"] == 3


def test_demo_tables_explain_their_columns_and_show_slack_faults(clean_env: Path) -> None:
    """The text report explains each stage, balances in a caption, and shows Slack's 429/500."""
    _register()
    result = CliRunner().invoke(app, ["demo", "--jobs-per-org", "2"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "meaning" in text and "attempts put back until the provider's rate limit" in text
    assert "succeeded + dead_lettered = accepted + internal" in text
    assert "retried and deferred count attempts, not jobs" in text
    assert "429, then 500, then 200" in text
    assert (
        "Slack (answering 429, then 500)" in (Path(__file__).parents[3] / "README.md").read_text()
    )
