"""Worker middleware, one concern per module (dramatiq's habit)."""

from workers.middleware.attempts import AttemptClock
from workers.middleware.dead_letter import DeadLetter
from workers.middleware.job_metrics import JobMetrics
from workers.middleware.outcomes import OutcomeLog, outcome_of
from workers.middleware.resources import Resources

__all__ = ["AttemptClock", "DeadLetter", "JobMetrics", "OutcomeLog", "Resources", "outcome_of"]
