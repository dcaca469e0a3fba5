"""Dashboards and alert rules: valid files, and every expression uses metrics that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.observability.known_metrics import exposed_names, labels_by_name
from tests.unit.observability.promql import grouping_labels, metric_names, selector_labels

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = sorted((ROOT / "dashboards" / "grafana" / "dashboards").glob("*.json"))
RULES = sorted((ROOT / "dashboards" / "prometheus" / "rules").glob("*.yml"))
PROMETHEUS_CONFIG = ROOT / "dashboards" / "prometheus" / "prometheus.yml"
PROMETHEUS_BUILTINS = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
REQUIRED_DASHBOARDS = {"overview", "providers", "dlq", "webhooks", "syncs"}
REQUIRED_ALERTS = {
    "SwitchyardQueueAgeHigh",
    "SwitchyardDeadLetterQueueGrowing",
    "SwitchyardDeadJobsUnrecorded",
    "SwitchyardTokenRefreshFailures",
    "SwitchyardProvider429Storm",
    "SwitchyardNoLiveWorkers",
    "SwitchyardWebhookEndpointDisabled",
    "SwitchyardJobFailureRatioHigh",
    "SwitchyardSyncFailureRatioHigh",
    "SwitchyardWebhookFailureRatioHigh",
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, expression) for every panel target and templating query of every dashboard."""
    found: list[tuple[str, str]] = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                found.append((f"{path.name}: {panel['title']}", target["expr"]))
        for variable in dashboard.get("templating", {}).get("list", []):
            if variable.get("type") == "datasource":
                continue
            query = variable.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query or "")
            match = re.fullmatch(r"label_values\((\w+),\s*\w+\)", text)
            assert match, f"{path.name}: variable {variable['name']} uses {text!r}"
            found.append((f"{path.name}: ${variable['name']}", match.group(1)))
    return found


def alert_rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def test_the_expected_dashboards_exist() -> None:
    """Overview, per-provider, DLQ and errors, webhooks and syncs each have a dashboard."""
    assert {p.stem for p in DASHBOARDS} >= REQUIRED_DASHBOARDS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_valid_json_with_unique_panel_ids(path: Path) -> None:
    """Each dashboard parses, has a uid and title, and no two panels share an id."""
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"]
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for panel in panels(dashboard):
        if panel["type"] != "row":
            assert panel["targets"], f"{path.name}: panel {panel['title']} has no query"
            assert panel["datasource"] == DATASOURCE
            assert all(target["datasource"] == DATASOURCE for target in panel["targets"])


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_pick_their_prometheus_from_a_variable(path: Path) -> None:
    """No hard-coded datasource uid: a ${datasource} variable lets any Grafana import them."""
    dashboard = json.loads(path.read_text())
    variables = dashboard["templating"]["list"]
    assert {"name": "datasource", "type": "datasource", "query": "prometheus"}.items() <= (
        next(v for v in variables if v["name"] == "datasource").items()
    )
    assert '"uid": "prometheus"' not in path.read_text()


def test_the_api_row_shows_request_metrics() -> None:
    """The overview has an HTTP API row reading the API's request rate and latency."""
    overview = json.loads((ROOT / "dashboards/grafana/dashboards/overview.json").read_text())
    exprs = " ".join(t["expr"] for p in panels(overview) for t in p.get("targets", []))
    assert any(p["type"] == "row" and p["title"] == "HTTP API" for p in overview["panels"])
    assert "switchyard_api_requests_total" in exprs
    assert "switchyard_api_request_duration_seconds_bucket" in exprs


def test_dashboard_uids_are_unique() -> None:
    """Grafana refuses two provisioned dashboards with one uid."""
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


def test_every_dashboard_expression_uses_existing_metrics() -> None:
    """No panel or variable queries a metric that no Switchyard process exposes."""
    known = exposed_names() | PROMETHEUS_BUILTINS
    unknown = {
        where: sorted(metric_names(expr) - known)
        for where, expr in dashboard_expressions()
        if metric_names(expr) - known
    }
    assert unknown == {}


