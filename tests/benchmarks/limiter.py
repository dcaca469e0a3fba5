"""Limiter benchmarks judged by the referee (tests/referee.py): real Redis, 2 worker
processes x 8 threads, every job one provider request through ``call_provider``.

(b) observe-only stand-in, 100 per 10 s, ``BENCH_LIMIT_JOBS`` (1,500) jobs queued at once,
    each run a cold start: windows of 10 s holding more than 100 (goal 0), busiest window,
    utilization = requests / (rate x span) (goal >= 0.98), deferrals per job, and the
    grant-to-arrival delay (the limiter's grant in Redis to the referee reading the request).
(e) enforcing stand-in at half the catalog's limit (50 per 10 s against 100), HubSpot and
    generic (Mailgun-like) header styles, ``BENCH_ENFORCE_JOBS`` (400) jobs, and a 3 s
    provider-side pause at 40 s: 429 share after the first 20 s (goal < 2 %), attempts per
    success (goal <= 1.05), and the most requests in any 10 s window starting after the
    pause (goal <= 50: no burst).
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from switchyard.app import Runtime
from tests.benchmarks.execution import _org, _runtime, workers
from tests.referee import Referee, busiest_window, window_counts, windows_over
from workers.handlers.action import BUILTIN_ACTIONS
from workers.limiter import Limiter, rate_key

RATE = {"limit": 100, "period_seconds": 10}
# Producers check actions against the worker's declarations (issue 19): this process must know
# the benchmark's ``ping`` action that bench_worker registers in the worker processes.
BUILTIN_ACTIONS.setdefault("ping", lambda job, context: {"ok": True})
PERIOD = 10.0


def _connect(rt: Runtime, org: str, provider: str) -> str:
    """A connection the referee will see as one key; returns its rate key."""
    account = {"portal_id": "4242"} if provider == "hubspot" else {}
    with rt.sessions.begin() as session:
        conn = ConnectionRepository(session, org).create(provider, account_identifier=account)
        store = CredentialRepository(session, org, rt.keyring)
        if provider == "hubspot":
            store.store(
                conn.id, auth_mode="oauth2_code", access_token="t-" + org, refresh_token="r"
            )
        else:
            store.store(conn.id, auth_mode="basic", secret="s-" + org, extra={"username": "api"})
    policy = rt.catalog.get(provider).rate_limit_with(RATE)
    return rate_key(policy, org_id=org, connection="default", account=account)


def _grants(limiter: Limiter, key: str, seen: dict[str, float], stop: threading.Event) -> None:
    """Collect grant times (Redis clock, s) per job from the window log while it lives."""
    log = limiter.prefix(key) + ":log"
    while not stop.is_set():
        for member, score in limiter.redis.zrange(log, 0, -1, withscores=True):
            seen.setdefault(member.decode().split(":")[0], score / 1000)
        stop.wait(1.0)


def _run(
    provider: str, referee: Referee, jobs: int, pause_at: float | None
) -> tuple[dict[str, float], str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        rt = _runtime(Path(tmp), "bl" + uuid.uuid4().hex[:6], {provider: {"rate_limit": RATE}})
        org = _org(rt, "busy")
        key = _connect(rt, org, provider)
        job = {"kind": "action", "org_id": org, "provider": provider, "payload": {"action": "ping"}}
        for _ in range(jobs):
            rt.enqueuer.enqueue(job)
        prefix = f"SWITCHYARD_PROVIDERS__{provider.upper()}__RATE_LIMIT__"
        env = {
            "BENCH_ENDPOINT": referee.url,
            prefix + "LIMIT": str(RATE["limit"]),
            prefix + "PERIOD_SECONDS": str(RATE["period_seconds"]),
        }
        grants: dict[str, float] = {}
        stop = threading.Event()
        collector = threading.Thread(target=_grants, args=(rt.limiter, key, grants, stop))
        collector.start()
        log = Path(tmp) / "workers.log"
        started = time.time()
        deadline = started + jobs / (referee.limit / referee.period) * 1.6 + 60
        with workers(rt, log, 2, env):
            while len(referee.accepted_times()) < jobs and time.time() < deadline:
                if pause_at is not None and time.time() - started >= pause_at:
                    referee.pause(3.0)
                    pause_at = None
                time.sleep(0.5)
            time.sleep(1.5)
        stop.set()
        collector.join()
        text = log.read_text(errors="replace")
        rt.close()
    return grants, text, started


def _delays(grants: dict[str, float], referee: Referee) -> str:
    delays = sorted((a.at - grants[a.job]) * 1000 for a in referee.arrivals if a.job in grants)
    if not delays:
        return "no grants matched"
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]  # noqa: E731
    return (
        f"median {statistics.median(delays):.1f} ms, p99 {pick(0.99):.1f} ms, "
        f"max {delays[-1]:.1f} ms ({len(delays)} matched)"
    )


def observe_only(run: int, jobs: int) -> None:
    referee = Referee(limit=100, period=PERIOD)
    grants, text, _ = _run("hubspot", referee, jobs, None)
    referee.close()
    times = referee.accepted_times()
    span = times[-1] - times[0]
    deferred = len(re.findall(r" job deferred id=", text))
    print(
        f"(b) run {run}: {len(times)} requests in {span:.1f} s; busiest 10 s window "
        f"{busiest_window(times, PERIOD)}; windows over 100: {windows_over(times, PERIOD, 100)}; "
        f"utilization {(len(times) - 1) / (span * 10):.3f}; deferrals per job "
        f"{deferred / max(jobs, 1):.2f}"
    )
    print(f"    grant-to-arrival: {_delays(grants, referee)}")


def enforcing(style: Any, provider: str, jobs: int) -> None:
    referee = Referee(limit=50, period=PERIOD, mode="enforce", style=style)
    _, _, started = _run(provider, referee, jobs, 40.0)
    referee.close()
    later = [a for a in referee.arrivals if a.at - started >= 20]
    refused = sum(1 for a in later if not a.accepted)
    accepted = referee.accepted_times()
    after = [t for t in accepted if t >= referee.paused_until]
    after_pause = max(window_counts(after, PERIOD), default=0)
    print(
        f"(e) {style} enforcing 50/10 s (catalog 100/10 s), {jobs} jobs: {len(accepted)} "
        f"succeeded; 429s after 20 s {refused}/{len(later)} "
        f"({refused / max(len(later), 1):.1%}); attempts per success "
        f"{len(referee.arrivals) / max(len(accepted), 1):.3f}; most in a 10 s window after "
        f"the pause {after_pause}; windows over 50: {windows_over(accepted, PERIOD, 50)}"
    )


def main() -> None:
    runs = int(os.environ.get("BENCH_LIMIT_RUNS", "2"))
    for run in range(1, runs + 1):
        observe_only(run, int(os.environ.get("BENCH_LIMIT_JOBS", "1500")))
    jobs = int(os.environ.get("BENCH_ENFORCE_JOBS", "400"))
    enforcing("hubspot", "hubspot", jobs)
    enforcing("generic", "mailgun", jobs)
