"""What every command shares: building the runtime, printing tables or JSON, failing clearly.

Service refusals (:mod:`switchyard.services.errors`) are turned into one line and an exit
code here, once: :func:`refusals` around a command's calls (``options=True`` names each
field as the option behind it), and the root group as the fallback for any command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from switchyard.failures import check_reachable
from switchyard.logs import configure_logging
from switchyard.runtime import Runtime, build_runtime
from switchyard.services.errors import Conflict, ServiceError
from switchyard.settings import SettingsError, load_settings

console = Console()
MIN_PREFIX = 4  # shorter prefixes would match by accident
PIPED_WIDTH = 10_000  # piped output (grep, awk) gets each row on one line, nothing elided
errors = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrapped at 80


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error to stderr and exit non-zero."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def refusals(*, options: bool = False) -> Iterator[None]:
    """A service refusal exits non-zero with one line naming each offending field; with
    ``options`` a field reads as the option behind it (``error_class`` -> ``--error-class``)."""
    try:
        yield
    except ServiceError as exc:
        fail(describe(exc, options=options), code=exit_code(exc))


def describe(exc: ServiceError, *, options: bool = False) -> str:
    """One line: each offending field with its problem, else the refusal's message."""
    if not options or not exc.fields:
        return str(exc)
    return "; ".join(f"{option_of(f.field)}: {f.message}" for f in exc.fields)


def exit_code(exc: ServiceError) -> int:
    """1 when current state refused a valid request (a conflict), 2 for bad input."""
    return 1 if isinstance(exc, Conflict) else 2


def option_of(field: str) -> str:
    """The option behind a field: ``payload.model`` -> ``--model``."""
    return "--" + field.rsplit(".", 1)[-1].replace("_", "-")


@contextmanager
def runtime() -> Iterator[Runtime]:
    """A runtime for one command, closed afterwards; settings errors exit 2 with the variable."""
    try:
        rt = build_runtime(load_settings())
    except SettingsError as exc:
        fail(str(exc))
    try:
        yield rt
    finally:
        rt.close()


@contextmanager
def service_runtime(needs_redis_because: str) -> Iterator[Runtime]:
    """The runtime of a long-running service (API, exporter, scheduler): it must share a
    server Redis with the workers; logging is configured from settings. Closed afterwards."""
    try:
        settings = load_settings()
        if settings.embedded:
            fail(f"SWITCHYARD_REDIS_URL is not set: {needs_redis_because}")
        rt = build_runtime(settings)
    except SettingsError as exc:
        fail(str(exc))
    configure_logging(settings.log_level, settings.log_format)
    try:
        check_reachable(rt)
        yield rt
    finally:
        rt.close()


def expand_prefix(
    sessions: sessionmaker[Session],
    column: InstrumentedAttribute[str],
    given: str,
    what: str,
    *,
    scope: ColumnElement[bool] | None = None,
) -> str:
    """The full id that ``given`` begins, when exactly one does (tables show ids in full, but
    people type the first characters); ``given`` unchanged when none does, so the caller's
    not-found message applies; exit 2 when the prefix is ambiguous. ``scope`` (e.g.
    ``Model.org_id == org_id``) keeps the lookup to one org's rows."""
    if len(given) < MIN_PREFIX:
        return given
    query = select(column).where(column.startswith(given, autoescape=True))
    if scope is not None:
        query = query.where(scope)
    with sessions() as session:
        found = session.scalars(query.limit(2)).all()
        if len(found) > 1:
            count = session.scalar(select(func.count()).select_from(query.subquery()))
            fail(f"{what} {given!r}: ambiguous prefix, {count} ids begin with it; give more")
    return found[0] if found else given


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, sort_keys=True))


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str | None = None,
) -> None:
    """A table that never cuts a value: folded in a terminal, full width when piped;
    ``caption`` (under it) says in one line what its columns mean."""
    table = Table(title=title, caption=caption, caption_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    out = console if console.is_terminal else Console(width=PIPED_WIDTH)
    out.print(table)
