"""The exit codes (contract §4), in one place: users' scripts and pipelines branch on them."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # success; `plan --detailed-exitcode` and `drift`: nothing to change
    ERROR = 1  # bad input, an API or store failure; nothing changed unless the report says otherwise
    CHANGES = 2  # `plan --detailed-exitcode`: changes present; `drift`: drift found
    REFUSED = 3  # a safety check (mass delete, protected webhook) or a stale saved plan; nothing changed
    PARTIAL = 4  # apply finished partly: some changes applied, some failed
    INTERRUPTED = 130  # Ctrl-C or SIGTERM
