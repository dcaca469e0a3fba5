"""Dramatiq workers: broker setup, middleware (one concern each), thin actors, job handlers."""
