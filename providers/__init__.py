"""Provider catalog, HTTP client, auth strategies, pagination and the local sandbox.

This package depends on nothing else of ours: callers pass settings-derived overrides to
:func:`providers.registry.load_catalog` and hold the resulting :class:`Catalog`.
"""
