"""``switchyard keys``: encryption key material for tokens at rest."""

from __future__ import annotations

import typer

from storage.crypto import generate_key_item

app = typer.Typer(help="Encryption keys for credentials at rest.", no_args_is_help=True)


@app.command("generate")
def generate(kid: str = typer.Option("k1", help="Key id stored in every ciphertext.")) -> None:
    """Print a new ``kid:key`` item for SWITCHYARD_SECURITY__ENCRYPTION_KEYS (newest first)."""
    try:
        typer.echo(generate_key_item(kid))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--kid") from None
