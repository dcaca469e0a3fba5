"""``switchyard sandbox``: run the local provider fake and print the settings pointing at it."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import httpx
import typer

from providers.outbound.addresses import address_class
from providers.sandbox import Sandbox

app = typer.Typer(help="Run the local provider sandbox (fake provider APIs).")

LOOPBACK = "127.0.0.1"


def env_lines(sandbox: Sandbox, root_url: str) -> list[str]:
    """``SWITCHYARD_PROVIDERS__...`` assignments pointing each sandboxed provider at ``root_url``,
    and the outbound policy's allowance for its address when that is not public (loopback)."""
    lines = []
    for provider, values in sorted(sandbox.overrides(root_url).items()):
        for key, value in sorted(values.items()):
            lines.append(f"SWITCHYARD_PROVIDERS__{provider.upper()}__{key.upper()}={value}")
    host = httpx.URL(root_url).host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return lines  # a name: the operator allows what it resolves to, if need be
    if address_class(address) is not None:
        lines.append(f"SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS={ipaddress.ip_network(address)}")
    return lines


@app.callback(invoke_without_command=True)
def sandbox(
    port: Annotated[int, typer.Option(help="TCP port to listen on.", min=1, max=65535)] = 8765,
    host: Annotated[
        str, typer.Option(help="Interface to bind; loopback unless you mean to expose it.")
    ] = LOOPBACK,
    seed: Annotated[int, typer.Option(help="Seed of the generated records and faults.")] = 0,
    print_env: Annotated[
        bool, typer.Option("--print-env", help="Only print the overrides and exit.")
    ] = False,
) -> None:
    """Serve the sandbox and print the overrides that point Switchyard at it."""
    import uvicorn

    from providers.sandbox.asgi import create_app

    fake = Sandbox(seed=seed)
    shown_host = LOOPBACK if host in ("0.0.0.0", "::") else host  # noqa: S104 - only compared
    root = f"http://{shown_host}:{port}"
    typer.echo("# export these (or put them in .env) to use the sandbox:")
    for line in env_lines(fake, root):
        typer.echo(line)
    if print_env:
        return
    if host != LOOPBACK:
        typer.echo(f"warning: sandbox bound to {host}; it accepts fake credentials", err=True)
    uvicorn.run(create_app(fake), host=host, port=port, log_level="warning")
