"""Operator use cases, one module per resource, called by the HTTP API, the CLI and the
console alike: explicit dependencies in, plain values out (no HTTP, no terminal).

    dead_jobs, dead_job_query   list, show, replay and purge dead jobs; what a filter selects
    connections/                connect (every auth mode), list, show, check, disconnect, import
    webhooks, webhook_views     outbound endpoints and deliveries, replaying deliveries
    routes                      event routes: create, list, show, delete, dry run
    syncs, sync_views           trigger and schedule syncs; run history and synced records
    jobs, job_views, queues     follow and cancel jobs; queue backlog
    overview                    the console's overview figures
    errors                      the one error family every front end maps once

Imports run down only (``python -m tests.tools.layers``): services use ``producers``,
``workers``, ``providers`` and ``storage``, never the runtime builder or a front end.
"""
