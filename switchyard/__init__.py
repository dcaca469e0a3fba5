"""Switchyard: the composition root (settings, CLI, HTTP API wiring)."""

__version__ = "0.1.0"
