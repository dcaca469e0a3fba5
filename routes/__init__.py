"""The pure parts of routes: templates and their filters, event matching, step jobs."""
