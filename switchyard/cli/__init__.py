"""The ``switchyard`` command: one module per command group, registered here.

The root group turns infrastructure failures of any command (database missing or
unreachable, Redis down, a key ring that cannot open the stored secrets, bad settings) into
one line saying what failed and what to do; ``--debug`` or ``SWITCHYARD_LOG_LEVEL=DEBUG``
prints the traceback too.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption
from typer.exceptions import TyperException

_typed = TyperOption.display_type_rich


def _flag_shows_no_type(self: TyperOption, ctx: Any) -> str | None:
    """Typer labels every flag ``<bool>`` in help though a flag takes no value: show none."""
    return None if self.is_flag else _typed(self, ctx)


TyperOption.display_type_rich = _flag_shows_no_type  # type: ignore[method-assign]


class _RootGroup(TyperGroup):
    """Runs a command; an operator mistake surfacing as an exception becomes one line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as exc:
            from switchyard.cli.common import describe, exit_code, fail
            from switchyard.services.errors import ServiceError

            if isinstance(exc, ServiceError):  # a refusal no command named: one line
                fail(describe(exc), code=exit_code(exc))
            from switchyard.failures import fatal
            from switchyard.settings import SettingsError, load_settings

            try:
                settings = load_settings()
            except SettingsError:
                settings = None
            fatal(exc, settings, debug=bool(ctx.params.get("debug")))


app = typer.Typer(
    name="switchyard",
    help="Integrations job runner: enqueue, run, inspect and replay per-org provider jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_RootGroup,
    rich_markup_mode="markdown",
)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="On a failure, print the full traceback too.")
    ] = False,
) -> None:
    """Integrations job runner: enqueue, run, inspect and replay per-org provider jobs."""


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
