"""`make bench`: every benchmark, printed as figures and ratios measured on this machine."""

from __future__ import annotations

import os

from tests.benchmarks import (
    cluster,
    console,
    enqueue,
    execution,
    exporter,
    limiter,
    syncs,
    throughput,
    webhooks,
)

if __name__ == "__main__":
    throughput.main(
        jobs=int(os.environ.get("BENCH_JOBS", "5000")),
        processes=int(os.environ.get("BENCH_PROCESSES", "2")),
        threads=int(os.environ.get("BENCH_THREADS", "8")),
        rounds=int(os.environ.get("BENCH_ROUNDS", "3")),
    )
    enqueue.main()
    limiter.main()
    execution.main()
    webhooks.main()
    syncs.main()
    exporter.main()
    console.main()
    cluster.main(jobs=int(os.environ.get("BENCH_CLUSTER_JOBS", "3000")))
