"""Find the manifest files behind the paths a user gives, and read them."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import Problem

_SUFFIXES = (".yaml", ".yml")


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
                data = Path(file).read_bytes()
            except OSError as exc:
                problems.append(Problem(file, 1, 1, f"cannot read: {exc.strerror or exc}"))
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
