"""When a secret can be neither stored nor undone, it is kept in a file only the user can read.

The file lives outside the work tree (so it is never committed) and the next run stores it and removes it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from reconciler.model import SecretRecord
from reconciler.secret import Secret


def recovery_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "webhook-reconciler" / "recovery"


def keep(org: str, webhook: str, record: SecretRecord) -> Path:
    folder = recovery_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{org}__{webhook}.json"
    data = {
        "org": org,
        "webhook": webhook,
        "secret": record.secret.reveal(),
        "webhook_id": record.webhook_id,
        "provider": record.provider,
        "url": record.url,
        "created_at": record.created_at,
        "rotated_at": record.rotated_at,
        "protect": record.protect,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return path


def pending(org: str) -> list[tuple[Path, str, SecretRecord]]:
    """Records left by an earlier run for this org."""
    found = []
    folder = recovery_dir()
    if not folder.is_dir():
        return []
    for path in sorted(folder.glob(f"{org}__*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("org") != org:
            continue  # `a__*` also matches the files of an org named `a__x`
        record = SecretRecord(
            Secret(data["secret"]),
            data["webhook_id"],
            data["provider"],
            data["url"],
            data["created_at"],
            data.get("rotated_at"),
            bool(data.get("protect")),
        )
        found.append((path, data["webhook"], record))
    return found
