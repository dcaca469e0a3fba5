"""``switchyard db``: schema migrations (Alembic) for the configured database."""

from __future__ import annotations

import typer

from storage.migrate import current, upgrade
from switchyard.cli.common import fail
from switchyard.settings import SettingsError, load_settings

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


def _url() -> str:
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.resolved_database_url


@app.command("upgrade")
def upgrade_command(
    revision: str = typer.Argument("head", help="Target revision; head is the newest."),
) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    url = _url()
    upgrade(url, revision)
    typer.echo(f"database at revision {current(url)}")


@app.command("current")
def current_command() -> None:
    """Print the database's current revision."""
    typer.echo(current(_url()) or "(empty database)")
