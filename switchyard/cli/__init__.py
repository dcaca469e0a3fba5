"""The ``switchyard`` command: one module per command group, registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="switchyard",
    help="Integrations job runner: enqueue, run, inspect and replay per-org provider jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


_registered = False


def _register() -> None:
    """Attach the command groups once (imports are deferred so ``--help`` stays fast)."""
    global _registered
    if not _registered:
        from switchyard.cli import commands

        commands.register(app)
        _registered = True


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
