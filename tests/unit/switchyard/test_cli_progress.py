"""Progress bars of long commands: counts on a terminal, silence when piped."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from switchyard.cli import _register, app, progress


def test_progress_counts_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the bar shows done/total."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(progress, "errors", console)
    with progress.progress("replaying", 3) as advance:
        for _ in range(3):
            advance(1)
    rendered = screen.getvalue()
    assert "replaying" in rendered and "3/3" in rendered


def test_progress_is_silent_when_piped(clean_env: Path) -> None:
    """keys rotate piped prints its report and nothing else, on either stream."""
    _register()
    result = CliRunner().invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "credentials:" in result.stdout
    assert "━" not in result.output
    assert not any(line.startswith("re-encrypting") for line in result.output.splitlines())
