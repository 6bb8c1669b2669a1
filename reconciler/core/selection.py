"""Which organizations a run works on: --org and --exclude-org patterns."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import Manifest, Organization


def select_orgs(
    manifest: Manifest, patterns: Sequence[str] | None, exclude: Sequence[str] | None = None
) -> list[Organization]:
    """The orgs to work on (contract §2.1): all, or those matching a --org pattern (shell-style, as fnmatch,
    case-sensitive like the names), minus those matching an --exclude-org pattern. A pattern that matches no
    organization is an error, so a typo never quietly selects nothing (or excludes nothing)."""
    names = [o.name for o in manifest.organizations]
    unmatched = [p for p in (*(patterns or ()), *(exclude or ())) if not _matches(names, p)]
    if unmatched:
        listed = ", ".join(f"'{p}'" for p in unmatched)
        raise ReconcilerError(f"no organization matches {listed} (organizations: {_sample(names)})")
    chosen = [
        o for o in manifest.organizations if not patterns or any(fnmatch.fnmatchcase(o.name, p) for p in patterns)
    ]
    return [o for o in chosen if not any(fnmatch.fnmatchcase(o.name, p) for p in exclude or ())]


def _matches(names: list[str], pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for name in names)


def _sample(names: list[str], shown: int = 10) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "") if names else "none"
