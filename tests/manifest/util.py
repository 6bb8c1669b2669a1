"""Helpers for manifest tests: write YAML files, load them, read the problems back as text."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from reconciler.core.errors import ManifestError
from reconciler.manifest import load_manifests

ENV = {"TOKEN": "tok-123", "VAULT_TOKEN": "vault-tok", "VAULT_ADDR": "http://127.0.0.1:8200"}


def write(directory: Path, name: str, text: str) -> str:
    """Write dedented `text` to `directory/name`; return the path as a string."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def problems(paths: Sequence[str], environ: Mapping[str, str] = ENV) -> list[str]:
    """The problems loading `paths` reports, as `file:line:col: message` lines."""
    with pytest.raises(ManifestError) as caught:
        load_manifests(paths, environ)
    return [str(problem) for problem in caught.value.problems]
