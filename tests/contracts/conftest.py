"""Contract tests share the provider unit tests' catalog and sandbox fixtures."""

from tests.unit.providers.conftest import catalog, sandbox, sandboxed_catalog

__all__ = ["catalog", "sandbox", "sandboxed_catalog"]
