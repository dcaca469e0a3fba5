"""Registry of command groups; add a line here when a new group lands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach every command group to the root app."""
    from switchyard.cli import (
        api_keys,
        connections,
        db,
        demo,
        dlq,
        exporter,
        jobs,
        keys,
        orgs,
        providers,
        queues,
        routes,
        sandbox,
        scheduler,
        serve,
        settings,
        syncs,
        webhooks,
        worker,
    )

    app.add_typer(orgs.app, name="orgs")
    app.add_typer(api_keys.app, name="api-keys")
    app.add_typer(db.app, name="db")
    app.add_typer(keys.app, name="keys")
    app.add_typer(providers.app, name="providers")
    app.add_typer(sandbox.app, name="sandbox")
    app.add_typer(dlq.app, name="dlq")
    app.add_typer(routes.app, name="routes")
    app.add_typer(connections.app, name="connections")
    app.add_typer(webhooks.app, name="webhooks")
    app.add_typer(syncs.app, name="syncs")
    app.add_typer(settings.app, name="settings")
    app.add_typer(jobs.app, name="jobs")
    app.command("queues")(queues.queues)
    app.command("enqueue")(jobs.enqueue)
    app.command("worker")(worker.worker)
    app.command("api")(serve.api)
    app.command("demo")(demo.demo)
    app.command("exporter")(exporter.exporter)
    app.command("scheduler")(scheduler.scheduler)
