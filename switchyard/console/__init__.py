"""The operator console: server-rendered pages under ``/console`` on the API's own services.

Pages call the functions the ``/v1`` routers call (:mod:`producers.replay`,
:mod:`producers.webhook_admin`, :mod:`switchyard.connections`, :mod:`producers.routes`,
:mod:`producers.syncs`); nothing here is business logic of its own. See
:mod:`switchyard.console.app` for the wiring.
"""
