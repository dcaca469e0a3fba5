"""``switchyard keys``: encryption key material for tokens at rest."""

from __future__ import annotations

from typing import Annotated

import typer

from storage.crypto import generate_key_item
from storage.errors import DecryptionError
from storage.rotation import ROTATIONS, RotationReport, rotate_all
from switchyard.cli.common import fail, print_json, runtime
from switchyard.cli.progress import progress
from switchyard.failures import explain_decryption
from switchyard.runtime import Runtime

app = typer.Typer(help="Encryption keys for credentials at rest.", no_args_is_help=True)


@app.command("generate")
def generate(kid: str = typer.Option("k1", help="Key id stored in every ciphertext.")) -> None:
    """Print a new ``kid:key`` item for SWITCHYARD_SECURITY__ENCRYPTION_KEYS (newest first)."""
    try:
        typer.echo(generate_key_item(kid))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--kid") from None


@app.command("rotate")
def rotate(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=10_000, help="Rows per transaction.")
    ] = 500,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Re-encrypt every stored secret to the newest key (the first in the key list).

    Safe while workers run; an interrupted run resumes where it stopped. Give every process
    the new key list first; remove an old key only once ``pending`` is 0 everywhere.
    """
    with runtime() as rt, progress("re-encrypting", _pending(rt)) as advance:
        done: dict[str, int] = {}

        def on_batch(report: RotationReport) -> None:
            advance(report.changed - done.get(report.target, 0))
            done[report.target] = report.changed

        try:
            reports = rotate_all(rt.sessions, rt.keyring, batch_size=batch_size, on_batch=on_batch)
        except DecryptionError as exc:  # a secret under a key this ring lacks: stop, say which
            fail(f"{explain_decryption(exc)}; progress so far is kept")
    if json_output:
        print_json([report.as_dict() for report in reports])
        return
    for report in reports:
        resumed = f", resumed after {report.resumed_after}" if report.resumed_after else ""
        typer.echo(
            f"{report.target}: {report.changed} re-encrypted to {report.kid} in "
            f"{report.batches} batches{resumed}; {report.pending} still under older keys"
        )


def _pending(rt: Runtime) -> int:
    """Secrets not yet under the newest key: the progress bar's total."""
    with rt.sessions() as session:
        return sum(rotation.pending(session, rt.keyring) for rotation in ROTATIONS)
