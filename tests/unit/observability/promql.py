"""Just enough PromQL reading to list the metric names an expression selects."""

from __future__ import annotations

import re

KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_NAME_MATCHER = re.compile(r'__name__\s*=\s*"([^"]+)"')


def metric_names(expr: str) -> set[str]:
    """Metric names in ``expr`` (Grafana variables such as ``$__rate_interval`` allowed)."""
    names = set(_NAME_MATCHER.findall(expr))
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    text = re.sub(r"\$\w+", "", text)
    for match in _IDENT.finditer(text):
        word = match.group(1)
        if word.lower() in KEYWORDS or re.fullmatch(r"\d+\w*", word):
            continue
        names.add(word)
    return names


_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_GROUP_LABELS = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^()]*)\)")


def selector_labels(expr: str) -> list[tuple[str, set[str]]]:
    """``(metric, label names matched)`` for each ``metric{...}`` selector."""
    return [
        (name, set(_MATCHER_LABEL.findall(_STRING.sub('""', body))))
        for name, body in _SELECTOR.findall(expr)
    ]


def grouping_labels(expr: str) -> set[str]:
    """Label names in ``by (...)``, ``without (...)``, ``on (...)``, ``ignoring (...)``."""
    return {
        label.strip()
        for group in _GROUP_LABELS.findall(expr)
        for label in group.split(",")
        if label.strip()
    }
