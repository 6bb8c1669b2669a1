"""The e2e `world` (sandbox + real keyring + the CLI in-process) serves the reliability tests too."""

from tests.e2e.conftest import world

__all__ = ["world"]
