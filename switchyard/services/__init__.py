"""Operator use cases, one module per resource, called by the HTTP API, the CLI and the
console alike (``switchyard → services → producers/workers → providers/storage``)."""
