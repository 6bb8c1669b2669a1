"""One exception tree; the CLI maps it to exit codes in one place (cli.py)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.exits import Exit
from reconciler.core.neutral import text


class ReconcilerError(Exception):
    """Base of every error the user may see. Messages never carry secrets."""

    exit_code: int = Exit.ERROR


@dataclass(frozen=True)
class Problem:
    """One manifest problem, reported as `file:line:col: message`."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"

    def as_warning(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: warning: {self.message}"


def in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))


class ManifestError(ReconcilerError):
    """All problems of the manifests at once, and the warnings found beside them."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None) -> None:
        self.problems = in_order(problems)
        self.warnings = in_order(warnings or [])
        super().__init__("\n".join(str(p) for p in self.problems))


class ProviderError(ReconcilerError):
    """An API call failed. `status` is the HTTP status, or None for transport errors."""

    def __init__(self, message: str, status: int | None = None, *, outcome_unknown: bool = False) -> None:
        # The message quotes the vendor (its error text, ids in the path): one line, control characters
        # escaped, wherever it is printed later.
        super().__init__(text(message))
        self.status = status
        # True when a write may or may not have happened (timeout, 5xx, dropped connection).
        self.outcome_unknown = outcome_unknown


class ReadOnlyViolation(ReconcilerError):
    """A read-only command tried to send a write request; raised before it leaves the process."""


class SecretStoreError(ReconcilerError):
    pass


class UnsafePlan(ReconcilerError):
    exit_code = Exit.REFUSED


class StalePlan(ReconcilerError):
    exit_code = Exit.REFUSED


class Interrupted(ReconcilerError):
    exit_code = Exit.INTERRUPTED
