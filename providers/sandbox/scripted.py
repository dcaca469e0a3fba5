"""A fault plan that plays a fixed script: pauses first, then error statuses in order.

``Scripted(statuses=[429, 500])`` answers the next request 429, the one after 500, then
serves normally: the exact "rate limited, then a server error" sequence an end-to-end test
needs. ``pauses=[3.0]`` holds the next request for 3 s before serving it (a window in
which a test kills a worker mid-call). It rides on :class:`FaultPlan`'s hooks: the handler
reads ``server_status`` and ``slow_seconds`` right after :meth:`draw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.sandbox.faults import FaultPlan


@dataclass
class Scripted(FaultPlan):
    """Error statuses and pauses served to the next requests, in order."""

    statuses: list[int] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)

    def draw(self) -> str | None:
        self.slow_seconds = self.pauses.pop(0) if self.pauses else 0.0
        if self.statuses:
            self.server_status = self.statuses.pop(0)
            return "server_error"
        return super().draw()
