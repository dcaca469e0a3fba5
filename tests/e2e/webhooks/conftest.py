"""The loopback-delivering runtime, its org and a receiver: the integration webhook fixtures."""

from tests.integration.webhooks.conftest import hooks_org, hooks_runtime, receiver

__all__ = ["hooks_org", "hooks_runtime", "receiver"]
