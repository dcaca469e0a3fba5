"""The inbound webhook receiver: verify the provider's signature, route, store, enqueue."""
