"""Request and response models of the HTTP API, one module per resource.

They are the contract published at ``/openapi.json``: FastAPI validates every body against
them (refusals answer the one error shape of :mod:`switchyard.api.errors`) and documents
every answer with them. Answers keep fields a newer server adds (``extra="allow"``), so a
client generated today keeps working.
"""
