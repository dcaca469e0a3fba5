"""The client's models carry the fields of the server's schemas in the committed OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from switchyard.client import models

SNAPSHOT = Path(__file__).parents[2] / "fixtures" / "openapi.json"
PAIRS: list[tuple[type[BaseModel], str]] = [
    (models.Job, "JobRequest"),
    (models.JobCreated, "JobCreated"),
    (models.JobBatchItem, "JobBatchItem"),
    (models.JobBatchResult, "JobBatchResult"),
    (models.JobStatus, "JobStatus"),
    (models.EventPublished, "EventPublished"),
    (models.DeadJobPage, "DeadJobPage"),
    (models.DeadJobsReplayed, "DeadJobsReplayed"),
    (models.ReplayedDeadJob, "ReplayedDeadJob"),
    (models.RefusedDeadJob, "RefusedDeadJob"),
    (models.Connection, "Connection"),
    (models.ConnectionPage, "Page_Connection_"),
    (models.CheckResult, "CheckResult"),
    (models.ErrorDetail, "ErrorDetail"),
    (models.ErrorField, "ErrorField"),
]
SCHEMAS = json.loads(SNAPSHOT.read_text())["components"]["schemas"]


@pytest.mark.parametrize(("model", "name"), PAIRS, ids=[name for _, name in PAIRS])
def test_model_fields_match_the_schema(model: type[BaseModel], name: str) -> None:
    """Same field names, and the model requires nothing the server may leave out."""
    assert name in SCHEMAS, f"{name} is not in the server's OpenAPI"
    schema = SCHEMAS[name]
    assert set(model.model_fields) == set(schema["properties"])
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    assert required <= set(schema.get("required", []))
