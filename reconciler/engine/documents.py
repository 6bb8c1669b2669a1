"""Reading back the JSON documents this tool wrote (saved plans, shards' drift reports): bounded in size and
checked against their published schema before any field is trusted, since a file may come from anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.core.errors import ReconcilerError

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
# A no-op plan of 100,000 webhooks is about 40 MiB of JSON (bench/bench_shards.py); a document beyond this
# is not one of ours, and reading it whole could exhaust memory.
MAX_BYTES = 256 * 1024 * 1024


def read_document(path: str, *, schema: str, what: str, remedy: str) -> dict[str, Any]:
    """The JSON document at `path` (a file, or a pipe such as /dev/stdin) valid against `schema`
    (a file of reconciler/schemas). Errors name the file and the failing field, never a value."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        why = exc.strerror or exc.__class__.__name__
        raise ReconcilerError(f"{path}: cannot read the {what} file ({why})") from None
    if len(data) > MAX_BYTES:
        raise ReconcilerError(f"{path}: not a webhook-reconciler {what} (larger than {MAX_BYTES >> 20} MiB)")
    try:
        doc = json.loads(data)
    except ValueError:
        raise ReconcilerError(f"{path}: not a webhook-reconciler {what} (not JSON)") from None
    validator = Draft202012Validator(json.loads((SCHEMAS / schema).read_text(encoding="utf-8")))
    problem = next(iter(sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if problem is not None:
        where = "/".join(str(p) for p in problem.absolute_path) or "top level"
        raise ReconcilerError(
            f"{path}: not a webhook-reconciler {what} ({where}: does not match schemas/{schema}); {remedy}"
        )
    result: dict[str, Any] = doc
    return result
