"""When a secret can be neither stored nor undone, it is kept in a file only the user can read.

The file lives outside the work tree (so it is never committed), in a directory that must be the user's
own with mode 0700: a file someone else could plant there would become a webhook's stored signing secret.
The next apply stores it and removes the file. A recovery file that cannot be written or read is an error
that names the org, the webhook and its live id, since the file may hold the only copy of that secret.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

from reconciler.core.errors import ReconcilerError
from reconciler.core.model import IndexEntry, Organization, SecretRecord
from reconciler.core.secret import Secret
from reconciler.engine.session import Session
from reconciler.runtime import files

MAX_FILE_BYTES = 64 * 1024  # a record is a few hundred bytes
_TEXT_FIELDS = ("secret", "webhook_id", "provider", "url", "created_at")


class RecoveryError(ReconcilerError):
    """The recovery directory is not safe, or a recovery file cannot be written or read."""


def recovery_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "webhook-reconciler" / "recovery"


def keep(org: str, webhook: str, record: SecretRecord) -> Path:
    """Write `record` to its recovery file (mode 0600); RecoveryError names the webhook when that fails."""
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
    try:
        folder = recovery_dir()
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        if _safe_folder() is None:
            raise FileNotFoundError(errno.ENOENT, "removed while in use", str(folder))
        path = folder / f"{org}__{webhook}.json"
        files.write_atomic(path, json.dumps(data).encode("utf-8"), mode=0o600)
    except (OSError, RecoveryError) as exc:
        why = f"{exc.strerror} ({exc.filename})" if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RecoveryError(
            f"{org}/{webhook}: the secret of webhook {record.webhook_id or '(no id yet)'} could not be kept in a "
            f"recovery file either: {why}. No copy of it is left: once the store works, rotate it "
            f"(`reconciler rotate PATH... {org}/{webhook}`)"
        ) from None
    return path


def pending(org: str) -> list[tuple[Path, str, SecretRecord]]:
    """Records left by an earlier run for this org."""
    folder = _safe_folder()
    if folder is None:
        return []
    found = []
    for path in sorted(folder.glob(f"{org}__*.json")):
        webhook = path.name[len(org) + 2 : -len(".json")]
        data = _load(path, org, webhook)
        if data.get("org") != org:
            continue  # `a__*` also matches the files of an org named `a__x`
        found.append((path, str(data["webhook"]), _record(data)))
    return found


def _safe_folder() -> Path | None:
    """The recovery directory once proven safe; None when it does not exist."""
    folder = recovery_dir()
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecoveryError(f"the recovery directory {folder} cannot be read: {exc.strerror}") from None
    problem = _unsafe(info)
    if problem:
        raise RecoveryError(f"the recovery directory {folder} {problem}; refusing to use it")
    return folder


def _unsafe(info: os.stat_result) -> str | None:
    """Why a directory with this metadata must not hold secrets, or None."""
    if not stat.S_ISDIR(info.st_mode):
        return "is not a directory (a symlink?)"
    if info.st_uid != os.geteuid():
        return f"belongs to user id {info.st_uid}, not to you ({os.geteuid()})"
    if stat.S_IMODE(info.st_mode) & 0o077:
        return f"has mode {stat.S_IMODE(info.st_mode):04o}: others could read it or plant a file there; it must be 0700"
    return None


def _load(path: Path, org: str, webhook: str) -> dict[str, Any]:
    """The JSON object in a recovery file, read without following a symlink; RecoveryError names the webhook
    (and its id, when the file gives it) and never quotes the file, which holds a secret."""
    data: Any = None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
                raise ValueError("not a regular file of yours")
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES // 1024} KiB")
        data = json.loads(raw)
        problem = _invalid(data)
        if problem:
            raise ValueError(problem)
    except OSError as exc:
        why = "a symlink" if exc.errno == errno.ELOOP else exc.strerror or str(exc)  # O_NOFOLLOW met one
        raise _unreadable(path, org, webhook, data, why) from None
    except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError, our own checks
        why = "not valid JSON" if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError) else str(exc)
        raise _unreadable(path, org, webhook, data, why) from None
    result: dict[str, Any] = data
    return result


def _invalid(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    for name in ("org", "webhook", *_TEXT_FIELDS):
        if not isinstance(data.get(name), str) or (name in ("org", "webhook", "secret") and not data[name]):
            return f"field '{name}' is missing or not text"
    if data.get("rotated_at") is not None and not isinstance(data["rotated_at"], str):
        return "field 'rotated_at' is not text"
    return None


def _unreadable(path: Path, org: str, webhook: str, data: Any, why: str) -> RecoveryError:
    live = data.get("webhook_id") if isinstance(data, dict) else None
    which = f"webhook id {live}" if isinstance(live, str) and live else "webhook id unknown"
    return RecoveryError(
        f"{org}/{webhook} ({which}): the recovery file {path} cannot be read ({why}). It may hold the only copy "
        "of that webhook's signing secret: repair the file, or move it away and rotate the webhook "
        f"(`reconciler rotate PATH... {org}/{webhook}`)"
    )


def _record(data: dict[str, Any]) -> SecretRecord:
    return SecretRecord(
        Secret(data["secret"]),
        data["webhook_id"],
        data["provider"],
        data["url"],
        data["created_at"],
        data.get("rotated_at"),
        bool(data.get("protect")),
    )


def flush_recovery(session: Session, org: Organization) -> list[str]:
    """Store secrets an earlier run had to keep in a recovery file, then remove the files."""
    stored = []
    for path, webhook, record in pending(org.name):
        store = session.store(org)
        current = store.read(org.name, webhook)
        if current is not None and current.webhook_id != record.webhook_id and current.set_at > record.set_at:
            # A later run already stored a newer secret under this name: never overwrite it; keep the file.
            stored.append(f"{org.name}/{webhook}: a newer secret is stored; the recovered one stays in {path}")
            continue
        store.write(org.name, webhook, record)
        index = store.read_index(org.name) or {}
        index[webhook] = IndexEntry(record.webhook_id, record.protect)
        store.write_index(org.name, index)
        path.unlink()
        stored.append(f"{org.name}/{webhook}: recovered secret stored in {store.location(org.name, webhook)}")
    return stored
