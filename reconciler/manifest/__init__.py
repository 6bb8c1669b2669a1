"""Manifests: load YAML files and directories, interpolate ${env:}, validate, build the model.

Every problem of every file is collected and raised at once as a ManifestError; nothing here touches the
network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.errors import ManifestError, Problem
from reconciler.core.model import Manifest, Policy, PolicyFile
from reconciler.manifest.fleet import expand, rendered
from reconciler.manifest.interpolate import substitute_env
from reconciler.manifest.policy import policy_of
from reconciler.manifest.rules import build
from reconciler.manifest.schema import MANIFEST_SCHEMA_PATH, check_schema
from reconciler.manifest.sources import Source, read_sources
from reconciler.manifest.yamlload import Document, parse

__all__ = ["MANIFEST_SCHEMA_PATH", "load_manifests", "render_manifests"]


def load_manifests(
    paths: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    offline: bool = False,
    policy_file: str | None = None,
) -> Manifest:
    """Read `paths` (files or directories), merged in order; raise ManifestError with every problem.

    `offline` (`validate --offline`): a `${env:}` variable that is not set is a warning, not a problem; the
    checks that need its value are skipped. Warnings (those, and fields a provider cannot store) are in the
    Manifest, or beside the problems of a ManifestError.

    `policy_file` (`--policy FILE`): a policy of its own file, which every URL must pass beside the
    manifests' own policy, so that the manifests can only narrow it."""
    if isinstance(paths, str):  # a lone string would otherwise be read as paths of one character
        paths = [paths]
    env = os.environ if environ is None else environ
    warnings: list[Problem] = []
    base_policy, policy_ref, problems = (None, None, []) if policy_file is None else _policy_file(policy_file, env)
    sources, digest, source_problems = read_sources(paths)
    problems.extend(source_problems)
    docs = parse_sources(sources, problems)
    # Sets and defaults first, so that each copy is interpolated, judged and built like a webhook written in
    # place; then references: the schema judges the values themselves, wherever they came from.
    fleet_problems, fleet_warnings = expand(docs)
    problems.extend(fleet_problems)
    warnings.extend(fleet_warnings)
    for doc in docs:
        problems.extend(substitute_env(doc, env, warnings if offline else None))
        schema_problems, invalid = check_schema(doc)
        problems.extend(schema_problems)
        for path in invalid | doc.broken:
            doc.taint(path)
    built = build(docs, base_policy)
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
        policy_file=policy_ref,
        outlines=built.outlines,
        unset_store_variables=built.unset_store_variables,
    )


_POLICY_FILE_KEYS = ("version", "policy")


def _policy_file(path: str, env: Mapping[str, str]) -> tuple[Policy | None, PolicyFile | None, list[Problem]]:
    """The policy of a `--policy FILE`, checked by the manifest schema's rules, and its digest; a file that holds
    anything but `version` and `policy` is refused, so no one mistakes a manifest for a policy file."""
    if os.path.isdir(path):
        return None, None, [Problem(path, 1, 1, "--policy takes one file, not a directory")]
    sources, digest, problems = read_sources([path])
    if not sources:
        return None, None, problems
    doc, parse_problems = parse(sources[0].file, sources[0].text)
    problems.extend(parse_problems)
    if doc is None:
        return None, None, problems
    problems.extend(substitute_env(doc, env))
    schema_problems, invalid = check_schema(doc)
    problems.extend(schema_problems)
    for key in doc.data:
        if key not in _POLICY_FILE_KEYS:
            message = f"a --policy file holds only 'version' and 'policy', not '{key}'"
            problems.append(doc.problem((key,), message, key=True, where=()))
    if "policy" not in doc.data:
        problems.append(Problem(doc.file, 1, 1, "a --policy file needs a 'policy' mapping"))
        return None, None, problems
    if invalid or doc.broken:
        return None, None, problems
    return policy_of(doc.data["policy"], "the --policy file"), PolicyFile(path, digest), problems


def render_manifests(paths: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The expanded manifest of `paths` (contract §2.1, `reconciler render`) as one plain document.

    Validated like `validate --offline` first (every problem raised at once), so no environment is needed:
    `${env:}` references are written out as they are, never their values."""
    load_manifests(paths, environ, offline=True)
    sources, _, problems = read_sources(paths)
    docs = parse_sources(sources, problems)
    expand(docs)
    return rendered(docs)


def parse_sources(sources: Sequence[Source], problems: list[Problem]) -> list[Document]:
    """The parsed documents, in order; their problems are added to `problems`."""
    docs: list[Document] = []
    for source in sources:
        doc, parse_problems = parse(source.file, source.text)
        problems.extend(parse_problems)
        if doc is not None:
            docs.append(doc)
    return docs


def _unique(problems: list[Problem]) -> list[Problem]:
    # An aliased YAML node is converted once per use; report its problem once.
    return list(dict.fromkeys(problems))
