"""`switchyard enqueue` reports bad input in one line, never a traceback (issue 17, 5)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from switchyard.cli import app
from tests.integration.cli.test_enqueue_cli import env, org_id

pytestmark = pytest.mark.integration
__all__ = ["env", "org_id"]


def deep_payload(levels: int) -> str:
    return '{"action": "noop", "input": ' + '{"a": ' * levels + "{}" + "}" * levels + "}"


@pytest.mark.parametrize(
    ("levels", "message"),
    [(300, "payload: nested deeper than"), (5000, "--payload: nested deeper than")],
)
def test_deep_payload_is_one_line(
    env: dict[str, str], org_id: str, levels: int, message: str
) -> None:
    """A payload nested too deep exits 2 with one line naming the payload."""
    args = ["enqueue", "--org", org_id, "--provider", "hubspot", "--kind", "action"]
    result = CliRunner().invoke(app, [*args, "--payload", deep_payload(levels)], env=env)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_org_that_is_not_utf8_is_one_line(env: dict[str, str], org_id: str) -> None:
    """Bytes that are not UTF-8 in --org (lone surrogates in Python) exit 2 naming --org."""
    args = ["enqueue", "--org", "acme\udcff", "--provider", "hubspot", "--kind", "refresh"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "--org: not valid UTF-8" in result.stderr and "Traceback" not in result.output