def test_every_alert_expression_uses_existing_metrics() -> None:
    """No alert rule reads a metric that no Switchyard process exposes."""
    known = exposed_names() | PROMETHEUS_BUILTINS
    unknown = {
        rule["alert"]: sorted(metric_names(rule["expr"]) - known)
        for rule in alert_rules()
        if metric_names(rule["expr"]) - known
    }
    assert unknown == {}


def label_mistakes(expr: str) -> list[str]:
    """Selectors matching, or groupings by, labels the metrics involved do not carry."""
    known = labels_by_name()
    mistakes = [
        f"{name}{{{', '.join(sorted(labels - known[name]))}}}"
        for name, labels in selector_labels(expr)
        if name in known and labels - known[name]
    ]
    names = metric_names(expr) & set(known)
    carried = set().union(*(known[name] for name in names)) if names else set()
    mistakes += [f"by {label}" for label in sorted(grouping_labels(expr) - carried)]
    return mistakes


def test_expressions_use_only_labels_their_metrics_carry() -> None:
    """A filter or grouping on a label the metric lacks silently returns nothing or one line."""
    everything = dashboard_expressions() + [(r["alert"], r["expr"]) for r in alert_rules()]
    wrong = {where: label_mistakes(expr) for where, expr in everything if label_mistakes(expr)}
    assert wrong == {}


def test_the_label_check_catches_a_wrong_label() -> None:
    """Grouping job duration by provider (it has queue and kind only) is reported."""
    expr = 'sum by (provider) (rate(switchyard_job_duration_seconds_count{org_id="x"}[5m]))'
    assert label_mistakes(expr) == ["switchyard_job_duration_seconds_count{org_id}", "by provider"]


def test_every_expression_names_at_least_one_metric() -> None:
    """The PromQL reader found something in each expression (guards the guard)."""
    empty = [where for where, expr in dashboard_expressions() if not metric_names(expr)]
    empty += [r["alert"] for r in alert_rules() if not metric_names(r["expr"])]
    assert empty == []


def test_the_required_alerts_exist_with_summaries() -> None:
    """The alerts the runbook describes exist, each with a severity and a summary."""
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert set(rules) >= REQUIRED_ALERTS
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}, name
        assert rule["annotations"]["summary"], name


def test_the_promql_reader() -> None:
    """Names are found; functions, keywords, labels, ranges and variables are not."""
    expr = (
        'histogram_quantile(0.95, sum by (le, queue) (rate(a_bucket{queue=~"$queue"}'
        "[$__rate_interval]))) / on (queue) group_left b_total offset 5m > bool 3 "
        'and c unless {__name__="d"}'
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c", "d"}


promtool = shutil.which("promtool")


@pytest.mark.skipif(promtool is None, reason="promtool not on PATH (Debian package prometheus)")
def test_promtool_accepts_the_rules() -> None:
    """promtool check rules passes on every rule file."""
    result = subprocess.run(
        [str(promtool), "check", "rules", *map(str, RULES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(promtool is None, reason="promtool not on PATH (Debian package prometheus)")
def test_promtool_accepts_the_scrape_config() -> None:
    """promtool check config passes on the compose Prometheus configuration."""
    result = subprocess.run(
        [str(promtool), "check", "config", "--syntax-only", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_provisioning_points_at_the_mounted_dashboards() -> None:
    """The dashboard provider reads the path compose mounts, the datasource has our uid."""
    provider = yaml.safe_load(
        (ROOT / "dashboards/grafana/provisioning/dashboards/switchyard.yml").read_text()
    )
    datasource = yaml.safe_load(
        (ROOT / "dashboards/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/switchyard"
    assert datasource["datasources"][0]["uid"] == "prometheus"
