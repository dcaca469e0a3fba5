"""A client generated from the served ``/openapi.json`` (openapi-python-client) compiles and
round-trips jobs against the live API: the contract is complete enough for any generator."""

from __future__ import annotations

import compileall
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.conftest import unavailable
from tests.integration.client.conftest import Live

pytestmark = pytest.mark.integration
PACKAGE = "switchyard_generated_client"
# `make dev` installs the generator in a venv of its own (its pins clash with Switchyard's).
GENERATOR = Path(sys.prefix) / "codegen" / "bin" / "openapi-python-client"


@pytest.fixture(scope="module")
def generated(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported from a temporary directory (removed from sys.path after)."""
    if not GENERATOR.exists():
        unavailable("openapi-python-client", FileNotFoundError(f"{GENERATOR}: run `make dev`"))
    spec = httpx.get(f"{live.base}/openapi.json", timeout=10).json()
    validate(spec)
    root = tmp_path_factory.mktemp("generated")
    (root / "openapi.json").write_text(json.dumps(spec))
    # No post hooks: the formatter they would call is not a generation step.
    (root / "config.json").write_text(
        json.dumps({"package_name_override": PACKAGE, "post_hooks": []})
    )
    out = root / PACKAGE
    command = [str(GENERATOR), "generate", "--meta", "none"]
    command += ["--path", str(root / "openapi.json"), "--config", str(root / "config.json")]
    run = subprocess.run(
        [*command, "--output-path", str(out)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout, run.stdout
    assert compileall.compile_dir(out, quiet=1), "the generated client does not compile"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _op(generated: ModuleType, tag: str, operation: str) -> Any:
    return importlib.import_module(f"{generated.__name__}.api.{tag}.{operation}")


def _models(generated: ModuleType) -> Any:
    return importlib.import_module(f"{generated.__name__}.models")


def test_every_operation_has_a_generated_function(generated: ModuleType, live: Live) -> None:
    """Each operationId of the served document became a module the client can call."""
    spec = httpx.get(f"{live.base}/openapi.json", timeout=10).json()
    package = Path(generated.__file__ or "").parent / "api"
    modules = {path.stem for path in package.rglob("*.py")}
    operations = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    assert operations <= modules, sorted(operations - modules)


def test_generated_client_enqueues_reads_lists_and_cancels(
    generated: ModuleType, live: Live
) -> None:
    """Through the generated client only: enqueue, read by id, list, cancel a waiting job."""
    models = _models(generated)
    client = generated.AuthenticatedClient(base_url=live.base, token=live.org_key)
    noop = models.JobRequestPayload.from_dict({"action": "noop"})
    created = _op(generated, "jobs", "create_job").sync(
        client=client,
        body=models.JobRequest(kind=models.Kind.ACTION, provider="stripe", payload=noop),
    )
    assert isinstance(created, models.JobCreated), created
    shown = _op(generated, "jobs", "get_job").sync(created.id, client=client)
    assert isinstance(shown, models.JobStatus), shown
    assert (shown.id, shown.kind, shown.provider) == (created.id, "action", "stripe")
    listed = _op(generated, "jobs", "list_jobs").sync(client=client, provider="stripe")
    assert isinstance(listed, models.JobList), listed
    assert created.id in [job.id for job in listed.items]

    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    waiting = _op(generated, "jobs", "create_job").sync(
        client=client,
        body=models.JobRequest(
            kind=models.Kind.ACTION, provider="stripe", payload=noop, not_before=later
        ),
    )
    cancelled = _op(generated, "jobs", "cancel_job").sync(waiting.id, client=client)
    after = _op(generated, "jobs", "get_job").sync(waiting.id, client=client)
    assert isinstance(cancelled, models.JobStatus), cancelled
    assert (cancelled.state.value, after.state.value) == ("cancelled", "cancelled")


def test_generated_client_parses_the_error_shape(generated: ModuleType, live: Live) -> None:
    """A refused job parses as the one documented error model, naming the field."""
    models = _models(generated)
    client = generated.AuthenticatedClient(base_url=live.base, token=live.org_key)
    refused = _op(generated, "jobs", "create_job").sync_detailed(
        client=client,
        body=models.JobRequest(
            kind=models.Kind.ACTION,
            provider="stripe",
            payload=models.JobRequestPayload.from_dict({"action": "teleport"}),
        ),
    )
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Error), refused.content
    assert [f.field for f in refused.parsed.error.fields] == ["payload.action"]
    missing = _op(generated, "jobs", "get_job").sync_detailed("no-such-job", client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.Error)
