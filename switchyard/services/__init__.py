"""Use cases shared by the API, the CLI and the console: one module per resource, explicit
dependencies in, plain values out (no HTTP, no terminal)."""
