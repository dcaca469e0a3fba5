"""The operator options contract tests build actions with: the settings defaults."""

from __future__ import annotations

from switchyard.settings import ActionSettings
from workers.actions.spec import ActionOptions

OPTIONS = ActionOptions(platform_fee_percent=ActionSettings().platform_fee_percent)
