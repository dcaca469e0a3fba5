"""The HTTP API: one router module per resource, assembled in :mod:`switchyard.api.app`."""
