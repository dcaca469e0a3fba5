"""The operator console: server-rendered pages under ``/console`` on the API's own services.

Pages call the services the ``/v1`` routers call (:mod:`switchyard.services`: dead jobs,
webhooks, connections, routes, syncs, jobs); nothing here is business logic of its own, and
service refusals become error pages in one handler. See
:mod:`switchyard.console.app` for the wiring.
"""
