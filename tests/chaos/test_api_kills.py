"""`switchyard api` SIGKILLed while clients post keyed jobs and re-post unanswered ones."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import httpx
import pytest

from tests.chaos.stack import Ledger, Stack, full_size

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def post_until_answered(base: str, key: str, job: dict[str, object], token: str) -> int:
    """What a careful client does: re-post the same key until the API answers."""
    while True:
        try:
            reply = httpx.post(
                base + "/v1/jobs",
                json={**job, "idempotency_key": key},
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
        except httpx.HTTPError:
            reply = None
        if reply is not None and reply.status_code in (200, 201):
            return reply.status_code
        time.sleep(0.2)


def test_each_idempotency_key_runs_exactly_once_across_api_kills(stack: Stack) -> None:
    """Keys posted while the API is killed and restarted each run once: none lost, none twice."""
    keys_per_client, clients, kills = (125, 16, 12) if full_size() else (30, 8, 3)
    orgs = stack.orgs(3)
    tokens = {org: stack.api_key(org) for org in orgs}
    api, base = stack.api()
    port = urlparse(base).port
    stack.worker("w1")
    answered: list[int] = []

    def client(number: int) -> None:
        org = orgs[number % 3]
        for _ in range(keys_per_client):
            marker = stack.enqueue_marker()  # the key is the marker: one job per key
            job = Ledger.job(org, marker)
            answered.append(post_until_answered(base, marker, job, tokens[org]))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for _ in range(kills):
        time.sleep(1.5)
        stack.kill(api)
        api, _ = stack.api("api", port=port)
    for thread in threads:
        thread.join(timeout=300)
    report = stack.settle("api_sigkill_keyed", timeout=180, kills=kills)
    hits = stack.stand_in.counts()
    twice = sorted(m for m in stack.ledger.must_run if hits[m] > 1)
    report.extra.update(
        kills=kills, duplicate_answers=answered.count(200), keys_run_twice=len(twice)
    )
    report.save()
    assert len(answered) == keys_per_client * clients
    assert report.lost == [], f"{len(report.lost)} keys never ran"
    assert twice == [], f"{len(twice)} keys ran twice"
