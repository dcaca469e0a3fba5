"""What the delivery handler needs from the deployment, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx


@dataclass(frozen=True)
class Outbound:
    """The guarded HTTP client and the operator's delivery limits."""

    client: httpx.Client
    disable_after: timedelta = timedelta(days=5)
    max_response_bytes: int = 64 * 1024
    ordered_recheck_seconds: float = 5.0
    user_agent: str = "Switchyard-Webhooks/1"
