"""Connections as operators and upstream apps manage them: connect (every auth mode),
list, show, check, disconnect and import. The HTTP routes (:mod:`switchyard.api.connections`),
the CLI (:mod:`switchyard.cli.connections`) and the console are thin shells over these
modules; each function takes a :class:`~switchyard.services.connections.deps.ConnectionDeps`
(built from the runtime by :func:`switchyard.service_deps.connection_deps`).
"""
