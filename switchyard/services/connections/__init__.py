"""Connections as operators and upstream apps manage them: connect (every auth mode),
list, show, check, disconnect and import. The HTTP routes (:mod:`switchyard.api.connections`)
and the CLI (:mod:`switchyard.cli.connections`) are thin shells over these modules.
"""
