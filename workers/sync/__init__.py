"""Sync runs: claim the (connection, model), walk pages, upsert, checkpoint, finish."""

from workers.sync.engine import SyncOptions, SyncOutcome, run_sync
from workers.sync.records import SyncDataError

__all__ = ["SyncDataError", "SyncOptions", "SyncOutcome", "run_sync"]
