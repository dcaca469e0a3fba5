"""Deterministic faults a test (or an operator) injects into the sandbox per provider.

Counts (``server_errors=3``) make bursts exact; rates (``error_rate=0.2``) draw from a
``random.Random`` seeded per plan, so the same plan and seed fail the same requests on every
run. A fault applies to API calls and token endpoint calls alike, as real outages do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


class SandboxTimeout(Exception):
    """Raised by the handler to simulate a provider that never answers."""


@dataclass
class FaultPlan:
    """What to break next for one provider (or ``"*"`` for all)."""

    server_errors: int = 0
    server_status: int = 503
    timeouts: int = 0
    malformed: int = 0
    slow_seconds: float = 0.0
    error_rate: float = 0.0
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        """The fault for the next request: 'timeout', 'server_error', 'malformed' or None."""
        if self.timeouts > 0:
            self.timeouts -= 1
            return "timeout"
        if self.server_errors > 0:
            self.server_errors -= 1
            return "server_error"
        if self.error_rate and self._rng.random() < self.error_rate:
            return "server_error"
        if self.malformed > 0:
            self.malformed -= 1
            return "malformed"
        return None
