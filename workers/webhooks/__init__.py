"""Outbound webhooks on the worker side: signing, the SSRF guard, endpoint gates, sending."""
