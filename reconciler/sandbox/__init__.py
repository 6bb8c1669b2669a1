"""Local emulators of the five provider APIs (docs/providers.md), on one loopback HTTP server.

with Sandbox().start() as sb:
    sb.base_url("immuta")          # http://127.0.0.1:PORT/immuta/marketplace
"""

from reconciler.sandbox.backend import RecordedRequest
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.server import Sandbox

DEFAULT_PORT = 8900
# The variables a manifest made for the sandbox reads (`make demo` writes one: .demo/by-hand/).
URL_ENV, TOKEN_ENV = "SANDBOX_URL", "SANDBOX_TOKEN"

__all__ = ["DEFAULT_PORT", "TOKEN_ENV", "URL_ENV", "Faults", "RecordedRequest", "Sandbox"]
