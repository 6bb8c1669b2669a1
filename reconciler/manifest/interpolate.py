"""Replace `${env:NAME}` in every string value; `$${` writes a literal `${`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.core import redact
from reconciler.core.errors import Problem
from reconciler.core.model import MASKED_FIELDS
from reconciler.manifest.yamlload import Document, Path, YMap, YSeq

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}?")
_REFERENCE = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


def substitute_env(
    doc: Document, environ: Mapping[str, str], warnings: list[Problem] | None = None
) -> list[Problem]:
    """Interpolate `doc` in place, recording which values used references (`doc.refs`). Visits only the strings
    the loader saw holding `${` (`doc.templated`), each place once, whatever aliases and merges made of them.

    With a `warnings` list (`validate --offline`), a variable that is not set is a warning there instead of a
    problem, and its value is marked broken, so the checks that need the value skip it."""
    problems: list[Problem] = []
    for path in dict.fromkeys(doc.templated):
        parent = container(doc.data, path[:-1])
        step = path[-1]
        # A merged value that a key written in place overrode is no longer there, or is another value.
        if parent is not None and has_step(parent, step) and type(text := parent[step]) is str and "${" in text:
            parent[step] = _substitute(doc, path, text, environ, problems, warnings)
    return problems


def container(node: Any, path: Path) -> Any:
    """The mapping or list at `path` inside `node`, or None when a step is missing."""
    for step in path:
        if not has_step(node, step):
            return None
        node = node[step]
    return node if type(node) is YMap or type(node) is YSeq else None


def has_step(node: Any, step: str | int) -> bool:
    """Whether `node` (a mapping or list) holds `step`."""
    if type(node) is YMap:
        return step in node
    return type(node) is YSeq and type(step) is int and 0 <= step < len(node)


def _substitute(
    doc: Document,
    path: Path,
    text: str,
    environ: Mapping[str, str],
    problems: list[Problem],
    warnings: list[Problem] | None,
) -> str:
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
                    f"unsupported reference '{match.group(0)}': write ${{env:NAME}} (or ${{var:NAME}} in a webhook), "
                    "or $${ for a literal ${",
                    where=path,
                )
            )
            return ""
        name = reference.group(1)
        names.append(name)
        if name not in environ:
            failed = True
            if warnings is None:
                problems.append(doc.problem(path, f"environment variable '{name}' is not set", where=path))
            else:
                message = f"environment variable '{name}' is not set; the checks that need its value are skipped"
                warnings.append(doc.problem(path, message, where=path))
            return ""
        # contract §5: a value that came from the environment may be a credential; never print it anywhere.
        if scrubbed(path, text, name):
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


def scrubbed(path: Path, text: str, name: str) -> bool:
    """Whether the value of ${env:NAME} in `text` at `path` goes to the last-line scrubber (redact.py), which
    rewrites it wherever it appears, the tool's own words included. A webhook's url or description is masked
    by structure instead: the renderers know the field came from the environment and show `********` there
    (an env-sourced description "update" then never turns `0 to update` into `0 to ********`). Only a piece
    of a URL (a token in its path, `https://h/${env:TOKEN}/x`) is scrubbed too, as a credential that could
    reappear inside another live webhook's URL. Every other field (a token, a base_url, a store's settings)
    has no structural mask, so the scrubber keeps it out of output."""
    by_structure = len(path) >= 3 and path[-3] == "webhooks" and path[-1] in MASKED_FIELDS
    return not by_structure or (path[-1] == "url" and text != f"${{env:{name}}}")
