"""The operator console: server-rendered pages under ``/console`` on the API's own services.

Pages call the functions the ``/v1`` routers call (:mod:`switchyard.services.dead_jobs`,
:mod:`switchyard.services.webhooks`, :mod:`switchyard.services.connections`, :mod:`switchyard.services.routes`,
:mod:`switchyard.services.syncs`); nothing here is business logic of its own. See
:mod:`switchyard.console.app` for the wiring.
"""
