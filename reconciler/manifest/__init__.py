"""Manifests: load YAML files and directories, interpolate ${env:}, validate, build the model.

Every problem of every file is collected and raised at once as a ManifestError; nothing here touches the
network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.interpolate import substitute_env
from reconciler.manifest.rules import build
from reconciler.manifest.schema import MANIFEST_SCHEMA_PATH, check_schema
from reconciler.manifest.sources import read_sources
from reconciler.manifest.yamlload import Document, parse
from reconciler.model import Manifest

__all__ = ["MANIFEST_SCHEMA_PATH", "load_manifests"]


def load_manifests(
    paths: Sequence[str], environ: Mapping[str, str] | None = None, *, offline: bool = False
) -> Manifest:
    """Read `paths` (files or directories), merged in order; raise ManifestError with every problem.

    `offline` (`validate --offline`): a `${env:}` variable that is not set is a warning, not a problem; the
    checks that need its value are skipped. Warnings (those, and fields a provider cannot store) are in the
    Manifest, or beside the problems of a ManifestError."""
    if isinstance(paths, str):  # a lone string would otherwise be read as paths of one character
        paths = [paths]
    env = os.environ if environ is None else environ
    sources, digest, problems = read_sources(paths)
    warnings: list[Problem] = []
    docs: list[Document] = []
    for source in sources:
        doc, parse_problems = parse(source.file, source.text)
        problems.extend(parse_problems)
        if doc is None:
            continue
        # References first: the schema then judges the values themselves, wherever they came from.
        problems.extend(substitute_env(doc, env, warnings if offline else None))
        schema_problems, invalid = check_schema(doc)
        problems.extend(schema_problems)
        for path in invalid | doc.broken:
            doc.taint(path)
        docs.append(doc)
    built = build(docs)
    problems.extend(built.problems)
    warnings.extend(built.warnings)
    if problems:
        raise ManifestError(_unique(problems), _unique(warnings))
    return Manifest(
        paths=tuple(paths),
        files=tuple(doc.file for doc in docs),
        digest=digest,
        stores=built.stores,
        policy=built.policy,
        organizations=built.organizations,
        warnings=tuple(_unique(warnings)),
        declared=built.declared,
    )


def _unique(problems: list[Problem]) -> list[Problem]:
    # An aliased YAML node is converted once per use; report its problem once.
    return list(dict.fromkeys(problems))
