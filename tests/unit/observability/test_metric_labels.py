"""Metric definitions: low-cardinality labels only, and every metric labelled."""

from __future__ import annotations

import pytest

import contract.metrics as metrics
from contract.metrics import ALLOWED_LABELS, FORBIDDEN_LABELS
from tests.unit.observability.known_metrics import exporter, module_metrics


def label_names() -> dict[str, tuple[str, ...]]:
    found = {m._name: tuple(m._labelnames) for m in module_metrics()}
    found.update({p.name: p.labels for p in exporter().probes})
    return found


def test_every_label_is_in_the_allow_list() -> None:
    """No metric carries a label outside ALLOWED_LABELS (org, connection, endpoint ids...)."""
    offenders = {
        name: sorted(set(labels) - ALLOWED_LABELS)
        for name, labels in label_names().items()
        if set(labels) - ALLOWED_LABELS
    }
    assert offenders == {}


def test_the_allow_list_excludes_identifiers() -> None:
    """The allow-list itself never admits per-tenant identifiers."""
    assert not ALLOWED_LABELS & FORBIDDEN_LABELS


def test_all_metrics_lists_every_module_metric() -> None:
    """ALL_METRICS, which tooling iterates, is not missing a metric defined in the module."""
    assert {id(m) for m in module_metrics()} == {id(m) for m in metrics.ALL_METRICS}


def test_every_worker_metric_has_labels() -> None:
    """Unlabelled metrics create their value at import, before multiprocess mode is on."""
    assert [m._name for m in module_metrics() if not m._labelnames] == []


def test_metric_names_share_the_switchyard_prefix() -> None:
    """Every metric is namespaced, so dashboards can select them without collisions."""
    assert [n for n in label_names() if not n.startswith("switchyard_")] == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "2xx"),
        (204, "2xx"),
        (301, "3xx"),
        (429, "4xx"),
        (503, "5xx"),
        (None, "error"),
        (0, "error"),
    ],
)
def test_status_class(status: int | None, expected: str) -> None:
    """HTTP statuses collapse to five classes plus ``error`` for no response."""
    assert metrics.status_class(status) == expected


def test_queue_wait_counts_from_the_end_of_a_delay() -> None:
    """A delayed job waits from its eta, not from when it was enqueued."""
    assert metrics.queue_wait_seconds(1_000, None, 3_500) == 2.5
    assert metrics.queue_wait_seconds(1_000, 3_000, 3_500) == 0.5
    assert metrics.queue_wait_seconds(1_000, 9_000, 3_500) == 0.0


def test_a_429_counts_as_a_request_and_a_throttle() -> None:
    """observe_provider_response feeds the request counter, latency and the 429 counter."""
    before = metrics.PROVIDER_THROTTLED.labels("zzz-test")._value.get()
    metrics.observe_provider_response("zzz-test", 429, 0.2)
    assert metrics.PROVIDER_THROTTLED.labels("zzz-test")._value.get() == before + 1
    assert metrics.PROVIDER_REQUESTS.labels("zzz-test", "4xx")._value.get() >= 1
