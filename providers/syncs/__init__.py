"""Sync definitions (data), how their pages are walked from a checkpoint, and transforms."""

from providers.syncs.spec import SyncModels, SyncModelSpec, load_sync_models

__all__ = ["SyncModelSpec", "SyncModels", "load_sync_models"]
