"""Find the manifest files behind the paths a user gives, and read them."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.core.errors import Problem

_SUFFIXES = (".yaml", ".yml")
# Per file: four times the benchmark's 10,000 webhooks in one file (984 KiB). YAML this dense costs up to
# about 150 bytes of memory per byte while it is parsed, so the bound keeps a hostile file near 600 MiB.
MAX_FILE_BYTES = 4 * 1024 * 1024
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


@dataclass(frozen=True)
class Source:
    file: str  # as messages name it: the path given, or the directory given joined with the file's path
    text: str


def _directory_files(directory: str) -> list[str]:
    """`*.yaml`/`*.yml` under `directory`, recursively, in sorted order; hidden entries (.git) skipped."""
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in files:
            if name.endswith(_SUFFIXES) and not name.startswith("."):
                full = os.path.join(root, name)
                found.append((Path(os.path.relpath(full, directory)).parts, full))
    return [full for _, full in sorted(found)]


def _files(path: str) -> tuple[list[str], Problem | None]:
    if os.path.isdir(path):
        files = _directory_files(path)
        return files, None if files else Problem(path, 1, 1, "no *.yaml or *.yml files in this directory")
    if os.path.exists(path):
        return [path], None
    return [], Problem(path, 1, 1, "no such file or directory")


def read_sources(paths: Sequence[str]) -> tuple[list[Source], str, list[Problem]]:
    """The files' texts in read order, the digest of their bytes, and problems reading them.

    The digest covers content only, in order, so a fresh clone elsewhere gives the same digest.
    """
    sources: list[Source] = []
    problems: list[Problem] = []
    digest = hashlib.sha256()
    seen: set[str] = set()
    for path in paths:
        files, problem = _files(path)
        if problem is not None:
            problems.append(problem)
        for file in files:
            real = os.path.realpath(file)
            if real in seen:  # `dir` and `dir/a.yaml` both given: read it once
                continue
            seen.add(real)
            try:
                data = read_regular_file(file)
            except Unreadable as exc:
                problems.append(Problem(file, 1, 1, str(exc)))
                continue
            digest.update(hashlib.sha256(data).digest())
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                col = exc.start - data.rfind(b"\n", 0, exc.start)
                problems.append(Problem(file, line, col, "not valid UTF-8 text"))
                continue
            sources.append(Source(file, text))
    return sources, digest.hexdigest(), problems


class Unreadable(Exception):
    """A manifest path that is not read: not a regular file, too large, or the system refused."""


def read_regular_file(file: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of `file`, which must be a regular file (or a symlink to one) of at most `limit` bytes.

    A FIFO would block the open and the read forever, and a device (`/dev/zero`) never ends: both are
    refused from their metadata, before any open. The open itself cannot block (O_NONBLOCK), and what was
    opened is checked again, so a file swapped for a FIFO in between is refused, not waited on."""
    try:
        mode = os.stat(file).st_mode
        if not stat.S_ISREG(mode):
            raise Unreadable(_not_regular(file, mode))
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(_not_regular(file, info.st_mode))
        if info.st_size > limit:
            raise Unreadable(_too_large(limit))
        try:
            data = handle.read(limit + 1)  # the file may grow after fstat
        except OSError as exc:
            raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise Unreadable(_too_large(limit))
    return data


def _not_regular(file: str, mode: int) -> str:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    via = "a symlink to " if os.path.islink(file) else ""
    return f"not a regular file ({via}{kind}); only regular files are read as manifests"


def _too_large(limit: int) -> str:
    return f"larger than {limit // (1024 * 1024)} MiB, the most a manifest file may hold; split it into several files"
