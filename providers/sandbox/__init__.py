"""A local fake of provider APIs for tests, the embedded demo and manual runs.

One handler (:class:`Sandbox`) serves in-process tests through ``sandbox.transport()`` (an
``httpx.MockTransport``, sync and async) and the network through :func:`create_app` (ASGI),
so there is exactly one implementation of every fake endpoint.
"""

from providers.sandbox.core import Sandbox
from providers.sandbox.faults import FaultPlan
from providers.sandbox.oauth import CLIENT_ID, CLIENT_SECRET, IssuedToken
from providers.sandbox.profiles.generic import GENERIC_ENTRY

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "GENERIC_ENTRY", "FaultPlan", "IssuedToken", "Sandbox"]
