"""The process of the full-sync benchmark: runs one sync in-process, prints JSON figures.

Kept separate so its peak RSS measures the sync alone, not the sandbox serving the data.
"""

from __future__ import annotations

import json
import os
import time

from contract.envelope import SyncJob
from storage.repositories.syncs import SyncRepository
from switchyard.runtime import build_runtime
from workers.sync import SyncOptions, run_sync


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not the rusage of the child as seen by the
    parent: Linux carries the parent's RSS at fork time over the exec into that figure."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    rt = build_runtime()
    job = SyncJob.model_validate(
        {
            "kind": "sync",
            "org_id": os.environ["BENCH_ORG"],
            "provider": "hubspot",
            "payload": {"model": "contacts", "mode": "full"},
        }
    )
    started = time.perf_counter()
    outcome = run_sync(rt.worker_context, job, SyncOptions(rt.worker_context.sync_lease_seconds))
    seconds = time.perf_counter() - started
    with rt.sessions() as session:
        run = SyncRepository(session, job.org_id).run(outcome.run_id or "")
        records = run.added + run.updated + run.unchanged
    print(
        json.dumps(
            {
                "status": outcome.status,
                "pages": outcome.pages,
                "records": records,
                "seconds": seconds,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )
    rt.close()


if __name__ == "__main__":
    main()
