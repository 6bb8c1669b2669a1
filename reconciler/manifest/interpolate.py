"""Replace `${env:NAME}` in every string value; `$${` writes a literal `${`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler import redact
from reconciler.errors import Problem
from reconciler.manifest.yamlload import Document, Path, YMap, YSeq

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}?")
_REFERENCE = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


def substitute_env(doc: Document, environ: Mapping[str, str]) -> list[Problem]:
    """Interpolate `doc` in place, recording which values used references (`doc.refs`)."""
    problems: list[Problem] = []
    _walk(doc, doc.data, (), environ, problems)
    return problems


def _walk(doc: Document, node: Any, path: Path, environ: Mapping[str, str], problems: list[Problem]) -> None:
    items: Any = node.items() if type(node) is YMap else enumerate(node)
    # Exact types (the loader makes only these), strings first: this visits every value of the manifests.
    for step, value in items:
        kind = type(value)
        if kind is str:
            if "${" in value:  # most strings have none
                node[step] = _substitute(doc, (*path, step), value, environ, problems)
        elif kind is YMap or kind is YSeq:
            _walk(doc, value, (*path, step), environ, problems)


def _substitute(doc: Document, path: Path, text: str, environ: Mapping[str, str], problems: list[Problem]) -> str:
    names: list[str] = []
    failed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal failed
        if match.group(0) == "$${":
            return "${"
        inner = match.group(1)
        reference = _REFERENCE.fullmatch(inner) if match.group(0).endswith("}") else None
        if reference is None:
            failed = True
            problems.append(
                doc.problem(
                    path,
                    f"unsupported reference '{match.group(0)}': write ${{env:NAME}}, or $${{ for a literal ${{",
                    where=path,
                )
            )
            return ""
        name = reference.group(1)
        names.append(name)
        if name not in environ:
            failed = True
            problems.append(doc.problem(path, f"environment variable '{name}' is not set", where=path))
            return ""
        # SPEC §5: a value that came from the environment may be a credential; never print it anywhere.
        redact.register(environ[name])
        return environ[name]

    result = _TOKEN.sub(replace, text)
    if names:
        doc.refs[path] = tuple(names)
        if len(names) == 1 and text == f"${{env:{names[0]}}}":
            doc.whole_refs.add(path)
    if failed:
        doc.broken.add(path)
    return result
