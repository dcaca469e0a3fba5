"""Outbound webhooks on the worker side: signing, endpoint gates, sending (where a delivery may
go is the outbound policy's call: :mod:`providers.outbound`)."""
