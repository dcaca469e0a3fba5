"""The fuzz stage (issue 17, item 4): Schemathesis generates requests for every operation of
``/openapi.json`` and sends them to a live API (uvicorn on a loopback port) on real Redis
and PostgreSQL, once with an org key and once with an admin key. Every answer must be a
non-5xx status the operation declares, with a body and content type matching its schema.

Each operation gets data valid for its schema (positive) and data that is not (negative).
Bounded for ``make test``: ``FUZZ_EXAMPLES`` generated cases per operation, key and mode,
a fixed seed, no shrinking. The summary line (requests, operations, statuses) is printed at
the end of the module.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.live_api import live_runtime, served

pytestmark = pytest.mark.integration
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
"""Cases per operation, key and mode (valid / invalid data); raise it for a deeper run (``FUZZ_EXAMPLES=200 make fuzz``)."""
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
SENT: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The API served by uvicorn on 127.0.0.1, its runtime on Redis + PostgreSQL (provider
    calls go to the in-process sandbox), and an org key and an admin key."""
    runtime = live_runtime(request, tmp_path_factory, "fuzz")
    keys = _keys(runtime)
    with served(runtime) as base:
        yield base, keys
    runtime.close()
    _report()


def _keys(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("fuzz")).id
        repo = ApiKeyRepository(session)
        return {
            "org": repo.create(org, "fuzz").key.reveal(),
            "admin": repo.create(None, "fuzz-admin").key.reveal(),
        }


def _report() -> None:
    total = sum(SENT.values())
    operations = sorted({op for op, _ in SENT})
    statuses = Counter[int]()
    for (_, status), count in SENT.items():
        statuses[status] += count
    print(
        f"\nfuzz: {total} requests, {len(operations)} operations, "
        f"statuses {dict(sorted(statuses.items()))}"
    )


FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def fuzz(live: Any, key: str) -> list[str]:
    """Fuzz every operation with ``key``; the failures found, one line each."""
    base, keys = live
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"Authorization": f"Bearer {keys[key]}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 37
    for operation in operations:
        for mode in GenerationMode:

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)
                SENT[(case.operation.label, response.status_code)] += 1

            try:
                run()
            except Unsatisfiable:
                continue  # no invalid data exists for this operation (nothing constrained)
            except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} ({mode.value}): {str(exc).strip()[:2000]}")
    return failures


def test_with_an_org_key(live: Any) -> None:
    """With an org key: no 5xx, no undeclared status, no body outside the declared schema."""
    failures = fuzz(live, "org")
    assert not failures, "\n\n".join(failures)


def test_with_an_admin_key(live: Any) -> None:
    """With an admin key: no 5xx, no undeclared status, no body outside the declared schema."""
    failures = fuzz(live, "admin")
    assert not failures, "\n\n".join(failures)
