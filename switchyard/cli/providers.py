"""``switchyard providers``: inspect and validate the provider catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from providers.errors import CatalogError, UnknownProviderError
from providers.registry import Catalog, load_catalog, load_entry
from providers.spec import ProviderSpec
from providers.syncs.spec import load_sync_models
from switchyard.cli.common import console, fail, print_json, print_table
from switchyard.provider_table import markdown_table
from switchyard.settings import SettingsError, load_settings
from workers.actions import all_actions

app = typer.Typer(help="Inspect and validate the provider catalog.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _catalog() -> Catalog:
    """The bundled catalog with this environment's overrides, or exit 1 with the reason."""
    try:
        return load_catalog(overrides=load_settings().providers)
    except (CatalogError, SettingsError) as exc:
        fail(str(exc), code=1)


def summary(spec: ProviderSpec) -> dict[str, Any]:
    """The one-line view of an entry used by ``list``."""
    policy = spec.rate_limit
    return {
        "name": spec.name,
        "display_name": spec.display_name,
        "categories": spec.categories,
        "auth_mode": spec.auth.mode,
        "account_identifiers": [ident.name for ident in spec.account_identifiers],
        "rate_limit": policy.model_dump(exclude={"notes"}),
        "pagination": spec.pagination.style,
        "webhook_scheme": spec.webhook_scheme,
        "unconfirmed": spec.unconfirmed,
    }


FormatOption = Annotated[
    str,
    typer.Option("--format", help="table, json or markdown (the docs/providers.md table)."),
]


@app.command("list")
def list_providers(as_json: JsonFlag = False, fmt: FormatOption = "table") -> None:
    """List every provider with its auth mode and rate-limit policy."""
    if fmt not in ("table", "json", "markdown"):
        fail(f"--format must be table, json or markdown, not {fmt!r}", code=2)
    if fmt == "markdown":
        catalog = load_catalog()  # the shipped catalog: the doc describes the code
        typer.echo(markdown_table(catalog, all_actions(), load_sync_models()), nl=False)
        return
    catalog = _catalog()
    if as_json or fmt == "json":
        print_json([summary(spec) for spec in catalog])
        return
    rows = []
    for spec in catalog:
        policy = spec.rate_limit
        rate = f"{policy.limit}/{policy.period_seconds:g}s"
        if policy.daily_quota:
            rate += f", {policy.daily_quota}/day"
        rows.append(
            (
                spec.name,
                spec.display_name,
                spec.auth.mode,
                rate,
                policy.key,
                spec.pagination.style,
                spec.webhook_scheme,
            )
        )
    columns = ("name", "display name", "auth", "rate limit", "key", "pagination", "webhook")
    print_table(f"{len(rows)} providers", columns, rows)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Provider name (providers list).")],
    as_json: JsonFlag = False,
) -> None:
    """Show one provider's full catalog entry (name or alias)."""
    try:
        spec = _catalog().get(name)
    except UnknownProviderError as exc:
        fail(str(exc), code=1)
    data = spec.model_dump(mode="json")
    if as_json:
        print_json(data)
        return
    console.print_json(data=data)


@app.command("validate")
def validate(
    path: Annotated[
        Path | None, typer.Argument(help="A catalog file or directory (default: the bundled one).")
    ] = None,
) -> None:
    """Validate catalog files; exits 1 naming the file, provider and field of each problem."""
    try:
        if path is None:
            count = len(_catalog())
        elif path.is_dir():
            count = len(load_catalog(path))
        else:
            load_entry(path)
            count = 1
    except CatalogError as exc:
        fail(f"invalid: {exc}", code=1)
    typer.echo(f"ok: {count} provider(s) valid")


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a catalog entry (for editors and check-jsonschema)."""
    print_json(ProviderSpec.model_json_schema())
