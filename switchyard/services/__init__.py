"""Operator use cases, one module per resource, called by the HTTP API, the CLI and the
console alike: explicit dependencies in, plain values out (no HTTP, no terminal)."""
