"""Every metric name Switchyard exposes, as Prometheus sees it (with type suffixes)."""

from __future__ import annotations

from prometheus_client.metrics import MetricWrapperBase

import contract.metrics
from switchyard.observability.exporter import QueueExporter

SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gauge": ("",),
}


def module_metrics() -> list[MetricWrapperBase]:
    """Every metric object defined in ``contract.metrics``, whether or not listed in ALL_METRICS."""
    return [m for m in vars(contract.metrics).values() if isinstance(m, MetricWrapperBase)]


def exporter() -> QueueExporter:
    def no_sources() -> None:
        raise AssertionError("describe() must not read sources")

    return QueueExporter(no_sources)  # type: ignore[arg-type]


def exposed_names() -> set[str]:
    """Sample names a scrape of a worker, the API or the exporter can contain."""
    names: set[str] = set()
    families = [f for m in module_metrics() for f in m.describe()] + exporter().describe()
    for family in families:
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


TARGET_LABELS = {"job", "instance"}
"""Labels Prometheus attaches to every scraped sample."""


def labels_by_name() -> dict[str, set[str]]:
    """For each exposed sample name, the label names it can carry."""
    found: dict[str, set[str]] = {}
    for metric in module_metrics():
        family = metric.describe()[0]
        for suffix in SUFFIXES[family.type]:
            extra = {"le"} if suffix == "_bucket" else set()
            found[family.name + suffix] = set(metric._labelnames) | extra | TARGET_LABELS
    for probe in exporter().probes:
        found[probe.name] = set(probe.labels) | TARGET_LABELS
    for family in exporter().describe():
        found.setdefault(
            family.name, TARGET_LABELS | ({"probe"} if "probe" in family.name else set())
        )
    return found
