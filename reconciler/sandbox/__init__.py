"""Local emulators of the five provider APIs (docs/providers.md), on one loopback HTTP server.

with Sandbox().start() as sb:
    sb.base_url("immuta")          # http://127.0.0.1:PORT/immuta/marketplace
"""

from reconciler.sandbox.backend import RecordedRequest
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.server import Sandbox

__all__ = ["Faults", "RecordedRequest", "Sandbox"]
